"""Exact reference spectra of gridworld operators (float64)."""

from __future__ import annotations

import numpy as np

from rlspectral.envs.gridworld import Grid


def transition_eigenpairs(grid: Grid, k: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Top-k eigenpairs of the uniform-policy transition matrix P, eigenvalues descending.

    P is symmetric (doubly stochastic), so uniform rho is stationary and P is self-adjoint in L2(rho); the
    eigenvectors are orthonormal columns ``[n, k]``.
    """
    vals, vecs = np.linalg.eigh(grid.transition_matrix)
    order = np.argsort(-vals, kind="stable")[: k or grid.n]
    return vals[order], vecs[:, order]


def successor_eigenvalues(p: np.ndarray, lam: float) -> np.ndarray:
    """Eigenvalues of S_lambda = (1 - lambda) sum_k lambda^(k-1) P^k: (1 - lambda) p / (1 - lambda p)."""
    p = np.asarray(p, dtype=np.float64)
    return (1 - lam) * p / (1 - lam * p)
