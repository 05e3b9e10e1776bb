"""Accuracy metrics against an exact spectrum (DESIGN: "Metrics")."""

from __future__ import annotations

import numpy as np


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
    """Per-mode |cos| between learned columns and exact eigenvectors, and its mean over modes.

    Each learned column is normalized over all states. Inside a block of near-equal true eigenvalues the
    learned columns are first rotated to the best match (orthogonal Procrustes), so any basis of a
    degenerate eigenspace scores 1.
    """
    L = np.asarray(learned, dtype=np.float64)
    T = np.asarray(true, dtype=np.float64)
    if L.shape != T.shape:
        raise ValueError(f"learned {L.shape} and true {T.shape} eigenvector arrays differ in shape")
    L = L / np.maximum(np.linalg.norm(L, axis=0, keepdims=True), 1e-300)
    T = T / np.linalg.norm(T, axis=0, keepdims=True)
    blocks = eigen_blocks(true_values, tol) if true_values is not None else [np.array([i]) for i in range(T.shape[1])]
    cos = np.zeros(T.shape[1])
    for b in blocks:
        Lb, Tb = L[:, b], T[:, b]
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
