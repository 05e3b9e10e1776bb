"""Koopman baselines over the same moments: VAMPnet (Mardt et al., 2018) and DPNet-relaxed (Kostic et al., 2024).

With f at x_t, g at x_{t+tau}: C = E[f g^T], Mf = E[f f^T], Mg = E[g g^T] (batch means over all chunks).

* VAMP-2: ``||Mf^-1/2 C Mg^-1/2||_F^2 = tr(Mf^-1 C Mg^-1 C^T)``, maximized by the top singular subspace;
  the trace form needs no matrix square root (whose gradient is unstable for near-equal Gram eigenvalues).
* DPNet, relaxed score: ``||C||_F^2 / (||Mf||_2 ||Mg||_2) - gamma (R(Mf) + R(Mg))``, with the metric-distortion
  penalty ``R(M) = tr(M^2 - M - log M)`` (minimal at M = I).

Both are maximized, so the loss is the negative score. They learn a subspace, not ordered modes: values come
from the Koopman estimators on the learned pair (:mod:`rlspectral.koopman.estimators`: whitening + a small
dense solve).
"""

from __future__ import annotations

import torch
from torch import Tensor

from rlspectral.moments import Moments
from rlspectral.objectives.base import SpectralObjective


def _means(m: Moments) -> tuple[Tensor, Tensor, Tensor]:
    return m.C_mean, m.M_mean, torch.stack(m.Mg).mean(0)


def _ridge(M: Tensor, eps: float) -> Tensor:
    return M + eps * torch.eye(M.shape[0], dtype=M.dtype, device=M.device)


def vamp2(C: Tensor, Mf: Tensor, Mg: Tensor, eps: float = 1e-6) -> Tensor:
    """``tr(Mf^-1 C Mg^-1 C^T)`` with a ridge ``eps I`` on both Grams."""
    A = torch.linalg.solve(_ridge(Mf, eps), C)  # Mf^-1 C
    B = torch.linalg.solve(_ridge(Mg, eps), C.T)  # Mg^-1 C^T
    return (A * B.T).sum()


def metric_distortion(M: Tensor, eps: float = 1e-6) -> Tensor:
    """``R(M) = tr(M^2 - M - log M)``."""
    return (M * M).sum() - M.diagonal().sum() - torch.logdet(_ridge(M, eps))


class VAMPNet(SpectralObjective):
    supports_svd = True

    def __init__(self, k: int, eps: float = 1e-6, **kw):
        super().__init__(k, "joint", **kw)
        self.eps = eps

    def forward(self, m: Moments) -> tuple[Tensor, dict[str, Tensor]]:
        C, Mf, Mg = _means(m)
        score = vamp2(C, Mf, Mg, self.eps)
        return -score, {"vamp2": score.detach()}


class DPNet(SpectralObjective):
    supports_svd = True

    def __init__(self, k: int, gamma: float = 0.1, eps: float = 1e-6, **kw):
        super().__init__(k, "joint", **kw)
        self.gamma, self.eps = gamma, eps

    def forward(self, m: Moments) -> tuple[Tensor, dict[str, Tensor]]:
        C, Mf, Mg = _means(m)
        norms = torch.linalg.matrix_norm(Mf, ord=2) * torch.linalg.matrix_norm(Mg, ord=2)
        score = (C * C).sum() / norms.clamp_min(self.eps)
        penalty = self.gamma * (metric_distortion(Mf, self.eps) + metric_distortion(Mg, self.eps))
        return penalty - score, {"score": score.detach(), "penalty": penalty.detach()}
