"""Experiments composed from an environment's problem and the harness: the gridworld and PointMaze fits.

``rlspectral fit`` and the benchmark scripts run these; every method goes through the same replay, network, budget
and metric (:func:`rlspectral.harness.fit_and_score`). This module sits above the core (it knows the environments),
beside the command line.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from rlspectral.config import check_choice, check_int
from rlspectral.errors import ConfigError
from rlspectral.harness import FitConfig, check_device, fit_and_score


@dataclass
class GridFitConfig(FitConfig):
    """Defaults are the ones the benchmark uses on every layout (no per-layout tuning)."""

    layout: str = "GridRoom-4"
    obs: str = "xy"
    episodes: int = 50_000
    episode_length: int = 50
    dedup: bool = True  # one forward pass per distinct state in a batch (same values and gradients)
    realign_every: int = 100  # SpectralLearner.realign: separates modes of near-equal eigenvalues (nested methods)
    extra_modes: int = 3  # learn k + extra_modes modes (every method), score the top k: oversampling as in subspace
    # iteration, so the k-th mode is not left alone to separate from the (k+1)-th across a tiny eigengap

    def __post_init__(self) -> None:
        super().__post_init__()
        check_choice(self, "obs", ("xy", "onehot", "pixels"))
        check_int(self, 1, "episodes", "episode_length")
        check_int(self, 0, "extra_modes")


def fit_gridworld(cfg: GridFitConfig, out: str | Path | None = None, progress: bool = True) -> dict[str, Any]:
    """Run one gridworld fit; with ``out`` write metrics.json, eigenfunctions.png, TensorBoard logs and model.pt."""
    from rlspectral.envs.problems import gridworld_problem

    check_device(cfg.device)
    if cfg.threads:
        torch.set_num_threads(cfg.threads)
    problem = gridworld_problem(cfg.layout, cfg.obs, cfg.k, cfg.episodes, cfg.episode_length, cfg.seed)
    k = problem.info["k"]
    learned = min(k + cfg.extra_modes, problem.info["n_states"])
    problem.info.update(method=cfg.method, learned_modes=learned)
    ff = cfg.fourier_features if cfg.obs == "xy" else 0
    lcfg = cfg.learner_config(problem.buffer.obs_shape, learned, ff, cfg.fourier_scale, dedup=cfg.dedup)
    return fit_and_score(
        problem, lcfg, cfg.to_dict(), cfg.batch_size, cfg.eval_every, out, progress, device=cfg.device, k=k
    )


@dataclass
class MazeFitConfig(FitConfig):
    """Defaults used for every maze (no per-maze tuning). ``successor:0.9`` (a ~10-step horizon): a random-action
    ball moves ~0.014 cells per step and ~1 cell in 100 steps, but at longer horizons the higher modes' eigenvalues
    sink towards the estimation noise (tabular estimate from the same replay, UMaze: mean cosine 0.94 at lag 10,
    0.60 at lag 100, ``python -m scripts.pointmaze_binned``). One-seed UMaze fits at 2000 steps gave RR cosine
    0.73 / 0.80 / 0.71 / 0.65 for successor:L with L = 0.8 / 0.9 / 0.97 / 0.99. Inputs are the world (x, y); the
    Fourier scale is divided by the maze's half-width, i.e. the frequencies are those of the gridworld fits on
    [-1, 1]."""

    env_id: str = "PointMaze_UMaze-v3"
    k: int = 8
    steps: int = 3000
    batch_size: int = 1024
    hidden: tuple[int, ...] = (256, 256)
    episodes: int = 200
    resolution: int = 8

    def __post_init__(self) -> None:
        super().__post_init__()
        check_int(self, 1, "episodes", "resolution")


def fit_pointmaze(cfg: MazeFitConfig, out: str | Path | None = None, progress: bool = True) -> dict[str, Any]:
    """Collect random-policy positions, fit, score against the fine-grid reference; files as :func:`fit_gridworld`."""
    from rlspectral.envs.problems import pointmaze_problem

    check_device(cfg.device)
    if cfg.threads:
        torch.set_num_threads(cfg.threads)
    problem, half_width = pointmaze_problem(cfg.env_id, cfg.k, cfg.episodes, cfg.resolution, cfg.seed)
    problem.info.update(method=cfg.method)
    lcfg = cfg.learner_config((2,), cfg.k, cfg.fourier_features, cfg.fourier_scale / half_width)
    return fit_and_score(problem, lcfg, cfg.to_dict(), cfg.batch_size, cfg.eval_every, out, progress)


def published_settings(method: str) -> dict[str, Any]:
    """The :class:`GridFitConfig` fields of ``method``'s published training settings
    (:data:`rlspectral.baselines.PUBLISHED`); the budget (steps), seed and k stay the caller's."""
    from rlspectral.baselines import PUBLISHED

    if method not in PUBLISHED:
        raise ConfigError.invalid("method", method, f"--preset published exists for {', '.join(PUBLISHED)}")
    p = PUBLISHED[method]
    keys = ("lr", "schedule", "batch_size", "operator", "fourier_features", "extra_modes", "realign_every",
            "episode_length", "objective_kwargs")  # fmt: skip
    out = {key: p[key] for key in keys}
    out["hidden"] = tuple(p["hidden"])
    out["episodes"] = p["transitions"] // p["episode_length"]
    return out


def published_at_pairs(method: str, steps: int) -> dict[str, Any]:
    """:func:`published_settings` with ``steps`` rescaled so that the fit sees the pairs (steps x batch) of
    ``steps`` default-batch steps: the authors' settings at this package's pairs budget."""
    out = published_settings(method)
    out["steps"] = steps * GridFitConfig().batch_size // out["batch_size"]
    return out
