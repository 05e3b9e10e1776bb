"""ALLO (Gomez, Bowling, Machado, ICLR 2024): augmented Lagrangian Laplacian objective, a baseline.

    L = sum_i <f_i, (I - T) f_i> + sum_{i>=j} beta_ij (<f_i, sg f_j> - delta_ij)
        + b sum_{i>=j} (<f_i, sg f_j> - delta_ij)^2

The stop-gradient on the earlier mode is the sequential moment of ``rlspectral.nesting``. Duals beta follow
gradient ascent after each step, the barrier b grows linearly to ``barrier_max``. At the optimum
beta_ii = -(1 - sigma_i), so sigma_i = 1 + beta_ii.
"""

from __future__ import annotations

import torch
from torch import Tensor

from rlspectral.moments import Moments
from rlspectral.objectives.base import SpectralObjective, cross_products


class ALLO(SpectralObjective):
    def __init__(
        self,
        k: int,
        dual_lr: float = 0.01,
        barrier_init: float = 0.5,
        barrier_rate: float = 0.01,
        barrier_max: float = 10.0,
        **kw,
    ):
        super().__init__(k, "sequential", **kw)
        self.dual_lr, self.barrier_rate, self.barrier_max = dual_lr, barrier_rate, barrier_max
        self.register_buffer("duals", torch.zeros(k, k))
        self.register_buffer("barrier", torch.tensor(float(barrier_init)))
        self.register_buffer("lower", torch.ones(k, k).tril())

    def forward(self, m: Moments) -> tuple[Tensor, dict[str, Tensor]]:
        C, M = m.C_mean, m.M_mean
        eye = torch.eye(self.k, device=C.device)
        drawing = (M.diagonal() - C.diagonal()).sum()
        dual = (self.lower * self.duals * (M - eye)).sum()
        err = [x - eye for x in m.Mf]
        barrier = self.barrier * (self.lower * cross_products(err, err)).sum()
        return drawing + dual + barrier, {"drawing": drawing.detach(), "barrier_coef": self.barrier.clone()}

    @torch.no_grad()
    def after_step(self, m: Moments) -> None:
        eye = torch.eye(self.k, device=m.C[0].device)
        self.duals += self.dual_lr * self.lower * (m.M_mean.detach() - eye)
        self.barrier.copy_((self.barrier + self.barrier_rate).clamp_max(self.barrier_max))

    def eigenvalues(self, C_diag: Tensor, M_diag: Tensor) -> Tensor:
        return 1.0 + self.duals.diagonal()
