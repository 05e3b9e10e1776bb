"""KoopmanFitModel: what a trajectory fit leaves a user (deeptime's *model*); it saves and loads on its own.

A fit (:func:`rlspectral.koopman.fit_trajectories`, ``rlspectral fit-traj``) ends in this object: the networks
psi = f (and g, the x_{t+tau} network of an SVD), the input standardization ``z = (x - mean) / scale`` they expect,
and the Koopman model on psi (:class:`KoopmanModel`: the matrix ``K = C00^-1 C01``, or the generator's
``M^-1 L``, by its eigenvalues and eigenvectors). ``eigenfunctions(x) = psi(z) W`` (``transform``),
``timescales()``, ``scores(x0, x1)`` (VAMP-2 / VAMP-E) and ``predict`` work on new states.

:meth:`KoopmanFitModel.save` writes plain tensors, numbers and dicts (loadable with ``torch.load(...,
weights_only=True)``); :func:`load` reads them back, and any problem with the file is one :class:`CheckpointError`.
Keys: ``format``, ``version``, ``method``, ``lag``, ``dt``, ``beta``, ``shift``, ``config`` (TrajFitConfig),
``learner_config`` (LearnerConfig), ``f``, ``g`` (state dicts; g None for one network), ``mean``, ``scale``,
``koopman`` (``values``, ``W``, ``W_inv``, ``gram``, ``lag_time``, ``rates``, ``matrix``, ``generator``, ``offset``,
``readout``) and
``train_cov`` (``C00``, ``C01``, ``C11`` of the training pairs, for VAMP-E).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from rlspectral.errors import CheckpointError, SpectralError
from rlspectral.koopman.config import TrajFitConfig
from rlspectral.koopman.estimators import Covariances, KoopmanModel, covariances, vamp2_score, vamp_e_score
from rlspectral.learner import LearnerConfig, load_state, save_state
from rlspectral.networks import EigenNetwork

FORMAT = "rlspectral-koopman-fit"
VERSION = 1


def network_features(
    net: nn.Module, x: np.ndarray, mean: np.ndarray, scale: np.ndarray, batch: int = 65536
) -> np.ndarray:
    """``net((x - mean) / scale)`` at states ``x [n, d]``, in batches, float64 ``[n, k]``."""
    z = torch.from_numpy(((np.asarray(x, dtype=np.float64) - mean) / scale).astype(np.float32))
    device = next(net.parameters()).device
    with torch.no_grad():
        out = [net(z[i : i + batch].to(device)).double().cpu() for i in range(0, max(len(z), 1), batch)]
    return torch.cat(out).numpy()


@dataclass
class KoopmanFitModel:
    """A fitted Koopman / generator model on learned features (module doc). ``f``, ``g`` are the trained networks
    (shared with the learner when made by :meth:`TrajFit.fetch_model`); ``koopman`` the matrix-level model."""

    config: TrajFitConfig
    learner_config: LearnerConfig
    f: nn.Module
    g: nn.Module | None
    mean: np.ndarray
    scale: np.ndarray
    koopman: KoopmanModel
    train_cov: Covariances | None = None

    # ----------------------------------------------------------------- the fit's constants
    @property
    def method(self) -> str:
        return self.config.method

    @property
    def lag_time(self) -> float:
        """``tau = lag * dt``, the lag in time units."""
        return self.koopman.lag_time

    @property
    def values(self) -> np.ndarray:
        """Transfer eigenvalues ``mu_i`` at the lag, sorted by decreasing real part (mode 0: the constant)."""
        return self.koopman.values

    @property
    def rates(self) -> np.ndarray | None:
        """Generator eigenvalues ``lambda_i`` (generator fits), else None."""
        return self.koopman.rates

    def timescales(self) -> np.ndarray:
        """Implied timescales ``t_i = -tau / ln mu_i`` (``-1 / lambda_i`` for a generator), NaN for mode 0."""
        return self.koopman.timescales()

    # ----------------------------------------------------------------- functions of new states
    def features(self, x: np.ndarray, which: str = "f") -> np.ndarray:
        """Learned functions psi at states ``x [n, d]``: ``f`` (or ``g``, the x_{t+tau} network of an SVD)."""
        net = self.f if which == "f" or self.g is None else self.g
        return network_features(net, x, self.mean, self.scale)

    def eigenfunctions(self, x: np.ndarray) -> np.ndarray:
        """``phi(x) = psi(x) W``: the model's eigenfunctions, orthonormal in L2(rho) for reversible / generator
        models, in the order of :attr:`values`."""
        return self.koopman.eigenfunctions(self.features(x))

    transform = eigenfunctions  # deeptime's name

    def scores(self, x0: np.ndarray, x1: np.ndarray) -> dict[str, float]:
        """VAMP-2 of the learned pair (f, g) on pairs ``(x0, x1)`` and VAMP-E of the training model on them."""
        test = covariances(self.features(x0), self.features(x1, "g"))
        scores = {"vamp2": vamp2_score(*test)}
        if self.train_cov is not None:
            scores["vamp_e"] = vamp_e_score(self.train_cov, test)
        return scores

    def project(self, x: np.ndarray, h: np.ndarray) -> np.ndarray:
        """Least-squares coefficients ``b`` of observable values ``h [n, m]`` at states ``x`` (samples of rho)."""
        return self.koopman.project(self.features(x, self.koopman.readout), h)

    def predict(self, x0: np.ndarray, b: np.ndarray, n: int) -> np.ndarray:
        """The model's ``E[h(x_{t + n tau}) | x_t = x0] = psi(x0)^T K^n b``."""
        return self.koopman.predict(self.features(x0), b, n)

    # ----------------------------------------------------------------- save / load
    def state_dict(self) -> dict[str, Any]:
        """Plain tensors, numbers and dicts (module doc for the keys)."""
        m, cfg = self.koopman, self.config
        generator = None if m.rates is None else torch.from_numpy(np.real((m.W * m.rates) @ m.W_inv))
        return {
            "format": FORMAT,
            "version": VERSION,
            "method": cfg.method,
            "lag": cfg.lag,
            "dt": cfg.dt,
            "beta": cfg.beta,
            "shift": cfg.shift,
            "config": cfg.to_dict(),
            "learner_config": self.learner_config.to_dict(),
            "f": _cpu(self.f.state_dict()),
            "g": None if self.g is None else _cpu(self.g.state_dict()),
            "mean": torch.from_numpy(np.asarray(self.mean, dtype=np.float64)),
            "scale": torch.from_numpy(np.asarray(self.scale, dtype=np.float64)),
            "koopman": {
                "values": torch.from_numpy(np.asarray(m.values)),
                "W": torch.from_numpy(np.asarray(m.W)),
                "W_inv": torch.from_numpy(np.asarray(m.W_inv)),
                "gram": torch.from_numpy(np.asarray(m.gram)),
                "lag_time": float(m.lag_time),
                "rates": None if m.rates is None else torch.from_numpy(np.asarray(m.rates)),
                "matrix": torch.from_numpy(m.matrix),
                "generator": generator,
                "offset": int(m.offset),
                "readout": m.readout,
            },
            "train_cov": None
            if self.train_cov is None
            else {name: torch.from_numpy(np.asarray(c)) for name, c in zip(("C00", "C01", "C11"), self.train_cov)},
        }

    def save(self, path: str | Path) -> Path:
        """Write :meth:`state_dict` to ``path`` (atomically: never a half-written file)."""
        return save_state(self.state_dict(), path)

    @classmethod
    def from_state_dict(cls, state: dict[str, Any], source: str = "state dict") -> KoopmanFitModel:
        """Rebuild from :meth:`state_dict`; a missing key or a mismatched tensor is one :class:`CheckpointError`."""
        if not isinstance(state, dict) or state.get("format") != FORMAT:
            raise CheckpointError(f"{source}: not an rlspectral Koopman fit (saved by KoopmanFitModel.save?)")
        if state.get("version") != VERSION:
            raise CheckpointError(f"{source}: Koopman fit version {state.get('version')} is not {VERSION}")
        try:
            config = TrajFitConfig(**state["config"])
            lcfg = LearnerConfig.from_dict(state["learner_config"])
            nets = {}
            with torch.random.fork_rng(devices=[]):  # building the networks draws initial weights: keep the RNG
                for name in ("f", "g"):
                    if state[name] is not None:
                        nets[name] = EigenNetwork(lcfg.network_config())
                        nets[name].load_state_dict(state[name])
                        nets[name].eval()
            k = state["koopman"]
            rates = k["rates"]
            koopman = KoopmanModel(
                values=k["values"].numpy(),
                W=k["W"].numpy(),
                W_inv=k["W_inv"].numpy(),
                gram=k["gram"].numpy(),
                lag_time=float(k["lag_time"]),
                rates=None if rates is None else rates.numpy(),
                offset=int(k.get("offset", 0)),
                readout=str(k.get("readout", "f")),
            )
            cov = state["train_cov"]
            train_cov = None if cov is None else (cov["C00"].numpy(), cov["C01"].numpy(), cov["C11"].numpy())
            mean, scale = state["mean"].numpy(), state["scale"].numpy()
            model = cls(config, lcfg, nets["f"], nets.get("g"), mean, scale, koopman, train_cov)
        except (KeyError, TypeError, ValueError, RuntimeError, AttributeError, SpectralError) as e:
            first = str(e).strip().splitlines()[0][:160] if str(e).strip() else type(e).__name__
            raise CheckpointError(f"{source}: the Koopman fit is incomplete or inconsistent ({first})") from None
        return model


def load(path: str | Path) -> KoopmanFitModel:
    """Load a :class:`KoopmanFitModel` written by :meth:`KoopmanFitModel.save` (``fit-traj``'s ``model.pt``);
    any problem is one :class:`CheckpointError` line."""
    return KoopmanFitModel.from_state_dict(load_state(path, "Koopman fit"), str(path))


def _cpu(state: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    return {name: t.detach().cpu() for name, t in state.items()}
