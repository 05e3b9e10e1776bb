"""Gymnasium-Robotics PointMaze (optional extra ``rlspectral[robotics]``) and its reference spectrum.

Reference: the maze's free cells are cut into ``resolution x resolution`` sub-cells and the uniform random walk
on that fine grid (blocked moves stay put, as in :class:`~rlspectral.envs.gridworld.Grid`) approximates the diffusion on
the free space with reflecting walls; its leading transition eigenvectors approximate the Neumann Laplacian's
lowest eigenfunctions (the Laplacian representation, docs/design.md). Points are the sub-cell centres in the maze's
world (x, y) coordinates, the ones PointMaze reports as ``achieved_goal``.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import gymnasium as gym
import numpy as np

from rlspectral.envs.gridworld import Grid
from rlspectral.envs.spectra import transition_eigenpairs
from rlspectral.errors import SpectralError

ROBOTICS_PREFIXES = ("PointMaze", "AntMaze", "Fetch", "HandManipulate", "Adroit", "FrankaKitchen")


def needs_robotics(env_id: str) -> bool:
    """Whether ``env_id`` comes from Gymnasium-Robotics."""
    return env_id.startswith(ROBOTICS_PREFIXES)


def require_robotics() -> None:
    """Import Gymnasium-Robotics and register its envs, or raise a one-line error saying how to install it."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            import gymnasium_robotics
    except ImportError:
        raise SpectralError(
            "PointMaze and the other Gymnasium-Robotics envs need the robotics extra: "
            "pip install 'rlspectral[robotics]' (gymnasium-robotics and mujoco wheels, no downloads)"
        ) from None
    gym.register_envs(gymnasium_robotics)


@dataclass
class MazeReference:
    """Reference eigenpairs of a maze: ``points [n, 2]`` world (x, y), ``values [k]`` (fine-grid transition
    eigenvalues, descending), ``vectors [n, k]`` (orthonormal), and the fine :class:`Grid`."""

    points: np.ndarray
    values: np.ndarray
    vectors: np.ndarray
    grid: Grid
    resolution: int


def maze_map(env_id: str) -> tuple[np.ndarray, float]:
    """The wall map (``True`` = wall) of a PointMaze id and its cell size (``maze_size_scaling``)."""
    require_robotics()
    env = gym.make(env_id)
    try:
        maze = env.unwrapped.maze
        walls = np.array([[cell == 1 for cell in row] for row in maze.maze_map], dtype=bool)
        return walls, float(maze.maze_size_scaling)
    finally:
        env.close()


def maze_reference(walls: np.ndarray, scaling: float = 1.0, resolution: int = 8, k: int = 8) -> MazeReference:
    """Top-``k`` eigenpairs of the random walk on the maze's free space cut into ``resolution``² sub-cells per
    cell. World coordinates follow PointMaze: cell (i, j) spans x in [j, j + 1] * scaling - width * scaling / 2,
    y in [height * scaling / 2 - (i + 1) * scaling, height * scaling / 2 - i * scaling]."""
    walls = np.asarray(walls, dtype=bool)
    fine = np.kron(walls, np.ones((resolution, resolution), dtype=bool))
    text = "\n".join("".join("X" if w else "." for w in row) for row in fine)
    grid = Grid(text, source="maze", disconnected="error")
    h, w = walls.shape
    rows, cols = grid.cells[:, 0], grid.cells[:, 1]
    x = (cols + 0.5) / resolution * scaling - w * scaling / 2
    y = h * scaling / 2 - (rows + 0.5) / resolution * scaling
    values, vectors = transition_eigenpairs(grid, k)
    return MazeReference(np.stack([x, y], axis=1), values, vectors, grid, resolution)


def random_policy_positions(env_id: str, episodes: int, seed: int = 0) -> list[np.ndarray]:
    """``episodes`` uniform-random-action episodes of ``env_id`` (full length, the env's own random starts), each
    as the agent's positions ``[T + 1, 2]`` (``achieved_goal``, float32)."""
    require_robotics()
    env = gym.make(env_id)
    env.action_space.seed(seed)
    out = []
    try:
        for ep in range(episodes):
            obs, _ = env.reset(seed=seed * 100_003 + ep)
            xs = [obs["achieved_goal"]]
            done = False
            while not done:
                obs, _, terminated, truncated, _ = env.step(env.action_space.sample())
                xs.append(obs["achieved_goal"])
                done = terminated or truncated
            out.append(np.asarray(xs, dtype=np.float32))
    finally:
        env.close()
    return out
