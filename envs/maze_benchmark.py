"""Fit eigenfunctions of the agent's position on a PointMaze from random-policy replay, scored against the
fine-grid reference of :func:`envs.pointmaze.maze_reference` (the same harness as the gridworld fits)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from envs.benchmark import FitConfig, fit_and_score
from envs.pointmaze import maze_map, maze_reference, random_policy_positions
from rlspectral.buffer import EpisodicBuffer

REFERENCE_EXTRA = 4


@dataclass
class MazeFitConfig(FitConfig):
    """Defaults used for every maze (no per-maze tuning). ``successor:0.9`` (a ~10-step horizon): a random-action
    ball moves ~0.014 cells per step and ~1 cell in 100 steps, but at longer horizons the higher modes' eigenvalues
    sink towards the estimation noise (tabular estimate from the same replay, UMaze: mean cosine 0.94 at lag 10,
    0.60 at lag 100, ``scripts/pointmaze_binned.py``). One-seed UMaze fits at 2000 steps (``pointmaze_benchmark.py
    --mazes PointMaze_UMaze-v3 --methods nested-lora --seeds 1 --steps 2000 --operator successor:L``) gave RR
    cosine 0.73 / 0.80 / 0.71 / 0.65 for L = 0.8 / 0.9 / 0.97 / 0.99. Inputs are the world (x, y); the Fourier
    scale is divided by the maze's half-width, i.e. the frequencies are those of the gridworld fits on [-1, 1]."""

    env_id: str = "PointMaze_UMaze-v3"
    k: int = 8
    steps: int = 3000
    batch_size: int = 1024
    hidden: tuple[int, ...] = (256, 256)
    episodes: int = 200
    resolution: int = 8


def fit_pointmaze(cfg: MazeFitConfig, out: str | Path | None = None, progress: bool = True) -> dict[str, Any]:
    """Collect random-policy positions, fit, score against the reference; files as :func:`fit_gridworld`."""
    if cfg.threads:
        torch.set_num_threads(cfg.threads)
    walls, scaling = maze_map(cfg.env_id)
    # a few modes past k, so that a tie at the cut-off (UMaze: modes 8 and 9) is scored as one eigenspace
    ref = maze_reference(walls, scaling, cfg.resolution, cfg.k + REFERENCE_EXTRA)
    episodes = random_policy_positions(cfg.env_id, cfg.episodes, seed=cfg.seed)
    buffer = EpisodicBuffer(sum(len(e) for e in episodes), (2,))
    for ep in episodes:
        buffer.add_episode(ep)
    half_width = float(np.abs(ref.points).max()) + 0.5 * scaling / cfg.resolution
    lcfg = cfg.learner_config((2,), cfg.k, cfg.fourier_features, cfg.fourier_scale / half_width)
    info = {"layout": cfg.env_id, "method": cfg.method, "k": cfg.k, "n_states": len(ref.points),
            "replay_states": len(buffer)}  # fmt: skip
    config = cfg.to_dict()
    X = torch.from_numpy(ref.points.astype(np.float32))
    return fit_and_score(
        lcfg, buffer, X, ref.values, ref.vectors, ref.grid.to_image, info, config, cfg.batch_size, cfg.eval_every,
        out, progress,
    )  # fmt: skip
