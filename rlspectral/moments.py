"""Batch estimates of the operator moment and Gram matrices (docs/design.md, "Operators and their pair distributions").

A pair batch (x_b, y_b), b = 1..B, with features F = f(x), G = g(y), is cut into ``splits`` disjoint
chunks. Chunks hold different pairs, so estimates from different chunks are independent and a product of
two of them is unbiased; no estimate is ever squared. Per chunk s:

* ``C_s = mean_{b in s} f(x_b) g(y_b)^T`` estimates <f_i, T g_j>. For a self-adjoint operator it is
  symmetrized; for an operator ``a T + c I`` (lazy transition: a = c = 1/2; a spectral shift s for
  NestedOMM) it becomes ``a C_s + c M_s``.
* ``M_s`` is the Gram <f_i, f_j>. One network (EVD): both ends of the chunk's pairs, since x and y share
  the stationary marginal rho. Two networks (SVD): ``Mf_s`` is f's Gram on x and ``Mg_s`` g's Gram on y.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor

from rlspectral.errors import ConfigError
from rlspectral.nesting import moment


@dataclass
class Moments:
    """Chunk-wise estimates; ``Mf[s]`` and ``Mg[s]`` are the same tensor for one network (EVD)."""

    C: list[Tensor]  # per chunk, [k, k]
    Mf: list[Tensor]  # per chunk, Gram of f
    Mg: list[Tensor]  # per chunk, Gram of g
    F: Tensor  # [B, k] features at x (with count moments: [u, k] at the distinct observations)
    G: Tensor  # [B, k] features at y (likewise)

    @property
    def C_mean(self) -> Tensor:
        return torch.stack(self.C).mean(0)

    @property
    def M_mean(self) -> Tensor:
        return torch.stack(self.Mf).mean(0)


def estimate_moments(
    F: Tensor,
    G: Tensor,
    *,
    self_adjoint: bool,
    splits: int = 2,
    sequential: bool = False,
    pair_weight: float = 1.0,
    identity_weight: float = 0.0,
    index: tuple[Tensor, Tensor] | None = None,
) -> Moments:
    """Chunk-wise moments of the operator ``pair_weight * T + identity_weight * I`` (see module doc).

    With ``index = (ix, iy)`` ``F`` and ``G`` hold features of *distinct* observations and pair b is
    ``(F[ix[b]], G[iy[b]])``: each chunk's moments become ``F^T N G / |chunk|`` with N the chunk's sparse count
    matrix of (x, y) rows: the same values and gradients as the per-pair batch, at ``nnz(N) k + u k^2`` instead of
    ``B k^2`` cost and without gathering the batch back (a gridworld batch of 8192 pairs holds ~100-1000 states).
    In the one-network case pass the same tensor as ``F`` and ``G`` (and indices into it)."""
    if identity_weight and not self_adjoint:
        raise ConfigError("an identity term (lazy operator or spectral shift) needs a self-adjoint operator")
    B = F.shape[0] if index is None else index[0].shape[0]
    if B < splits:
        raise ConfigError(f"a batch of {B} pairs cannot be cut into {splits} independent chunks")
    size = B // splits
    Cs, Mfs, Mgs = [], [], []
    for s in range(splits):
        chunk = slice(s * size, (s + 1) * size)
        if index is None:
            f, g, N, cx, cy = F[chunk], G[chunk], None, None, None
        else:
            f, g, (N, cx, cy) = F, G, _counts(index[0][chunk], index[1][chunk], F.shape[0], G.shape[0], F.dtype)
        C = moment(f, g, sequential, N)
        if self_adjoint:
            C = 0.5 * (C + (C.T if not sequential else moment(g, f, True, None if N is None else N.T)))
            if index is None:
                both = torch.cat([f, g], dim=0)
                Mf = Mg = moment(both, both, sequential)
            elif f is g:
                Mf = Mg = moment(f, f, sequential, cx + cy)
            else:
                Mf = Mg = 0.5 * (moment(f, f, sequential, cx) + moment(g, g, sequential, cy))
        else:
            Mf, Mg = moment(f, f, sequential, cx), moment(g, g, sequential, cy)
        if pair_weight != 1.0 or identity_weight != 0.0:
            C = pair_weight * C + identity_weight * Mf
        Cs.append(C)
        Mfs.append(Mf)
        Mgs.append(Mg)
    return Moments(C=Cs, Mf=Mfs, Mg=Mgs, F=F, G=G)


def _counts(ix: Tensor, iy: Tensor, nx: int, ny: int, dtype: torch.dtype) -> tuple[Tensor, Tensor, Tensor]:
    """Sparse count matrix of the pairs (ix[b], iy[b]) [nx, ny] and the counts of each end's rows."""
    ones = torch.ones(ix.shape[0], dtype=dtype, device=ix.device)
    N = torch.sparse_coo_tensor(torch.stack([ix, iy]), ones, (nx, ny), check_invariants=False).coalesce()
    cx, cy = torch.bincount(ix, minlength=nx), torch.bincount(iy, minlength=ny)
    return N, cx.to(dtype), cy.to(dtype)


def exact_moments(
    F: Tensor,
    A: Tensor,
    G: Tensor | None = None,
    *,
    weights: Tensor | None = None,
    splits: int = 2,
    sequential: bool = False,
    identity_weight: float = 0.0,
) -> Moments:
    """Exact moments of a tabular operator: ``C = F^T D A G``, ``Mf = F^T D F``, ``Mg = G^T G`` with D = diag(rho).

    ``F`` [n, k] holds f on every state (a free matrix or a network evaluated on all states); ``A`` is the
    operator's matrix, ``(T g)(x) = sum_y A_xy g(y)``. Without ``G`` this is the one-network (EVD) case and
    ``D A`` must be symmetric. The chunks are copies of the exact values, so products stay exact.
    """
    D = weights if weights is not None else torch.ones(F.shape[0], dtype=F.dtype, device=F.device)
    one = G is None
    G = F if one else G
    AG = A @ G
    C = moment(F * D[:, None], AG, sequential) * F.shape[0]
    if one:
        C = 0.5 * (C + C.T) if not sequential else 0.5 * (C + moment(AG * D[:, None], F, sequential) * F.shape[0])
    Mf = moment(F * D[:, None], F, sequential) * F.shape[0]
    Mg = Mf if one else moment(G, G, sequential) * G.shape[0]
    if identity_weight:
        C = C + identity_weight * Mf
    return Moments(C=[C] * splits, Mf=[Mf] * splits, Mg=[Mg] * splits, F=F, G=G)


def whiten(M: Tensor, rtol: float | None = None) -> Tensor:
    """Whitening map ``W [k, r]`` of a symmetric Gram matrix: ``W^T M W = I_r``, ``W = V_r diag(w_r)^-1/2`` from
    the eigendecomposition ``M = V diag(w) V^T`` (float64, of M's lower triangle), keeping only the eigen-directions
    with ``w > rtol * max(w)``. The others are dropped, not inverted: a near-null direction of the learned span (two
    functions that coincide, one that vanishes) is never amplified, so W may have fewer columns than M.

    ``rtol`` defaults to ``max(1e-10, k * eps)`` with ``eps`` the machine epsilon of M's dtype (numpy's
    ``matrix_rank`` tolerance: eigenvalues below it are round-off of a float32 Gram, not signal).
    """
    if rtol is None:
        rtol = max(1e-10, M.shape[0] * torch.finfo(M.dtype).eps)
    w, V = torch.linalg.eigh(M.double())
    keep = w > rtol * w.max().clamp_min(torch.finfo(torch.float64).tiny)
    return V[:, keep] / w[keep].sqrt()


def null_directions(M: Tensor, rank: int) -> Tensor:
    """The ``k - rank`` eigenvectors of the Gram ``M [k, k]`` with the smallest eigenvalues (float64 ``[k, k - rank]``):
    the directions :func:`whiten` drops, which complete a rank-``rank`` Ritz basis to an invertible mixing."""
    _, V = torch.linalg.eigh(M.double())
    return V[:, : M.shape[0] - rank]


def rayleigh_ritz(C: Tensor, M: Tensor, rtol: float | None = None) -> tuple[Tensor, Tensor]:
    """Rayleigh-Ritz on a learned span: ``(sigma [r], basis [k, r])`` with ``C basis = M basis diag(sigma)``,
    ``basis`` M-orthonormal and sigma descending, from the moment ``C`` (symmetrized here) and the Gram ``M`` of k
    learned functions: ``basis = W U`` with ``W`` = :func:`whiten` (M) and ``eigh(W^T C W) = (sigma, U)``, in
    float64. ``f @ basis`` are the Ritz functions, the best approximations of the top eigenfunctions in the span;
    ``r < k`` when the span is numerically rank-deficient (``rtol`` as in :func:`whiten`)."""
    W = whiten(M, rtol)
    s, U = torch.linalg.eigh(W.T @ (0.5 * (C + C.T)).double() @ W)
    order = torch.argsort(s, descending=True)
    return s[order], W @ U[:, order]
