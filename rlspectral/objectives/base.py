"""The interface every spectral objective implements: moments in, scalar loss plus diagnostics out."""

from __future__ import annotations

import torch
from torch import Tensor, nn

from rlspectral.errors import ConfigError
from rlspectral.moments import Moments
from rlspectral.nesting import mode_weights, pair_weights


class SpectralObjective(nn.Module):
    """A loss over the chunk-wise moments of one batch (``rlspectral.moments``), minimized.

    Attributes read by the learner:
        splits: how many independent chunks the batch is cut into.
        sequential: whether moments carry sequential-nesting stop-gradients.
        shift: s added to the operator (T + s I) inside the moment estimates.
        supports_svd: whether the objective is defined for two networks (f, g) and a non-self-adjoint T.
    """

    splits: int = 2
    supports_svd: bool = False

    def __init__(self, k: int, nesting: str = "joint", normalize_weights: bool = True, shift: float = 0.0):
        super().__init__()
        if nesting not in ("joint", "sequential"):
            raise ConfigError.invalid("nesting", nesting, "use joint or sequential")
        self.k = k
        self.nesting = nesting
        self.shift = float(shift)
        # Joint nesting weights; sequential nesting trains each mode on its own objective (unit weights).
        ones = nesting == "sequential"
        self.register_buffer("v", torch.ones(k) if ones else mode_weights(k, normalize_weights))
        self.register_buffer("P", torch.ones(k, k) if ones else pair_weights(k, normalize_weights))

    @property
    def sequential(self) -> bool:
        return self.nesting == "sequential"

    def forward(self, m: Moments) -> tuple[Tensor, dict[str, Tensor]]:  # pragma: no cover - interface
        raise NotImplementedError

    def eigenvalues(self, C_diag: Tensor, M_diag: Tensor) -> Tensor:
        """Eigenvalue estimates of T from running moment diagonals; default: the Rayleigh quotient."""
        return C_diag / M_diag.clamp_min(1e-12) - self.shift

    def after_step(self, m: Moments) -> None:
        """Hook after the optimizer step (dual updates, schedules)."""

    def optimum_norms(self, values: Tensor) -> Tensor | None:
        """L2(rho) norms of the modes at this objective's optimum, given the eigenvalues of T + shift I in mode
        order; ``None`` when the optimum is not a known basis of eigenfunctions (then the learner cannot apply a
        Rayleigh-Ritz step to the output layer, :meth:`SpectralLearner.realign`)."""
        return None


def cross_products(A: list[Tensor], B: list[Tensor]) -> Tensor:
    """Unbiased estimate of ``E[A] * E[B]`` (elementwise) from independent chunks: mean of A_s * B_t, s != t."""
    n = len(A)
    total = sum(A[s] * B[t] for s in range(n) for t in range(n) if s != t)
    return total / (n * (n - 1))
