"""Fit problems built from the environments: replay, the points to score at, and the exact eigenpairs there.

The harness (:mod:`rlspectral.harness`) takes a :class:`~rlspectral.harness.Problem` and knows no environment.
"""

from __future__ import annotations

import numpy as np
import torch

from rlspectral.buffer import EpisodicBuffer
from rlspectral.envs.gridworld import load_grid
from rlspectral.envs.pointmaze import maze_map, maze_reference, random_policy_positions
from rlspectral.envs.replay import random_walk_buffer
from rlspectral.envs.spectra import transition_eigenpairs
from rlspectral.harness import Problem

# reference modes past k for PointMaze, so that a tie at the cut-off (UMaze: modes 8 and 9) is scored as one space
REFERENCE_EXTRA = 4


def gridworld_problem(layout: str, obs: str, k: int, episodes: int, episode_length: int, seed: int) -> Problem:
    """Random-walk replay on a text-layout gridworld (uniform start), scored at every free cell against the top
    ``k`` eigenpairs of its transition matrix P."""
    grid = load_grid(layout)
    k = min(k, grid.n)
    vals, vecs = transition_eigenpairs(grid, k)
    buffer = random_walk_buffer(grid, obs, episodes, episode_length, seed=seed)
    X = torch.from_numpy(grid.observations(obs))
    info = {"layout": layout, "k": k, "n_states": grid.n}
    return Problem(buffer, X, vals, vecs, grid.to_image, info)


def pointmaze_problem(env_id: str, k: int, episodes: int, resolution: int, seed: int) -> tuple[Problem, float]:
    """Random-policy positions of the PointMaze ball, scored at the sub-cell centres against the fine-grid
    reference of :func:`~rlspectral.envs.pointmaze.maze_reference` (``k + REFERENCE_EXTRA`` modes); also the
    maze's half-width in world units (to scale Fourier features)."""
    walls, scaling = maze_map(env_id)
    ref = maze_reference(walls, scaling, resolution, k + REFERENCE_EXTRA)
    episodes_xy = random_policy_positions(env_id, episodes, seed=seed)
    buffer = EpisodicBuffer(sum(len(e) for e in episodes_xy), (2,))
    for ep in episodes_xy:
        buffer.add_episode(ep)
    half_width = float(np.abs(ref.points).max()) + 0.5 * scaling / resolution
    X = torch.from_numpy(ref.points.astype(np.float32))
    info = {"layout": env_id, "k": k, "n_states": len(ref.points), "replay_states": len(buffer)}
    return Problem(buffer, X, ref.values, ref.vectors, ref.grid.to_image, info), half_width
