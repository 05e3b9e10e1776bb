"""Scores of learned eigenfunctions against the closed forms, by quadrature (docs/design.md, "Metrics").

For k learned functions f with Galerkin matrices ``M = <f, f>`` and ``K = <f, H f> = kappa <grad f, grad f> + <f, V f>``
on the nodes of :func:`~rlspectral.pde.quadrature.spherical_rule`:

* ``energies``: the Rayleigh quotients ``K_ii / M_ii`` of the modes as learned, ascending, against the exact
  energies; ``ritz_energies``: the generalized eigenvalues of (K, M), the best the learned span holds;
* per degenerate shell, the cosines of the principal angles between the span of the learned modes assigned to it
  (the next |shell| modes in energy order) and the exact eigenspace (M-orthonormalized blocks); a shell the cut-off
  at k splits is compared whole (its learned block is smaller);
* ``orthogonality_error``: the largest |off-diagonal| of the learned modes' normalized Gram.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import torch
from torch import nn

from rlspectral.moments import whiten
from rlspectral.pde.quadrature import spherical_rule
from rlspectral.pde.systems import System


def quadrature_radius(system: System, k: int, tol: float = 1e-16) -> float:
    """A radius past which every one of the first ``k`` exact eigenfunctions is negligible: the largest r along a
    generic ray with ``|phi(r u)|^2 r^d > tol`` times its maximum, times 1.25."""
    u = np.array([0.83, 0.47, 0.30][: system.dim])
    u = u / np.linalg.norm(u)
    r = np.linspace(1e-6, 50 * system.length_scale(k), 20001)
    phi = system.eigenfunctions(r[:, None] * u, len(system.states[: max(g[-1] for g in system.shells(k)) + 1]))
    mass = phi**2 * r[:, None] ** system.dim
    last = max(int(np.nonzero(m > tol * m.max())[0].max()) for m in mass.T)
    return 1.25 * float(r[last])


def quadrature(system: System, k: int, angles: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Nodes and weights for scoring the first k states of ``system``."""
    angles = angles or (64 if system.dim == 2 else 24)
    return spherical_rule(system.dim, quadrature_radius(system, k), angles=angles)


@torch.no_grad()
def galerkin(net: nn.Module, system: System, x: np.ndarray, w: np.ndarray, batch: int = 16384):
    """``(F [N, k], M, K)`` of the network on quadrature nodes (float64)."""
    Fs, M, K = [], 0.0, 0.0
    for i in range(0, len(x), batch):
        xb = torch.from_numpy(x[i : i + batch]).float()
        F, J = net.with_gradients(xb)
        F, J = F.double(), J.double()
        wb = torch.from_numpy(w[i : i + batch])
        V = system.potential(xb.double())
        M = M + F.T @ (wb[:, None] * F)
        K = K + system.kinetic * torch.einsum("dbi,b,dbj->ij", J, wb, J) + F.T @ ((wb * V)[:, None] * F)
        Fs.append(F)
    return torch.cat(Fs).numpy(), np.asarray(M), np.asarray(K)


def score(net: nn.Module, system: System, k: int, nodes: tuple[np.ndarray, np.ndarray] | None = None) -> dict[str, Any]:
    """Every metric of the module doc for the first k outputs of the network (the learner's order: after a fit's last
    Rayleigh-Ritz step, ascending Ritz energy; extra modes are learned, not scored), plus ``order`` (the scored outputs
    by energy) and ``norms`` (of every output). The first k, not the k lowest Rayleigh quotients of all outputs: an
    extra output left near zero can have any quotient, and picking by quotient would let it displace a learned state."""
    x, w = nodes if nodes is not None else quadrature(system, k)
    F_all, M_all, K_all = galerkin(net, system, x, w)
    d_all = np.diag(M_all).clip(1e-300)
    rq = np.diag(K_all) / d_all
    order = np.argsort(rq[:k], kind="stable")
    F, M, d = F_all[:, order], M_all[np.ix_(order, order)], d_all[order]
    exact = system.energies(k)
    energies = rq[order]
    ritz = np.sort(_generalized_eigvals(K_all, M_all))[:k]
    shells = system.shells(k)
    n_exact = shells[-1][-1] + 1
    Phi = system.eigenfunctions(x, n_exact)
    shell_rows = []
    for g in shells:
        idx = g[g < k]  # the scored modes (columns of F, energy ascending) assigned to this shell
        Lb = F[:, idx] @ whiten(torch.from_numpy(M[np.ix_(idx, idx)])).numpy()
        Tb = Phi[:, g] @ whiten(torch.from_numpy(Phi[:, g].T @ (w[:, None] * Phi[:, g]))).numpy()
        cos = np.linalg.svd(Lb.T @ (w[:, None] * Tb), compute_uv=False)
        if len(cos) < len(idx):
            cos = np.concatenate([cos, np.zeros(len(idx) - len(cos))])
        s0 = system.states[g[0]]
        shell_rows.append(
            {
                "energy": s0.energy,
                "states": [list(system.states[i].numbers) for i in g],
                "learned_modes": len(idx),
                "cosine_min": float(cos.min()),
                "cosine_mean": float(cos.mean()),
            }
        )
    G = M / np.sqrt(np.outer(d, d))
    rel = np.abs(energies - exact) / np.abs(exact)
    ritz_rel = np.abs(ritz - exact) / np.abs(exact)
    return {
        "energies": energies.tolist(),
        "exact_energies": exact.tolist(),
        "relative_errors": rel.tolist(),
        "mean_relative_error": float(rel.mean()),
        "max_relative_error": float(rel.max()),
        "ritz_energies": ritz.tolist(),
        "ritz_mean_relative_error": float(ritz_rel.mean()),
        "shells": shell_rows,
        "min_shell_cosine": float(min(r["cosine_min"] for r in shell_rows)),
        "orthogonality_error": float(np.abs(G - np.eye(len(G))).max()),
        "order": order.tolist(),
        "norms": np.sqrt(d_all).tolist(),
        "quadrature_nodes": int(len(x)),
    }


def alignment(F: np.ndarray, system: System, k: int, x: np.ndarray, w: np.ndarray, s: dict) -> np.ndarray:
    """``A [k, k]`` such that ``f(y)[:, order] @ A`` are the learned modes normalized and, inside each shell,
    rotated onto the exact basis (orthogonal Procrustes on the quadrature ``x, w`` where ``F = f(x)``), in exact-state
    order: for side-by-side pictures. A shell the cut-off splits is left unrotated."""
    order, norms = np.asarray(s["order"]), np.asarray(s["norms"])
    L = F[:, order] / norms[order]  # F: every output at x
    A = np.eye(k)
    for g in system.shells(k):
        inside = g[g < k]
        if len(inside) < len(g):
            continue
        Phi = system.eigenfunctions(x, g[-1] + 1)[:, g]
        U, _, Vt = np.linalg.svd(L[:, inside].T @ (w[:, None] * Phi))
        A[np.ix_(inside, inside)] = U @ Vt
    return A / norms[order][:, None]


def _generalized_eigvals(K: np.ndarray, M: np.ndarray) -> np.ndarray:
    W = whiten(torch.from_numpy(M)).numpy()
    vals = np.linalg.eigvalsh(W.T @ (0.5 * (K + K.T)) @ W)
    return np.concatenate([vals, np.full(M.shape[0] - len(vals), math.nan)])
