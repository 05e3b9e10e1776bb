"""Nesting weights and the stop-gradient construction for sequential nesting.

Joint nesting sums the objectives of the first m modes over m = 1..k. A term that couples modes i and j
then appears in every m >= max(i, j), so its weight is ``P_ij = v_max(i,j)`` with ``v_i = k - i + 1``
(1-based). Sequential nesting trains mode i on its own objective with modes 1..i-1 held fixed: in a
moment ``A_ij = E[a_i b_j]`` the gradient may only reach the *later* of the two modes.
"""

from __future__ import annotations

import torch
from torch import Tensor


def mode_weights(k: int, normalize: bool = True, device: torch.device | None = None) -> Tensor:
    """``v_i = k - i + 1`` for i = 1..k (optionally divided by k)."""
    v = torch.arange(k, 0, -1, dtype=torch.float32, device=device)
    return v / k if normalize else v


def pair_weights(k: int, normalize: bool = True, device: torch.device | None = None) -> Tensor:
    """``P_ij = v_max(i,j)``: the number of nested objectives in which the (i, j) term appears."""
    v = mode_weights(k, normalize, device)
    idx = torch.arange(k, device=device)
    return v[torch.maximum(idx[:, None], idx[None, :])]


def moment(a: Tensor, b: Tensor, sequential: bool = False, weights: Tensor | None = None) -> Tensor:
    """``A_ij = mean_n a_ni b_nj``.

    With ``weights`` the rows of ``a`` and ``b`` are distinct values and the batch is given by how often each
    occurs: a count matrix ``W`` [rows of a, rows of b] (pairs (a_r, b_s) occur ``W_rs`` times) or a count vector
    (row r of a paired with row r of b). Then ``A = a^T W b / sum(W)``, the same value and gradients as the
    per-pair mean without materializing the batch. With ``sequential=True`` the value is the same but the
    gradient of entry (i, j) flows only into the later mode max(i, j) (both factors on the diagonal): modes
    1..i-1 act as constants for mode i.
    """
    if weights is None:
        wb, n = b, a.shape[0]
    else:
        if weights.dim() == 1:
            wb, n = weights[:, None] * b, weights.sum()
        else:
            wb = torch.sparse.mm(weights, b) if weights.is_sparse else weights @ b
            n = torch.sparse.sum(weights) if weights.is_sparse else weights.sum()
    full = a.T @ wb / n
    if not sequential:
        return full
    to_rows = a.T @ wb.detach() / n  # gradient into a_i only
    to_cols = a.detach().T @ wb / n  # gradient into b_j only
    k = full.shape[0]
    lower = torch.ones(k, k, dtype=torch.bool, device=a.device).tril(-1)
    upper = lower.T
    return torch.where(lower, to_rows, torch.where(upper, to_cols, full))
