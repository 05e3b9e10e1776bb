"""NeuralEF (Deng, Shi, Zhu, ICML 2022, "NeuralEF: Deconstructing Kernels by Deep Neural Networks"), a baseline.

With the modes normalized, ``psi_i = f_i / ||f_i||`` (``||f_i||^2 = M_ii``), and ``R_ij = <psi_i, T psi_j>
= C_ij / sqrt(M_ii M_jj)``, mode j maximizes its own objective with the earlier modes held fixed:

    max_{psi_j}  R_jj - sum_{i<j} R_ij^2 / R_ii,        so   L = sum_j [ -R_jj + sum_{i<j} R_ij^2 / sg(R_ii) ]

The stop-gradients on the earlier modes are the sequential moments of :mod:`rlspectral.nesting`; the square R_ij^2
is the product of two independent chunks' estimates (``cross_products``), never a squared estimate. At the optimum
psi_j is the j-th eigenfunction of T (top eigenvalues must be positive: R_ii > 0); values by Rayleigh quotient.
This is the original (EigenGame-style, deflation by R) form, not the mu-EigenGame variant NeuralSVD's code also has.
"""

from __future__ import annotations

import torch
from torch import Tensor

from rlspectral.moments import Moments
from rlspectral.objectives.base import SpectralObjective, cross_products


class NeuralEF(SpectralObjective):
    def __init__(self, k: int, eps: float = 1e-8, **kw):
        super().__init__(k, "sequential", **kw)
        self.eps = eps
        self.register_buffer("upper", torch.ones(k, k).triu(1))

    def normalized(self, C: Tensor, M: Tensor) -> Tensor:
        """``R_ij = C_ij / (||f_i|| ||f_j||)``, the earlier mode's norm held fixed off the diagonal."""
        n = M.diagonal().clamp_min(self.eps).sqrt()
        off = C / (n.detach()[:, None] * n[None, :])  # (i < j): gradient into the later mode j only
        return torch.where(self.upper.bool(), off, C / (n[:, None] * n[None, :]))

    def forward(self, m: Moments) -> tuple[Tensor, dict[str, Tensor]]:
        R = [self.normalized(C, M) for C, M in zip(m.C, m.Mf)]
        R_mean = torch.stack(R).mean(0)
        rayleigh = R_mean.diagonal()
        deflation = self.upper * cross_products(R, R) / rayleigh.detach().clamp_min(self.eps)[:, None]
        return -rayleigh.sum() + deflation.sum(), {"rayleigh": rayleigh.sum().detach()}

    def optimum_norms(self, values: Tensor) -> Tensor:
        """Scale-free (the objective normalizes each mode): unit norms."""
        return torch.ones_like(values)
