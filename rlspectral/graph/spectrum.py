"""Exact answers on a graph: the top eigenpairs of S = D^-1/2 (A + I) D^-1/2, the cosine of learned eigenfunctions
to them, and the exact moments of learned functions (docs/design.md, "Graph operators" and "Metrics").

The learner's functions are orthonormal in L2(rho), rho = d / vol: ``f_i = D^-1/2 u_i`` up to the constant
``sqrt(vol)``. So a learned column f is compared with u through ``D^1/2 f``, normalized over the nodes.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
import scipy.sparse.linalg as sla
import torch
from torch import Tensor

from rlspectral.graph.data import Graph
from rlspectral.metrics import cosine_similarity
from rlspectral.operators import Operator, Successor

# nodes: below this a dense eigh (exact multiplicities), above it scipy's eigsh (Lanczos) on the sparse matrix, which
# can miss copies of an exactly repeated eigenvalue (a ring's cos / sin pairs): no issue for a generic graph
DENSE_BELOW = 6000


def graph_eigenpairs(graph: Graph, k: int, dense_below: int = DENSE_BELOW) -> tuple[np.ndarray, np.ndarray]:
    """``(values [k], U [n, k])``: the top-k eigenpairs of S by value, descending (eigenvalues of P too); U's columns
    are orthonormal eigenvectors of the symmetric S (not yet the L2(rho) eigenfunctions D^-1/2 U)."""
    k = min(k, graph.n)
    S = graph.normalized_adjacency()
    if graph.n < dense_below or k >= graph.n - 1:
        w, U = np.linalg.eigh(S.toarray())
    else:
        v0 = np.random.default_rng(0).normal(size=graph.n)  # seeded: eigsh's default start is not (and never start
        # at sqrt(d), the top eigenvector itself: its Krylov space would miss the rest, degenerate copies included)
        w, U = sla.eigsh(S, k=k, which="LA", v0=v0, tol=1e-10)
    order = np.argsort(-w, kind="stable")[:k]
    return w[order], U[:, order]


def graph_cosines(
    phi: np.ndarray, graph: Graph, values: np.ndarray, vectors: np.ndarray, nodes: np.ndarray | None = None
) -> np.ndarray:
    """Per-mode |cos| of learned eigenfunctions ``phi`` [n, k] (L2(rho) functions) to the eigenvectors ``vectors`` of S,
    after ``D^1/2``, with in-block rotation of near-equal eigenvalues (:func:`rlspectral.metrics.cosine_similarity`);
    with ``nodes``, over those nodes only (e.g. held-out ones)."""
    L = np.sqrt(graph.degrees)[:, None] * np.asarray(phi, dtype=np.float64)
    if nodes is not None:
        L, vectors = L[nodes], vectors[nodes]
    return cosine_similarity(L, vectors, values)[0]


@torch.no_grad()
def exact_graph_moments(F: Tensor, graph: Graph, operator: Operator, shift: float = 0.0) -> tuple[Tensor, Tensor]:
    """``(C, M)`` in float64: the exact moments of functions ``F`` [n, k] given on every node, ``M = F^T D F / vol`` =
    <f_i, f_j>_rho and ``C = F^T D T F / vol`` = <f_i, T f_j>_rho for ``T = pair_weight P' + (identity_weight + shift)
    I`` with P' = P (transition, lazy) or S_lambda = (1 - lambda) P (I - lambda P)^-1 (successor: the symmetric
    positive definite system (D - lambda (A + I)) Y = (1 - lambda) (A + I) F, solved by :func:`solve_spd`; a sparse
    LU would fill in on an expander-like graph): what the learner's batch moments estimate, without noise."""
    X = F.detach().double().cpu().numpy()
    A, d = graph.adjacency, graph.degrees
    AX = A @ X
    if isinstance(operator, Successor):
        lam = operator.lam
        AX = d[:, None] * solve_spd((sp.diags(d) - lam * A).tocsr(), (1 - lam) * AX)
    M = X.T @ (d[:, None] * X) / graph.volume
    C = X.T @ AX / graph.volume
    C = operator.pair_weight * 0.5 * (C + C.T) + (operator.identity_weight + shift) * M
    return torch.from_numpy(C).to(F.device), torch.from_numpy(M).to(F.device)


def solve_spd(M: sp.csr_matrix, B: np.ndarray, rtol: float = 1e-11, maxiter: int = 1000) -> np.ndarray:
    """``M^-1 B`` for a symmetric positive definite sparse M, every column at once: conjugate gradients with the
    Jacobi preconditioner (for D - lambda (A + I) the preconditioned condition number is about (1 + lambda) /
    (1 - lambda): a few dozen iterations), until each column's residual is below ``rtol`` times its right-hand side."""
    diag = M.diagonal()
    X = B / diag[:, None]
    R = B - M @ X
    Z = R / diag[:, None]
    Pk = Z.copy()
    rz = np.sum(R * Z, axis=0)
    target = rtol * np.maximum(np.linalg.norm(B, axis=0), 1e-300)
    for _ in range(maxiter):
        if np.all(np.linalg.norm(R, axis=0) <= target):
            break
        Q = M @ Pk
        alpha = rz / np.maximum(np.sum(Pk * Q, axis=0), 1e-300)
        X += alpha * Pk
        R -= alpha * Q
        Z = R / diag[:, None]
        rz_new = np.sum(R * Z, axis=0)
        Pk = Z + (rz_new / np.maximum(rz, 1e-300)) * Pk
        rz = rz_new
    return X
