"""Sampling laws q for the importance-weighted moments ``<f, g> = E_q[f g / q]`` (docs/design.md, "Differential
operators").

* :class:`GaussianProposal`: independent normal coordinates (oscillator eigenfunctions decay like Gaussians).
* :class:`RadialProposal`: ``x = r u`` with u uniform on the unit sphere and r drawn from an equal mixture of
  Gamma(shape d - 1, scale s_j) laws. Its density ``q(x) = p(r) / (|S^(d-1)| r^(d-1))`` behaves like 1/r at the
  origin, which cancels the Coulomb singularity: ``V f g / q`` stays bounded (with a Gaussian q the 2D estimator of
  ``<f, V g>`` has infinite variance). Exponential tails match the exp(-beta r / 2) decay of bound states.

A proposal draws from its own ``torch.Generator``: ``sample(n, gen) -> (x [n, d], weights 1/q(x) [n])``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
from torch import Tensor


class GaussianProposal:
    """``x_a ~ N(0, std_a^2)`` independently."""

    def __init__(self, std: Sequence[float]):
        self.std = torch.as_tensor(list(std), dtype=torch.float32)
        self.dim = len(self.std)

    def log_density(self, x: Tensor) -> Tensor:
        z = x / self.std
        return -0.5 * (z * z).sum(-1) - torch.log(self.std).sum() - 0.5 * self.dim * math.log(2 * math.pi)

    def sample(self, n: int, gen: torch.Generator) -> tuple[Tensor, Tensor]:
        x = torch.randn(n, self.dim, generator=gen) * self.std
        return x, torch.exp(-self.log_density(x))


class RadialProposal:
    """Uniform direction, radius from an equal mixture of Gamma(d - 1, scale) laws (module doc)."""

    def __init__(self, dim: int, scales: Sequence[float]):
        self.dim = dim
        self.scales = torch.as_tensor(list(scales), dtype=torch.float64)
        self.shape = float(dim - 1)
        self.sphere = 2 * math.pi ** (dim / 2) / math.gamma(dim / 2)  # area of the unit sphere S^(d-1)

    def log_density(self, x: Tensor) -> Tensor:
        r = x.double().norm(dim=-1).clamp_min(1e-300)
        a, s = self.shape, self.scales[:, None]
        log_p = (a - 1) * torch.log(r) - r / s - a * torch.log(s) - math.lgamma(a)  # Gamma densities [m, n]
        log_radial = torch.logsumexp(log_p, 0) - math.log(len(self.scales))
        return (log_radial - math.log(self.sphere) - (self.dim - 1) * torch.log(r)).to(x.dtype)

    def sample(self, n: int, gen: torch.Generator) -> tuple[Tensor, Tensor]:
        which = torch.randint(len(self.scales), (n,), generator=gen)
        # Gamma(d - 1) with integer shape d - 1: a sum of d - 1 exponentials
        u = torch.rand(n, self.dim - 1, generator=gen, dtype=torch.float64).clamp_min(1e-300)
        r = -torch.log(u).sum(1) * self.scales[which]
        u = torch.randn(n, self.dim, generator=gen, dtype=torch.float64)
        x = (u / u.norm(dim=1, keepdim=True) * r[:, None]).float()
        return x, torch.exp(-self.log_density(x.double())).float()
