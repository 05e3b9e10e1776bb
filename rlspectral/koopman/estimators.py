"""Koopman estimators on learned features psi: covariances, whitening, Koopman / generator matrices, VAMP scores.

With ``F0 = psi(x_t)``, ``F1 = psi(x_{t+tau})`` (rows over pairs): the uncentred covariances
``C00 = E[psi(x_t) psi(x_t)^T]``, ``C01 = E[psi(x_t) psi(x_{t+tau})^T]``, ``C11``; the k x k Koopman matrix
``K = C00^-1 C01``, so that ``E[psi(x_{t+tau})^T b | x_t = x] ~ psi(x)^T K b``, solved by whitening
(:func:`rlspectral.moments.whiten`) + a small dense eigenproblem; VAMP-2 ``||C00^-1/2 C01 C11^-1/2||_F^2`` and
VAMP-E (Wu & Noe 2020); implied timescales ``t_i = -tau / ln mu_i``. Everything here is float64 numpy.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from rlspectral.moments import whiten

Covariances = tuple[np.ndarray, np.ndarray, np.ndarray]


def covariances(F0: np.ndarray, F1: np.ndarray) -> Covariances:
    """``(C00, C01, C11)``: uncentred (co)variances of features at x_t and x_{t+tau}, float64."""
    F0, F1 = np.asarray(F0, dtype=np.float64), np.asarray(F1, dtype=np.float64)
    n = F0.shape[0]
    return F0.T @ F0 / n, F0.T @ F1 / n, F1.T @ F1 / n


def whitening(C: np.ndarray) -> np.ndarray:
    """``W [k, r]`` with ``W^T C W = I_r`` on the numerically non-null part of the symmetrized C
    (:func:`rlspectral.moments.whiten` with its default relative cut-off, on numpy arrays)."""
    C = np.asarray(C, dtype=np.float64)
    return whiten(torch.from_numpy(0.5 * (C + C.T))).numpy()


def whitened_cross(C00: np.ndarray, C01: np.ndarray, C11: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(Kbar, W0, W1)``: ``Kbar = W0^T C01 W1`` with whitening maps ``W0`` of C00 and ``W1`` of C11."""
    W0, W1 = whitening(C00), whitening(C11)
    return W0.T @ C01 @ W1, W0, W1


def singular_values(C00: np.ndarray, C01: np.ndarray, C11: np.ndarray) -> np.ndarray:
    """Singular values of the transfer operator restricted to the learned spaces: ``svd(C00^-1/2 C01 C11^-1/2)``."""
    return np.linalg.svd(whitened_cross(C00, C01, C11)[0], compute_uv=False)


def vamp2_score(C00: np.ndarray, C01: np.ndarray, C11: np.ndarray) -> float:
    """VAMP-2: ``||C00^-1/2 C01 C11^-1/2||_F^2`` (includes the constant mode's 1 when psi spans constants)."""
    return float(np.sum(whitened_cross(C00, C01, C11)[0] ** 2))


def _rank(rank: int | None, available: int) -> int:
    if rank is None:
        return available
    if not 1 <= rank <= available:
        raise ValueError(f"rank {rank} is out of range: pass 1..{available} (the number of singular values)")
    return int(rank)


def vamp_e_score(train: Covariances, test: Covariances, rank: int | None = None) -> float:
    """VAMP-E (Wu & Noe 2020): the model ``T ~ U S V^T`` fitted on ``train`` covariances, scored on ``test``:
    ``tr(2 S U^T C01 V - S U^T C00 U S V^T C11 V)`` with ``U = W0 U'``, ``V = W1 V'`` from ``svd(Kbar) = U' S V'^T``,
    truncated to the ``rank`` largest singular values (all when None)."""
    Kbar, W0, W1 = whitened_cross(*train)
    Ub, s, Vbt = np.linalg.svd(Kbar, full_matrices=False)
    r = _rank(rank, len(s))
    U, V, S = W0 @ Ub[:, :r], W1 @ Vbt[:r].T, np.diag(s[:r])
    C00, C01, C11 = test
    return float(np.trace(2 * S @ U.T @ C01 @ V - S @ U.T @ C00 @ U @ S @ V.T @ C11 @ V))


def select_rank(train: Covariances, valid: Covariances) -> int:
    """The truncation rank r that maximizes the held-out VAMP-E of the rank-r model (Wu & Noe 2020 choose a model's
    rank by VAMP-E): ``argmax_r vamp_e_score(train, valid, r)``; ranks within round-off of the best (1e-12
    relative) tie, and the smallest wins. ``valid`` must come from data the features were not trained on."""
    n = min(whitened_cross(*train)[0].shape)
    scores = np.array([vamp_e_score(train, valid, r) for r in range(1, n + 1)])
    best = scores.max()
    return int(np.flatnonzero(scores >= best - 1e-12 * max(abs(best), 1.0))[0]) + 1


def implied_timescales(mu: np.ndarray, lag_time: float) -> np.ndarray:
    """``t_i = -lag / ln mu_i``; NaN where mu is not in (0, 1)."""
    mu = np.real(np.asarray(mu, dtype=np.complex128))
    with np.errstate(divide="ignore", invalid="ignore"):
        t = -lag_time / np.log(mu)
    return np.where((mu > 0) & (mu < 1), t, np.nan)


@dataclass
class KoopmanModel:
    """A k x k Koopman model on features psi: ``K^n = W diag(mu^n) W_inv`` and ``gram`` = E[psi psi^T].

    ``eigenfunctions(F) = F @ W`` (orthonormal in L2(rho) for reversible / generator models); values sorted
    by decreasing real part. Prediction: ``E[h(x_{t + n tau}) | x_t = x] ~ psi(x)^T K^n b`` with the
    projection ``b = gram^-1 E[psi h]`` (:meth:`project`).
    """

    values: np.ndarray  # mu_i, transfer eigenvalues at the model lag
    W: np.ndarray  # [k, m] eigenvector coefficients
    W_inv: np.ndarray  # [m, k]
    gram: np.ndarray  # [k, k]
    lag_time: float
    rates: np.ndarray | None = None  # generator eigenvalues lambda_i (generator models)
    offset: int = 0  # predict uses mu^(n - offset): 1 for the truncated-SVD model (its W_inv holds the first step)
    readout: str = "f"  # the network whose features project() expects: "g" for the truncated-SVD model

    @property
    def matrix(self) -> np.ndarray:
        """The one-step map ``F0 @ matrix @ b`` (``K = C00^-1 C01`` for a Galerkin model), from the eigenpairs."""
        return np.real((self.W * self.values ** (1 - self.offset)) @ self.W_inv)

    def timescales(self) -> np.ndarray:
        """``t_i = -1 / lambda_i`` (generator models) or ``-tau / ln mu_i``; NaN for non-decaying modes."""
        if self.rates is not None:
            with np.errstate(divide="ignore"):
                return np.where(np.real(self.rates) < 0, -1.0 / np.real(self.rates), np.nan)
        return implied_timescales(self.values, self.lag_time)

    def eigenfunctions(self, F: np.ndarray) -> np.ndarray:
        """``phi = F W`` from features ``F [n, k]``."""
        return np.real(np.asarray(F, dtype=np.float64) @ self.W)

    def project(self, F: np.ndarray, h: np.ndarray) -> np.ndarray:
        """Least-squares coefficients ``b [k, m]`` of observables ``h [n, m]`` on the features ``F [n, k]``."""
        F, h = np.asarray(F, dtype=np.float64), np.asarray(h, dtype=np.float64).reshape(len(F), -1)
        return np.linalg.lstsq(self.gram, F.T @ h / len(F), rcond=1e-10)[0]

    def predict(self, F0: np.ndarray, b: np.ndarray, n: int) -> np.ndarray:
        """``psi(x_0)^T K^n b``: the model's ``E[h(x_{n tau}) | x_0]``, ``[n_points, m]`` (n >= offset)."""
        Kn = (self.W * self.values ** (n - self.offset)) @ self.W_inv
        return np.real(np.asarray(F0, dtype=np.float64) @ Kn @ b)


def _sorted_model(
    values: np.ndarray,
    W: np.ndarray,
    W_inv: np.ndarray,
    gram: np.ndarray,
    lag_time: float,
    rates: np.ndarray | None = None,
    **kw: Any,
) -> KoopmanModel:
    order = np.argsort(-np.real(values if rates is None else rates), kind="stable")
    return KoopmanModel(
        values[order], W[:, order], W_inv[order], gram, lag_time, None if rates is None else rates[order], **kw
    )


def koopman_model(F0: np.ndarray, F1: np.ndarray, lag_time: float, reversible: bool = True) -> KoopmanModel:
    """Koopman matrix on features ``F0 = psi(x_t)``, ``F1 = psi(x_{t+tau})``.

    ``reversible``: the detailed-balance estimator ``C00 <- (C00 + C11) / 2``, ``C01 <- (C01 + C10) / 2``; the
    problem ``C01 w = mu C00 w`` is then symmetric: whiten ``W0^T C00 W0 = I`` and solve ``eigh(W0^T C01 W0)``.
    Otherwise ``K = C00^+ C01`` and a general (complex) eigendecomposition.
    """
    C00, C01, C11 = covariances(F0, F1)
    if reversible:
        C00, C01 = 0.5 * (C00 + C11), 0.5 * (C01 + C01.T)
        W0 = whitening(C00)
        mu, U = np.linalg.eigh(W0.T @ C01 @ W0)
        W = W0 @ U
        return _sorted_model(mu, W, W.T @ C00, C00, lag_time)
    W0 = whitening(C00)
    K = W0 @ W0.T @ C01  # C00^+ C01 on the non-null part
    mu, W = np.linalg.eig(K)
    keep = np.argsort(-np.abs(mu))[: W0.shape[1]]
    mu, W = mu[keep], W[:, keep]
    return _sorted_model(mu, W, np.linalg.pinv(W), C00, lag_time)


def generator_model(M: np.ndarray, L: np.ndarray, lag_time: float) -> KoopmanModel:
    """From the Gram ``M`` and the generator matrix ``L_ij = <psi_i, L psi_j>`` (= ``-beta^-1 E[J_i . J_j]``):
    ``L w = lambda M w`` by whitening; the model's transfer eigenvalues are ``exp(lambda tau)``."""
    M, L = 0.5 * (M + M.T), 0.5 * (L + L.T)
    W0 = whitening(M)
    lam, U = np.linalg.eigh(W0.T @ L @ W0)
    W = W0 @ U
    return _sorted_model(np.exp(lam * lag_time), W, W.T @ M, M, lag_time, rates=lam)


def svd_koopman_model(
    F0: np.ndarray, G1: np.ndarray, F1: np.ndarray, G0: np.ndarray, lag_time: float, rank: int | None = None
) -> KoopmanModel:
    """The truncated SVD ``T ~ sum_i s_i phi_i <psi_i, .>`` of two networks (Jeong, Ryu et al. 2025, Sec. 3.2) and
    its eigen decomposition, for operators that are not self-adjoint.

    CCA of ``f(x_t)`` and ``g(x_{t+tau})`` (:func:`whitened_cross`, ``svd(Kbar) = U' S V'^T``) gives the singular
    functions ``phi = f A_f``, ``psi = g A_g`` (``A_f = W0 U'``, ``A_g = W1 V'``). On span(phi) the truncated operator
    is ``K_phi = S <psi, phi>`` (``T phi_j = sum_i phi_i s_i <psi_i, phi_j>``), ``<psi, phi> = A_g^T E[g f^T] A_f``
    over the states of both ends of the pairs (``G0, F0`` and ``G1, F1``; rho for stationary data). Its eigenvalues
    are the model's; ``E[h(x_{t + n tau}) | x] = phi(x)^T K_phi^(n-1) S <psi, h>``, so ``project`` takes the g
    features (``readout="g"``, ``gram = I``: ``b = E[g h]``) and ``predict`` uses ``mu^(n-1)`` (``offset=1``).
    ``rank``: keep the r largest singular triplets (all when None; :func:`select_rank` picks r on held-out data).
    """
    F, G = np.concatenate([F0, F1]).astype(np.float64), np.concatenate([G0, G1]).astype(np.float64)
    return svd_koopman_from_moments(covariances(F0, G1), G.T @ F / len(F), lag_time, rank)


def svd_koopman_from_moments(
    cov: Covariances, gf: np.ndarray, lag_time: float, rank: int | None = None
) -> KoopmanModel:
    """:func:`svd_koopman_model` from the moments it reads: ``cov = (C00, C01, C11)`` of ``f(x_t)``, ``g(x_{t+tau})``
    and ``gf = E[g f^T]`` at stationary states. For moments that come from elsewhere than one sample (exact
    quadrature, a larger sample, several runs' sums)."""
    C00, C01, C11 = (np.asarray(c) for c in cov)
    k, m = C01.shape if C01.ndim == 2 else (-1, -1)
    if C00.shape != (k, k) or C11.shape != (m, m) or np.shape(gf) != (m, k):
        raise ValueError(
            f"moments of mismatched shapes: C00 {C00.shape}, C01 {C01.shape}, C11 {C11.shape}, gf {np.shape(gf)}; "
            "pass C00 [k, k], C01 [k, m], C11 [m, m] and gf = E[g f^T] [m, k]"
        )
    Kbar, W0, W1 = whitened_cross(C00, C01, C11)
    Ub, s, Vbt = np.linalg.svd(Kbar, full_matrices=False)
    r = _rank(rank, len(s))
    Ub, s, Vbt = Ub[:, :r], s[:r], Vbt[:r]
    Af, Ag = W0 @ Ub, W1 @ Vbt.T
    cross = Ag.T @ np.asarray(gf, dtype=np.float64) @ Af  # <psi_i, phi_j>
    mu, Wc = np.linalg.eig(s[:, None] * cross)
    W_inv = np.linalg.solve(Wc, s[:, None] * Ag.T)  # Wc^-1 S A_g^T
    return _sorted_model(mu, Af @ Wc, W_inv, np.eye(W0.shape[0]), lag_time, offset=1, readout="g")
