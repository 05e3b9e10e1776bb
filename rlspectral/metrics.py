"""Accuracy metrics against an exact spectrum (docs/design.md, "Metrics")."""

from __future__ import annotations

import numpy as np

from rlspectral.errors import DataError


def eigen_blocks(values: np.ndarray, tol: float = 1e-6) -> list[np.ndarray]:
    """Group consecutive (sorted) eigenvalues whose neighbours differ by at most ``tol`` (relative to the
    spectral scale) into blocks of near-equal values."""
    values = np.asarray(values, dtype=np.float64)
    scale = max(1.0, float(np.abs(values).max())) if values.size else 1.0
    blocks, start = [], 0
    for i in range(1, len(values) + 1):
        if i == len(values) or abs(values[i] - values[i - 1]) > tol * scale:
            blocks.append(np.arange(start, i))
            start = i
    return blocks


def cosine_similarity(
    learned: np.ndarray, true: np.ndarray, true_values: np.ndarray | None = None, tol: float = 1e-6
) -> tuple[np.ndarray, float]:
    """Per-mode |cos| between the k learned columns and exact eigenvectors, and its mean over modes.

    Each learned column is normalized over all states. Inside a block of near-equal true eigenvalues the
    learned columns are first rotated to the best match (orthogonal Procrustes), so any basis of a
    degenerate eigenspace scores 1. ``true`` may have more columns than ``learned`` (with their eigenvalues):
    when the k-th eigenvalue ties with the (k+1)-th, the cut-off splits an eigenspace and a learned column is
    scored by the norm of its projection onto the whole eigenspace (any direction in it scores 1).
    """
    L = np.asarray(learned, dtype=np.float64)
    T = np.asarray(true, dtype=np.float64)
    k = L.shape[1] if L.ndim == 2 else -1
    if L.ndim != 2 or T.ndim != 2 or L.shape[0] != T.shape[0] or T.shape[1] < k:
        raise DataError(f"learned {L.shape} and true {T.shape} eigenvector arrays differ in shape")
    if T.shape[1] > k and true_values is None:
        raise DataError("more true eigenvectors than learned ones needs their true_values (to find the blocks)")
    L = L / np.maximum(np.linalg.norm(L, axis=0, keepdims=True), 1e-300)
    T = T / np.linalg.norm(T, axis=0, keepdims=True)
    blocks = eigen_blocks(true_values, tol) if true_values is not None else [np.array([i]) for i in range(k)]
    cos = np.zeros(k)
    for b in blocks:
        inside = b[b < k]
        if len(inside) == 0:
            break
        Lb, Tb = L[:, inside], T[:, b]
        if len(inside) < len(b):  # the cut-off splits this eigenspace: projection onto all of it
            cos[inside] = np.linalg.norm(Tb.T @ Lb, axis=0)
            continue
        if len(b) > 1:
            U, _, Vt = np.linalg.svd(Lb.T @ Tb)
            Lb = Lb @ (U @ Vt)
            Lb = Lb / np.maximum(np.linalg.norm(Lb, axis=0, keepdims=True), 1e-300)
        cos[b] = np.abs(np.sum(Lb * Tb, axis=0))
    return cos, float(cos.mean())


def eigenvalue_error(learned: np.ndarray, true: np.ndarray) -> np.ndarray:
    """Relative error |learned - true| / max(|true|, 1e-12), per mode."""
    learned, true = np.asarray(learned, dtype=np.float64), np.asarray(true, dtype=np.float64)
    return np.abs(learned - true) / np.maximum(np.abs(true), 1e-12)


def eigenvalue_backward_error(matrix: np.ndarray, z: np.ndarray, zero_part: bool = False) -> np.ndarray:
    """``beta(z) = sigma_min(z I - A) = 1 / ||(z I - A)^-1||``: the norm of the smallest perturbation E with z an
    eigenvalue of A + E (Trefethen & Embree, *Spectra and Pseudospectra*, Thm 2.1); ``{z : beta(z) <= eps}`` is A's
    eps-pseudospectrum. ``matrix``: the operator in an orthonormal basis; ``zero_part``: the operator is that matrix
    plus 0 on the orthogonal complement (a finite-rank operator on a larger space), so beta is also <= |z|."""
    a = np.asarray(matrix, dtype=np.complex128)
    if a.ndim != 2 or a.shape[0] != a.shape[1]:
        raise DataError(f"matrix of shape {a.shape}: pass a square matrix (the operator in an orthonormal basis)")
    z = np.asarray(z, dtype=np.complex128)
    flat, eye = z.reshape(-1), np.eye(a.shape[0])
    beta = np.empty(flat.shape)
    for i in range(0, len(flat), 2048):  # [chunk, d, d] at a time: a pseudospectrum grid is ~10^5 points
        beta[i : i + 2048] = np.linalg.svd(flat[i : i + 2048, None, None] * eye - a, compute_uv=False)[:, -1]
    if zero_part:
        beta = np.minimum(beta, np.abs(z.reshape(-1)))
    return beta.reshape(z.shape)
