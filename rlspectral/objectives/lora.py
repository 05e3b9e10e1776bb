"""NestedLoRA (Ryu et al., ICML 2024): nested low-rank approximation of an operator.

    L(f, g) = -2 sum_i v_i <f_i, T g_i> + sum_ij P_ij <f_i, f_j> <g_i, g_j>

One network (g = f, self-adjoint T): EVD, optimum f_i = sqrt(sigma_i) phi_i for the top-k eigenpairs.
Two networks: SVD, optimum f_i = sqrt(sigma_i) u_i, g_i = sqrt(sigma_i) v_i. The Gram product comes from
independent chunks. Eigen/singular values: sigma_i ~ ||f_i||^2 (EVD) or ||f_i|| ||g_i|| (SVD).
"""

from __future__ import annotations

from torch import Tensor

from rlspectral.moments import Moments
from rlspectral.objectives.base import SpectralObjective, cross_products


class NestedLoRA(SpectralObjective):
    supports_svd = True

    def forward(self, m: Moments) -> tuple[Tensor, dict[str, Tensor]]:
        C = m.C_mean
        fit = -2.0 * (self.v * C.diagonal()).sum()
        gram = (self.P * cross_products(m.Mf, m.Mg)).sum()
        return fit + gram, {"fit": fit.detach(), "gram": gram.detach()}

    def eigenvalues(self, C_diag: Tensor, M_diag: Tensor) -> Tensor:
        return M_diag - self.shift

    def optimum_norms(self, values: Tensor) -> Tensor:
        """||f_i|| = sqrt(sigma_i) at the optimum (sigma_i of the shifted operator; floored so no mode is zeroed)."""
        return values.clamp_min(1e-6).sqrt()
