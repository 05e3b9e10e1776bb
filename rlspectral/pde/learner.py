"""PDELearner: the spectral learner on the operator ``T = (c - H) / s`` of a Schrodinger system, from
importance-weighted samples of space (docs/design.md, "Differential operators").

The bound states are the top eigenfunctions of T (``c`` above the k-th energy; ``s > 0`` only rescales, default
``c - E_1`` so the top eigenvalue is 1). Per independent chunk of a batch x ~ q with weights w = 1/q(x):

    M_s = mean_b w_b f(x_b) f(x_b)^T                                          (<f_i, f_j>)
    C_s = (c M_s - mean_b w_b [kappa J_b^T J_b + V(x_b) f(x_b) f(x_b)^T]) / s  (<f_i, T f_j>, first derivatives only)

(``rlspectral.koopman.dirichlet_moments`` with weights and a potential). ``route`` picks how J = df/dx is computed:
``tangent`` (forward-mode tangents through :class:`~rlspectral.pde.network.PDENetwork`), ``backward`` (double
backward, any network), or ``laplacian-fd`` (no J: the Laplacian form ``<f, T f> = E_q[w f (c f + kappa Delta f
- V f)] / s`` with a central finite-difference Laplacian, NeuralSVD's route, symmetrized).
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import torch
from torch import Tensor

from rlspectral.errors import ConfigError
from rlspectral.koopman.generator import dirichlet_moments, input_jacobian
from rlspectral.learner import LearnerConfig, SpectralLearner
from rlspectral.moments import Moments
from rlspectral.nesting import moment
from rlspectral.pde.network import PDENetwork
from rlspectral.pde.systems import System

ROUTES = ("tangent", "backward", "laplacian-fd")


class ProposalSampler:
    """``sampler(n) -> (x [n, d], w [n])``: samples of a proposal and their importance weights 1/q(x)."""

    def __init__(self, proposal, seed: int):
        self.proposal = proposal
        self.gen = torch.Generator().manual_seed(int(seed))

    def __call__(self, n: int) -> tuple[Tensor, Tensor]:
        return self.proposal.sample(n, self.gen)


class PDELearner(SpectralLearner):
    """A :class:`SpectralLearner` whose moments are those of ``T = (c - H) / s`` (module doc); batches are
    ``(x, w)`` from a :class:`ProposalSampler`. ``energies`` are the running estimates ``E = c - s sigma``."""

    def __init__(
        self,
        config: LearnerConfig,
        system: System,
        network: PDENetwork,
        shift: float,
        scale: float,
        route: str = "tangent",
        fd_step: float = 1e-2,
        device: str | torch.device = "cpu",
        log_dir: str | Path | None = None,
    ):
        if route not in ROUTES:
            raise ConfigError.invalid("route", route, f"pass one of {', '.join(ROUTES)}")
        if not scale > 0:
            raise ConfigError.invalid("scale", scale, "pass an operator scale > 0")
        super().__init__(replace(config, svd=False, dedup=False), device=device, log_dir=log_dir, network=network)
        self.system, self.route, self.fd_step = system, route, float(fd_step)
        self.c, self.s = float(shift), float(scale)

    def moments(self, x: Tensor, w: Tensor | None = None) -> Moments:
        x = x.to(self.device)
        w = torch.ones(x.shape[0], device=self.device) if w is None else w.to(self.device)
        V = self.system.potential(x)
        kw = dict(splits=self.objective.splits, sequential=self.objective.sequential)
        shift = self.c / self.s + self.objective.shift
        if self.route == "laplacian-fd":
            return self._laplacian_moments(x, w, V, shift, **kw)
        F, J = self.f.with_gradients(x) if self.route == "tangent" else input_jacobian(self.f, x)
        beta = self.s / self.system.kinetic
        return dirichlet_moments(F, J, beta, shift=shift, weights=w, potential=V / self.s, **kw)

    def _laplacian_moments(self, x: Tensor, w: Tensor, V: Tensor, shift: float, splits: int, sequential: bool):
        h, d, B = self.fd_step, x.shape[1], x.shape[0]
        eye = torch.eye(d, device=x.device, dtype=x.dtype) * h
        out = self.f(torch.cat([x, *(x + e for e in eye), *(x - e for e in eye)]))
        F = out[:B]
        lap = (out[B:].view(2 * d, B, -1).sum(0) - 2 * d * F) / (h * h)
        TF = shift * F + (self.system.kinetic * lap - V[:, None] * F) / self.s
        size = B // splits
        Cs, Ms = [], []
        for s in range(splits):
            c = slice(s * size, (s + 1) * size)
            f, wf, wtf = F[c], w[c, None] * F[c], w[c, None] * TF[c]
            Cs.append(0.5 * (moment(f, wtf, sequential) + moment(wtf, f, sequential)))
            Ms.append(moment(f, wf, sequential))
        return Moments(C=Cs, Mf=Ms, Mg=Ms, F=F, G=F)

    @property
    def energies(self) -> np.ndarray:
        """Running estimates ``E_i = c - s sigma_i`` of the modes, in mode order."""
        return self.c - self.s * self.eigenvalues

    @torch.no_grad()
    def realign(self, max_condition: float = 1e3) -> Tensor | None:
        """:meth:`SpectralLearner.realign`, applied only once every Ritz value of the learned span is positive, and
        then with a looser condition limit.

        A Ritz value <= 0 means the span does not yet hold k bound states; the step would set that mode to NestedLoRA's
        optimum norm sqrt(max(sigma, 1e-6)) ~ 0, a saddle it leaves at a rate proportional to the small sigma of the
        state it should find. Once all are positive, the optimum norms sqrt(sigma_i) alone span a factor 7 for 16
        hydrogen states (sigma from 1 to 1/49), above the default limit of 10."""
        if self.step == 0 or not float(self.running_Mf.trace()) > 0:
            return None
        values, basis = self._ritz()
        if basis.shape[1] < self.config.k or not float(values.min()) > 0:
            return None
        return super().realign(max_condition)

    @torch.no_grad()
    def final_realign(self) -> Tensor | None:
        """The last Rayleigh-Ritz step of a fit: the outputs become the Ritz functions of the running moments (refresh
        them on fresh batches first), whatever the signs of the Ritz values and the condition number (nothing is
        trained after it, so a mode with a value <= 0 left near zero does no harm; the scores normalize each mode).
        A rank-deficient span (an extra mode left at zero) keeps its Ritz functions first and the null directions
        last (:meth:`SpectralLearner.realign` with ``complete``)."""
        if self.step == 0:
            return None
        return SpectralLearner.realign(self, max_condition=0.0, complete=True)
