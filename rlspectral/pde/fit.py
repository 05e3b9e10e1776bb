"""One PDE fit end to end: config -> proposal, network, :class:`PDELearner` -> training -> quadrature scores -> model.

:func:`fit_pde` is what ``rlspectral fit-pde`` and ``scripts/pde_benchmark.py`` run; with ``out`` it writes
``metrics.json``, ``eigenfunctions.png`` (2D: learned vs exact; 3D: the z = 0 slice), ``model.pt``
(:class:`~rlspectral.pde.model.PDEModel`) and TensorBoard scalars under ``tb/``.
"""

from __future__ import annotations

import json
import math
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from rlspectral.config import check, check_choice, check_int, config_dict, is_real
from rlspectral.learner import LearnerConfig
from rlspectral.pde.evaluation import alignment, galerkin, quadrature, score
from rlspectral.pde.learner import ROUTES, PDELearner, ProposalSampler
from rlspectral.pde.model import PDEModel
from rlspectral.pde.model import load as load_model
from rlspectral.pde.network import PDENetwork, PDENetworkConfig
from rlspectral.pde.proposals import GaussianProposal, RadialProposal
from rlspectral.pde.systems import System
from rlspectral.seeding import seeded

PDE_METHODS = ("nested-lora", "nested-lora-seq", "nested-omm", "neuralef")


@dataclass
class PDEFitConfig:
    """One fit; a bad field is a one-line ConfigError naming it (the CLI reports it under the flag)."""

    system: str = "hydrogen"
    dim: int = 2
    charge: float = 1.0
    omega: tuple[float, ...] = ()
    kinetic: float = 0.5
    modes: int = 16
    extra_modes: int = 4  # learn modes + N functions, score the first ``modes`` (Ritz order after the last step)
    method: str = "nested-lora"
    steps: int = 20000
    batch_size: int = 1024  # 512 -> 1024 on 2D hydrogen seed 1 (dev): n = 4 shell cosine 0.985 -> 0.994
    lr: float = 2e-3
    schedule: str = "cosine"
    hidden: tuple[int, ...] = (64, 64, 64)
    route: str = "tangent"
    shift: float | None = None  # c of c - H (default: System.default_shift)
    scale: float | None = None  # s of (c - H) / s (default: c - E_1)
    proposal_scale: float = 1.0  # multiplies the default proposal's scales
    realign_every: int = 0  # periodic Rayleigh-Ritz steps on the running (EMA) moments: off (they hurt here)
    final_realign_batches: int = 100  # a last Rayleigh-Ritz step on this many fresh batches (0: none)
    eval_every: int = 0  # quadrature scores to TensorBoard / history every N steps (0: at the end only)
    init: str = ""  # a model.pt to start from (same system kind, dim and modes)
    seed: int = 0

    def __post_init__(self) -> None:
        self.omega = tuple(self.omega)
        self.hidden = tuple(self.hidden)
        self.physical()  # checks system, dim, charge, omega, kinetic
        check_choice(self, "method", PDE_METHODS)
        check_choice(self, "route", ROUTES)
        check_choice(self, "schedule", ("constant", "cosine"))
        check_int(self, 1, "steps", "batch_size")
        check_int(self, 0, "realign_every", "final_realign_batches", "eval_every", "extra_modes")
        check(is_real(self.lr) and self.lr > 0, "lr", self.lr, "pass a learning rate > 0")
        ok = is_real(self.proposal_scale) and self.proposal_scale > 0
        check(ok, "proposal_scale", self.proposal_scale, "pass a factor > 0")
        check(self.shift is None or is_real(self.shift), "shift", self.shift, "pass a number")
        check(self.scale is None or (is_real(self.scale) and self.scale > 0), "scale", self.scale, "pass a scale > 0")
        system = self.physical()
        system.check_modes(self.modes)
        n = len(system.states)
        check(
            self.modes + self.extra_modes <= n, "extra_modes", self.extra_modes, f"modes + extra_modes must be <= {n}"
        )
        system.check_modes(self.modes, self.c)
        check(self.batch_size >= 4, "batch_size", self.batch_size, "pass at least 4 (independent chunks)")

    def physical(self) -> System:
        return System(kind=self.system, dim=self.dim, charge=self.charge, omega=self.omega, kinetic=self.kinetic)

    @property
    def c(self) -> float:
        """The shift c: ``--shift``, else System.default_shift of the scored modes (hydrogen: 2 |E_k|) or, for the
        oscillator, of all learned ones (c above every learned state's shell, so no learned mode sits at zero)."""
        if self.shift is not None:
            return float(self.shift)
        system = self.physical()
        return system.default_shift(self.modes + (self.extra_modes if system.kind == "oscillator" else 0))

    @property
    def s(self) -> float:
        return float(self.scale) if self.scale is not None else self.c - self.physical().states[0].energy

    def to_dict(self) -> dict[str, Any]:
        return config_dict(self)


def build_proposal(system: System, k: int, factor: float = 1.0):
    """Hydrogen: the radial Gamma mixture with one component per shell up to the k-th state's (mean radius of the
    shell); oscillator: a Gaussian with ``std_a = sqrt((n_a + 1) / alpha_a)``, n_a the largest quantum number on
    axis a among the k states."""
    if system.kind == "hydrogen":
        n_max = system.states[k - 1].numbers[0]
        d = system.dim
        return RadialProposal(d, [factor * (2 * (n - 1) + d) / system.decay(n) / (d - 1) for n in range(1, n_max + 1)])
    top = [max(s.numbers[a] for s in system.states[:k]) for a in range(system.dim)]
    return GaussianProposal([factor * math.sqrt((n + 1) / al) for n, al in zip(top, system.alpha)])


def network_config(cfg: PDEFitConfig, system: System) -> PDENetworkConfig:
    """Envelopes matched to the system: Coulomb exp(-a r) with a spanning the shells' decays beta_n / 2 (x 1/2 .. 2),
    oscillator exp(-a r^2) spanning alpha_a / 2."""
    k = cfg.modes
    k_total = k + cfg.extra_modes
    if system.kind == "hydrogen":
        n_max = system.states[k - 1].numbers[0]
        lo, hi, env = system.decay(n_max) / 4, system.decay(1), "exp"
    else:
        lo, hi, env = float(system.alpha.min()) / 4, float(system.alpha.max()), "gauss"
    return PDENetworkConfig(system.dim, k_total, cfg.hidden, env, system.length_scale(k), lo, hi)


def make_learner(cfg: PDEFitConfig, log_dir: str | Path | None = None) -> PDELearner:
    system = cfg.physical()
    lcfg = LearnerConfig(
        obs_shape=(system.dim,), k=cfg.modes + cfg.extra_modes, method=cfg.method, operator="transition", svd=False,
        hidden=(8,), lr=cfg.lr, schedule=cfg.schedule, total_steps=cfg.steps, realign_every=cfg.realign_every,
        final_realign_batches=cfg.final_realign_batches, seed=cfg.seed, divergence_limit=1e8,
    )  # fmt: skip
    with seeded(cfg.seed):
        net = PDENetwork(network_config(cfg, system))
    if cfg.init:
        model = load_model(cfg.init)
        check(model.network.config == net.config, "init", cfg.init, "a model of the same system, dim, modes, hidden")
        net.load_state_dict(model.network.state_dict())
    return PDELearner(lcfg, system, net, shift=cfg.c, scale=cfg.s, route=cfg.route, log_dir=log_dir)


def fit_pde(cfg: PDEFitConfig, out: str | Path | None = None, progress: bool = False) -> dict[str, Any]:
    """Train, score by quadrature, and (with ``out``) write the outputs of the module doc; returns the metrics."""
    system = cfg.physical()
    out = Path(out) if out is not None else None
    learner = make_learner(cfg, log_dir=(out / "tb") if out is not None else None)
    sampler = ProposalSampler(build_proposal(system, cfg.modes, cfg.proposal_scale), seed=cfg.seed + 1)
    nodes = quadrature(system, cfg.modes)

    def evaluate(lrn: PDELearner) -> dict[str, float]:
        s = score(lrn.f, system, cfg.modes, nodes)
        return {"mean_relative_error": s["mean_relative_error"], "min_shell_cosine": s["min_shell_cosine"]}

    t0 = time.perf_counter()
    history = learner.fit(sampler, cfg.steps, cfg.batch_size, progress, evaluate if cfg.eval_every else None,
                          cfg.eval_every)  # fmt: skip
    if cfg.final_realign_batches and not cfg.realign_every:  # (with realign_every, fit() ends in one already)
        learner.refresh_moments(sampler, batches=cfg.final_realign_batches, batch_size=cfg.batch_size)
        learner.final_realign()
    wall = time.perf_counter() - t0
    metrics = score(learner.f, system, cfg.modes, nodes)
    mc, exact = np.sort(learner.energies)[: cfg.modes], system.energies(cfg.modes)
    metrics.update(
        {
            "mc_energies": mc.tolist(),
            "mc_mean_relative_error": float(np.mean(np.abs(mc - exact) / np.abs(exact))),
            "steps": learner.step,
            "wall_time_s": wall,
            "steps_per_s": learner.step / max(wall, 1e-9),
            "shift": cfg.c,
            "scale": cfg.s,
            "threads": torch.get_num_threads(),
            "history": history,
            "config": cfg.to_dict(),
        }
    )
    if learner.writer is not None:
        learner.log_scalars({"final_mean_relative_error": metrics["mean_relative_error"]})
        learner.writer.close()
    if out is not None:
        out.mkdir(parents=True, exist_ok=True)
        model = PDEModel(system, learner.f, np.asarray(metrics["energies"]), np.asarray(metrics["order"]),
                         np.asarray(metrics["norms"]), {"config": cfg.to_dict()})  # fmt: skip
        model.save(out / "model.pt")
        (out / "metrics.json").write_text(json.dumps(metrics, indent=1))
        plot_eigenfunctions(out / "eigenfunctions.png", learner.f, system, cfg.modes, nodes, metrics)
    return metrics


def plot_eigenfunctions(path: Path, net, system: System, k: int, nodes, metrics: dict, size: int = 81) -> Path:
    """Learned (normalized, rotated onto the exact basis inside each shell) vs exact eigenfunctions on a square
    through the origin: the plane of the first two axes (3D: the slice z = 0)."""
    from rlspectral.plots import save_eigenfunctions

    x, w = nodes
    F, _, _ = galerkin(net, system, x, w)
    A = alignment(F, system, k, x, w, metrics)
    half = 2.2 * system.length_scale(k)
    g = np.linspace(-half, half, size)
    X, Y = np.meshgrid(g, g, indexing="xy")
    pts = np.zeros((size * size, system.dim))
    pts[:, 0], pts[:, 1] = X.ravel(), Y.ravel()
    with torch.no_grad():
        learned = net(torch.from_numpy(pts).float()).double().numpy()[:, metrics["order"]] @ A
    exact = system.eigenfunctions(pts, k)
    show = min(k, 16)
    rows = {"learned": [learned[:, i].reshape(size, size)[::-1] for i in range(show)],
            "exact": [exact[:, i].reshape(size, size)[::-1] for i in range(show)]}  # fmt: skip
    titles = [f"{system.states[i].numbers} E={metrics['energies'][i]:.4g}" for i in range(show)]
    save_eigenfunctions(path, rows, titles)
    return path
