"""The trajectory-fit pipeline: trajectories -> time-lagged pairs -> a learner -> a Koopman model on its features.

Every method of :data:`TRAJ_METHODS` (NestedLoRA SVD / EVD, the Dirichlet-form generator, VAMPnet, DPNet) sees the
same data, network and budget; all eigenvalues come from the same estimators (:mod:`rlspectral.koopman.estimators`):
the Koopman matrix on the learned functions from ``eval_pairs`` training pairs, or the generator's Galerkin
matrices on stationary states. :meth:`TrajFit.fetch_model` returns the saveable :class:`KoopmanFitModel`.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import Tensor

from rlspectral import distributed
from rlspectral.buffer import EpisodicBuffer, PairSampler
from rlspectral.errors import ConfigError, SpectralError
from rlspectral.koopman.config import TrajFitConfig
from rlspectral.koopman.estimators import (
    Covariances,
    KoopmanModel,
    covariances,
    generator_model,
    koopman_model,
    select_rank,
    singular_values,
    svd_koopman_model,
    vamp2_score,
    vamp_e_score,
)
from rlspectral.koopman.generator import GeneratorLearner
from rlspectral.koopman.model import KoopmanFitModel, network_features
from rlspectral.koopman.validation import BestOnHeldOut
from rlspectral.learner import LearnerConfig, SpectralLearner


class StateSampler:
    """Uniform batches of stored states: ``sampler(n) -> (x, None)`` (stationary samples for the generator)."""

    def __init__(self, states: Tensor, seed: int | None = None):
        self.states = states
        self.gen = torch.Generator().manual_seed(seed if seed is not None else 0)

    def __call__(self, batch_size: int) -> tuple[Tensor, None]:
        idx = torch.randint(0, self.states.shape[0], (batch_size,), generator=self.gen)
        return self.states[idx], None


def as_trajectories(data: np.ndarray | Sequence[np.ndarray]) -> list[np.ndarray]:
    """``[T, d]`` -> one trajectory, ``[n_traj, T, d]`` or a list of ``[T_i, d]`` -> trajectories (float32)."""
    if isinstance(data, np.ndarray):
        if data.ndim == 2:
            return [data.astype(np.float32)]
        if data.ndim == 3:
            return [t.astype(np.float32) for t in data]
        raise SpectralError(f"trajectories must be [T, d] or [n_traj, T, d], got shape {list(data.shape)}")
    return [np.asarray(t, dtype=np.float32) for t in data]


def lagged_pairs(trajs: Sequence[np.ndarray], lag: int, n: int | None, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """All (or ``n`` random, without replacement) pairs ``(x_t, x_{t+lag})`` within trajectories."""
    x0 = np.concatenate([t[:-lag] for t in trajs if len(t) > lag])
    x1 = np.concatenate([t[lag:] for t in trajs if len(t) > lag])
    if n is not None and n < len(x0):
        idx = np.random.default_rng(seed).choice(len(x0), size=n, replace=False)
        x0, x1 = x0[idx], x1[idx]
    return x0, x1


@dataclass
class TrajFit:
    """The estimator's result: the trained learner, its Koopman model, the input transform the network expects,
    and the training pairs behind the model (for :meth:`project`). :meth:`fetch_model` is what a user keeps."""

    config: TrajFitConfig
    learner: SpectralLearner
    model: KoopmanModel
    mean: np.ndarray
    scale: np.ndarray
    stats: dict[str, Any] = field(default_factory=dict)
    states: np.ndarray | None = field(default=None, repr=False)  # training states behind the model
    basis: np.ndarray | None = field(default=None, repr=False)  # the model's readout features at those states
    train_cov: Covariances | None = field(default=None, repr=False)

    def features(self, x: np.ndarray, which: str = "f", batch: int = 65536) -> np.ndarray:
        """Learned functions at states ``x [n, d]``: ``f`` (or ``g``, the x_{t+tau} network of an SVD), float64."""
        net = self.learner.f if which == "f" or self.learner.g is None else self.learner.g
        return network_features(net, x, self.mean, self.scale, batch)

    def eigenfunctions(self, x: np.ndarray) -> np.ndarray:
        """The model's eigenfunctions ``phi = psi W`` at ``x``, orthonormal in L2(rho), sorted by value."""
        return self.model.eigenfunctions(self.features(x))

    def scores(self, x0: np.ndarray, x1: np.ndarray) -> dict[str, float]:
        """VAMP-2 and VAMP-E of the learned pair (f, g) on pairs (x0, x1) (e.g. held-out trajectories);
        VAMP-E's model comes from the training pairs."""
        test = covariances(self.features(x0), self.features(x1, "g"))
        assert self.train_cov is not None
        return {"vamp2": vamp2_score(*test), "vamp_e": vamp_e_score(self.train_cov, test)}

    def project(self, observable: Callable[[np.ndarray], np.ndarray]) -> np.ndarray:
        """Coefficients ``b`` of ``observable`` on the model's readout features (f, or g for the truncated-SVD
        model), from the training states (for :meth:`predict`)."""
        assert self.states is not None and self.basis is not None
        return self.model.project(self.basis, observable(self.states))

    def predict(self, x0: np.ndarray, b: np.ndarray, n: int) -> np.ndarray:
        """The model's ``E[h(x_{t + n tau}) | x_t = x0]`` for coefficients ``b`` from :meth:`project`."""
        return self.model.predict(self.features(x0), b, n)

    def fetch_model(self) -> KoopmanFitModel:
        """The saveable model (deeptime's ``fetch_model``): networks (shared with the learner, not copied), input
        standardization, Koopman model and training covariances; ``fetch_model().save(path)`` writes the artifact
        that :func:`rlspectral.koopman.load` reads."""
        learner = self.learner
        return KoopmanFitModel(
            self.config, learner.config, learner.f, learner.g, self.mean, self.scale, self.model, self.train_cov
        )


def learner_config(cfg: TrajFitConfig, d: int) -> LearnerConfig:
    """The :class:`LearnerConfig` of a trajectory fit on ``d``-dimensional states (the generator: NestedLoRA EVD)."""
    generator = cfg.method == "generator"
    return LearnerConfig(
        obs_shape=(d,),
        k=cfg.k,
        method="nested-lora" if generator else cfg.method,
        operator=f"time-lag:{cfg.lag}",
        svd=False if generator else cfg.svd,
        hidden=tuple(cfg.hidden),
        fourier_features=cfg.fourier_features,
        fourier_scale=cfg.fourier_scale,
        constant_mode=True,
        lr=cfg.lr,
        schedule="cosine",
        total_steps=cfg.steps,
        seed=cfg.seed,
        objective_kwargs=dict(cfg.objective_kwargs),
    )


def fit_trajectories(
    train: np.ndarray | Sequence[np.ndarray],
    cfg: TrajFitConfig,
    progress: bool = False,
    valid: np.ndarray | Sequence[np.ndarray] | None = None,
    log_dir: str | Path | None = None,
) -> TrajFit:
    """Fit ``cfg.method`` on training trajectories; the Koopman model (whitening + small dense solve) comes
    from ``cfg.eval_pairs`` training pairs (or stationary states, for the generator); ``estimator="svd-rank"`` keeps
    the rank whose VAMP-E on the ``valid`` trajectories is best. With ``cfg.validate_every``, the fit ends with the
    networks whose VAMP-E on the ``valid`` trajectories was best (:class:`~rlspectral.koopman.validation.BestOnHeldOut`,
    scored every ``validate_every`` steps and at the end; ``stats["best_step"]``; the optimizer and the learner's
    running eigenvalue estimates stay those of the last step). ``valid`` is read only by these two options.
    ``log_dir``: TensorBoard scalars (loss, eigenvalue estimates, held-out VAMP-E when early stopping)."""
    trajs = as_trajectories(train)
    if cfg.validate_every and valid is None:
        raise ConfigError(
            f"validate_every={cfg.validate_every}: early stopping needs held-out trajectories; pass valid=..."
        )
    if cfg.estimator == "svd-rank" and valid is None:
        raise ConfigError("estimator=svd-rank: the rank is chosen on held-out trajectories; pass valid=...")
    held = as_trajectories(valid) if valid is not None else []
    if valid is not None and max((len(t) for t in held), default=0) <= cfg.lag:
        raise ConfigError(f"valid: no held-out trajectory is longer than lag={cfg.lag}; pass longer ones")
    dims = {t.shape[-1] for t in trajs} | {t.shape[-1] for t in held}
    if len(dims) > 1:
        raise ConfigError(f"valid: states of {sorted(dims)} coordinates; pass held-out trajectories like the training")
    longest = max((len(t) for t in trajs), default=0)
    if longest <= cfg.lag:
        raise ConfigError(f"lag={cfg.lag}: no trajectory is longer than the lag; pass a lag < {max(longest, 1)}")
    allx = np.concatenate(trajs).astype(np.float64)
    d = allx.shape[1]
    mean = allx.mean(0) if cfg.standardize else np.zeros(d)
    scale = allx.std(0) + 1e-12 if cfg.standardize else np.ones(d)
    buffer = EpisodicBuffer(len(allx), (d,))
    for t in trajs:
        buffer.add_episode(((t - mean) / scale).astype(np.float32))
    generator = cfg.method == "generator"
    lcfg = learner_config(cfg, d)
    seed = distributed.sampler_seed(cfg.seed + 1)  # under torchrun: a stream of its own per process
    if generator:
        learner: SpectralLearner = GeneratorLearner(lcfg, cfg.beta, cfg.shift, inv_scale=1.0 / scale, log_dir=log_dir)
        sampler: Any = StateSampler(buffer.obs[: buffer.size], seed=seed)
    else:
        learner = SpectralLearner(lcfg, log_dir=log_dir)
        sampler = PairSampler(buffer, learner.operator, seed=seed)
    distributed.attach(learner)  # data-parallel: moments and gradients reduced over the processes
    batch_size = distributed.local_batch(cfg.batch_size, learner.objective.splits)
    x0, x1 = lagged_pairs(trajs, cfg.lag, cfg.eval_pairs, seed=cfg.seed + 2)  # the model's pairs
    needs_valid = bool(cfg.validate_every) or cfg.estimator == "svd-rank"  # the two readers of `valid`
    held_pairs = lagged_pairs(held, cfg.lag, cfg.eval_pairs, seed=cfg.seed + 3) if needs_valid else None
    stopper = BestOnHeldOut((x0, x1), held_pairs, mean, scale) if cfg.validate_every else None  # type: ignore[arg-type]
    t0 = time.perf_counter()
    learner.fit(
        sampler, cfg.steps, batch_size, progress=progress and distributed.is_main(),
        callback=stopper, callback_every=cfg.validate_every,
    )  # fmt: skip
    if stopper is not None:
        if not stopper.history or stopper.history[-1][0] != learner.step:
            stopper(learner)
        stopper.restore(learner)
    wall = time.perf_counter() - t0
    fit = TrajFit(cfg, learner, None, mean, scale)  # type: ignore[arg-type]
    lag_time = cfg.lag * cfg.dt
    F0, F1 = fit.features(x0), fit.features(x1)
    t1 = time.perf_counter()
    G0, G1 = (fit.features(x0, "g"), fit.features(x1, "g")) if learner.g is not None else (F0, F1)
    fit.train_cov = covariances(F0, G1)
    if isinstance(learner, GeneratorLearner):
        states = np.concatenate([x0, x1])[: cfg.eval_pairs].astype(np.float64)
        z = torch.from_numpy(((states - mean) / scale).astype(np.float32))
        fit.model = generator_model(*learner.matrices(z), lag_time)
    elif cfg.estimator in ("svd", "svd-rank"):
        rank = None
        if cfg.estimator == "svd-rank":
            v0, v1 = held_pairs  # type: ignore[misc]
            rank = select_rank(fit.train_cov, covariances(fit.features(v0), fit.features(v1, "g")))
        fit.model = svd_koopman_model(F0, G1, F1, G0, lag_time, rank=rank)
    else:
        fit.model = koopman_model(F0, F1, lag_time, reversible=cfg.reversible)
    fit.states, fit.basis = x0, G0 if fit.model.readout == "g" else F0
    fit.stats = {
        "wall_time_s": wall,
        "post_time_s": time.perf_counter() - t1,
        "steps": learner.step,
        "steps_per_s": learner.step / max(wall, 1e-9),
        "raw_values": learner.eigenvalues.tolist(),
        "singular_values": singular_values(*fit.train_cov).tolist(),
        "vamp2_train": vamp2_score(*fit.train_cov),
        "modes": len(fit.model.values),
    }
    if stopper is not None:
        fit.stats.update(best_step=stopper.best_step, vamp_e_valid=[list(h) for h in stopper.history])
    if not all(math.isfinite(v) for v in fit.model.values.real):
        raise SpectralError("the Koopman model has non-finite eigenvalues: the learned features are degenerate")
    return fit
