"""Graph-drawing baselines: GDO (Wu, Tucker, Nachum, ICLR 2019) and GGDO (Wang et al., ICML 2021).

    L = sum_i c_i E[(f_i(x) - f_i(y))^2] / 2 + beta sum_ij (<f_i, f_j> - delta_ij)^2

with c_i = 1 (GDO) or decreasing c_i = v_i (GGDO). ``E[(f(x) - f(y))^2] / 2 = <f, (I - T) f>``, read off the
moments as ``M_ii - C_ii``; the squared penalty uses independent chunks. ``penalty="nested"`` weights entry (i, j)
of the penalty by the nesting weight P_ij instead of 1, as the ALLO authors' GGDO code does (its penalty sums
``||M_[:m, :m] - I||^2`` over m = 1..k; ``rlspectral.baselines.PUBLISHED["ggdo"]``, ``docs/baselines.md``).
"""

from __future__ import annotations

import torch
from torch import Tensor

from rlspectral.errors import ConfigError
from rlspectral.moments import Moments
from rlspectral.objectives.base import SpectralObjective, cross_products


class GraphDrawing(SpectralObjective):
    def __init__(self, k: int, generalized: bool = True, beta: float = 5.0, penalty: str = "uniform", **kw):
        super().__init__(k, "joint", **kw)
        if penalty not in ("uniform", "nested"):
            raise ConfigError(f"penalty must be 'uniform' or 'nested', got {penalty!r}")
        self.beta = beta
        self.nested_penalty = penalty == "nested"
        if not generalized:
            self.v.fill_(1.0)

    def forward(self, m: Moments) -> tuple[Tensor, dict[str, Tensor]]:
        C, M = m.C_mean, m.M_mean
        drawing = (self.v * (M.diagonal() - C.diagonal())).sum()
        eye = torch.eye(self.k, device=C.device)
        squares = cross_products([x - eye for x in m.Mf], [x - eye for x in m.Mf])
        penalty = self.beta * ((self.P * squares).sum() if self.nested_penalty else squares.sum())
        return drawing + penalty, {"drawing": drawing.detach(), "penalty": penalty.detach()}
