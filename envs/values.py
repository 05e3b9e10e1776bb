"""Value functions of a goal gridworld: the exact V*, and how well a feature set represents it.

The goal task is that of ``rlspectral/<Layout>-Goal-v0`` (:func:`rlspectral.envs.gridworld.goal_gridworld`):
goal = the last free cell in row-major order, reward 1 on arrival, the episode ends there. ``relative_error`` is the
error of the least-squares V* on features (with an intercept), ||V_hat - V*|| / ||V* - mean(V*)|| (1.0 = no better
than a constant); ``polynomial_features`` and ``random_fourier`` are the non-spectral bases it is compared on.
"""

from __future__ import annotations

import numpy as np

from rlspectral.envs.gridworld import load_grid

GAMMA = 0.99


def optimal_values(layout: str, gamma: float = GAMMA) -> tuple[np.ndarray, int]:
    """V* over all free cells by value iteration (V = 0 at the terminal goal) and the goal cell's index."""
    grid = load_grid(layout)
    goal = grid.n - 1  # the last free cell in row-major order, as in agents.environments.goal_gridworld
    nxt = grid.next_state  # [n, 4]
    reward = (nxt == goal).astype(np.float64)
    v = np.zeros(grid.n)
    for _ in range(100_000):
        cont = np.where(nxt == goal, 0.0, v[nxt])
        new = (reward + gamma * cont).max(1)
        new[goal] = 0.0
        if np.abs(new - v).max() < 1e-12:
            break
        v = new
    return new, goal


def relative_error(features: np.ndarray, v: np.ndarray) -> float:
    """||V_hat - v|| / ||v - mean(v)|| of the least-squares fit of ``v`` on ``features`` ``[n, k]`` and a constant."""
    a = np.concatenate([np.ones((len(v), 1)), features], 1)
    coef, *_ = np.linalg.lstsq(a, v, rcond=None)
    return float(np.linalg.norm(a @ coef - v) / np.linalg.norm(v - v.mean()))


def polynomial_features(xy: np.ndarray, k: int) -> np.ndarray:
    """The first ``k`` monomials x^a y^b of ``xy`` ``[n, 2]`` by total degree: 1, x, y, x^2, xy, y^2, ..."""
    cols, degree = [], 0
    while len(cols) < k:
        cols += [xy[:, 0] ** (degree - j) * xy[:, 1] ** j for j in range(degree + 1)]
        degree += 1
    return np.stack(cols[:k], 1)


def random_fourier(xy: np.ndarray, k: int, sigma: float, seed: int) -> np.ndarray:
    """``k`` random Fourier features sqrt(2) cos(W xy + b), W ~ N(0, sigma^2 I), b ~ U[0, 2 pi), of ``xy``."""
    rng = np.random.default_rng(seed)
    w = rng.normal(0.0, sigma, (2, k))
    b = rng.uniform(0, 2 * np.pi, k)
    return np.sqrt(2) * np.cos(xy @ w + b)
