"""NestedOMM (Ryu, Zhou, Wornell, NeurIPS 2025): the orbital minimization method for a PSD operator.

Order p (unnested): ``L = -tr(Q_p(M) C)`` with ``Q_p(S) = sum_{r=0}^{2p-1} (I - S)^r``. For p = 1 this is
``-2 tr C + tr(C M)``; nested (joint): ``-2 sum_i v_i C_ii + sum_ij P_ij C_ij M_ij``. The optimum is an
orthonormal basis f_i = phi_i of the top-k eigenspace, in order under nesting; eigenvalues come from the
Rayleigh quotient. C and M (and each factor of Q_p) come from independent chunks. OMM diverges on a
negative eigenvalue: use a PSD operator (lazy transition) or a shift ``T + s I`` (``shift=s``).
"""

from __future__ import annotations

import torch
from torch import Tensor

from rlspectral.errors import ConfigError
from rlspectral.moments import Moments
from rlspectral.objectives.base import SpectralObjective, cross_products


class NestedOMM(SpectralObjective):
    def __init__(self, k: int, nesting: str = "joint", order: int = 1, shift: float = 0.0, **kw):
        super().__init__(k, nesting, shift=shift, **kw)
        if order not in (1, 2):
            raise ConfigError.invalid("order", order, "NestedOMM supports order 1 (nested) or 2 (unnested)")
        if order == 2 and nesting != "joint":
            raise ConfigError.invalid("nesting", nesting, "NestedOMM order 2 is unnested: use nesting='joint'")
        self.order = order
        self.splits = 2 * order  # order 2 needs C and three independent Gram factors
        if order == 2:
            self.v.fill_(1.0)
            self.P.fill_(1.0)

    def forward(self, m: Moments) -> tuple[Tensor, dict[str, Tensor]]:
        if self.order == 1:
            fit = -2.0 * (self.v * m.C_mean.diagonal()).sum()
            cross = (self.P * cross_products(m.C, m.Mf)).sum()
            return fit + cross, {"fit": fit.detach(), "cross": cross.detach()}
        # Order 2: -tr(Q_2 C), Q_2 = I + (I-Ma) + (I-Ma)(I-Mb) + (I-Ma)(I-Mb)(I-Mc); average the 4 rotations.
        eye = torch.eye(self.k, device=m.C[0].device)
        n = len(m.C)
        loss = m.C[0].new_zeros(())
        for r in range(n):
            a, b, c = ((eye - m.Mf[(r + j) % n]) for j in (1, 2, 3))
            Q = eye + a + a @ b + a @ b @ c
            loss = loss - (Q * m.C[r]).sum()  # tr(Q C) with C symmetric
        return loss / n, {}

    def optimum_norms(self, values: Tensor) -> Tensor:
        """Orthonormal eigenfunctions at the optimum: unit norms."""
        return torch.ones_like(values)
