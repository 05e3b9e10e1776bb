"""ALLO (Gomez, Bowling, Machado, ICLR 2024): augmented Lagrangian Laplacian objective, a baseline.

Two variants (sources and every difference: ``docs/baselines.md``):

* :class:`ALLO` (method ``allo``): the authors' update rules and defaults, as their code
  (tarod13/laplacian_dual_dynamics, ``src/trainer/al.py`` + ``generalized_augmented.py``, ``src/hyperparam/al.yaml``)
  runs them. With chunk Grams ``M_s`` and the lower-triangular errors ``E_s = tril(<f_i, sg f_j>_s - delta_ij)``::

      L = sum_i E[(f_i(x) - f_i(y))^2] + sum_{i>=j} sg(beta_ij) (E_1 + E_2)_ij / 2 + sg(b) sum_{i>=j} (E_1 * E_2)_ij

  ``E[(f(x) - f(y))^2] = 2 (M_ii - C_ii)`` (the authors do not halve it); the stop-gradient sits on the second
  factor of *every* entry of the Gram, the diagonal included (``<f_i, sg f_i>``: half the gradient of
  ``||f_i||^2``). After each optimizer step, with the errors of the batch just used: the duals take a clipped
  ascent step ``beta <- tril(clip(beta + lr_duals * error, -100, 100))``; the quadratic error is averaged
  (``Q <- Q + 0.1 (E_1 * E_2 - Q)``, rate 1 on the first step) and the barrier grows with it,
  ``b <- clip(b + lr_barrier * mean_{k x k}(max(Q, 0)), 0, 1e4)`` (the mean over all k^2 entries, the upper
  triangle being zero). The modes are read **in output order** (the authors' cosine similarity compares output
  i with the i-th eigenvector): :meth:`ALLO.eigenvalues` hands the learner the Rayleigh quotients sorted
  descending, so its stable sort keeps the output order (see the method). At the optimum
  ``beta_ii = -4 (1 - sigma_i)``: :meth:`ALLO.dual_eigenvalues`.

* :class:`ALLOTuned` (method ``allo-tuned``): this package's earlier variant, kept bit-identical. Halved graph term
  ``<f_i, (I - T) f_i>``, full gradient on the diagonal, barrier on the independent-chunk squares, duals with lr
  0.01 (no clipping), barrier 0.5 growing linearly by 0.01 per step to 10, modes sorted by ``1 + beta_ii``.
"""

from __future__ import annotations

import torch
from torch import Tensor

from rlspectral.moments import Moments
from rlspectral.objectives.base import SpectralObjective, cross_products


def _half_diagonal_gradient(M: Tensor) -> Tensor:
    """Same value as ``M``; the diagonal passes half its gradient: ``<f_i, sg f_i>`` instead of ``<f_i, f_i>``."""
    d = M.diagonal()
    return M - 0.5 * torch.diag_embed(d - d.detach())


class ALLO(SpectralObjective):
    """ALLO with the authors' update rules and defaults (module doc; ``docs/baselines.md`` for the sources).

    Args (the authors' ``al.yaml`` keys in brackets):
        lr_duals [lr_duals], min_duals / max_duals [min_duals, max_duals]: dual ascent step and clipping.
        barrier_init [barrier_initial_val], lr_barrier [lr_barrier_coefs], min_barrier / max_barrier
        [min_barrier_coefs, max_barrier_coefs]: the barrier coefficient's start, growth rate and clipping.
        error_rate [error_update_rate], quadratic_error_rate [q_error_update_rate]: running averages of the
        constraint error (read by the duals) and of the quadratic error (read by the barrier).
    """

    splits = 2  # the authors' two independent constraint batches
    sort_modes = False  # the modes are read in output order (see ``eigenvalues``)

    def __init__(
        self,
        k: int,
        lr_duals: float = 1e-4,
        min_duals: float = -100.0,
        max_duals: float = 100.0,
        barrier_init: float = 1.0,
        lr_barrier: float = 1.0,
        min_barrier: float = 0.0,
        max_barrier: float = 1e4,
        error_rate: float = 1.0,
        quadratic_error_rate: float = 0.1,
        **kw,
    ):
        super().__init__(k, "sequential", **kw)
        self.lr_duals, self.min_duals, self.max_duals = lr_duals, min_duals, max_duals
        self.lr_barrier, self.min_barrier, self.max_barrier = lr_barrier, min_barrier, max_barrier
        self.error_rate, self.quadratic_error_rate = error_rate, quadratic_error_rate
        self.register_buffer("duals", torch.zeros(k, k))
        self.register_buffer("barrier", torch.tensor(float(barrier_init)))
        self.register_buffer("errors", torch.zeros(k, k))
        self.register_buffer("quadratic_errors", torch.zeros(k, k))
        self.register_buffer("lower", torch.ones(k, k).tril())

    def constraint_errors(self, m: Moments) -> list[Tensor]:
        """Per chunk ``tril(<f_i, sg f_j> - delta_ij)``: gradient into the later mode i only, half on the diagonal."""
        eye = torch.eye(self.k, dtype=m.Mf[0].dtype, device=m.Mf[0].device)
        return [self.lower * (_half_diagonal_gradient(M) - eye) for M in m.Mf]

    def forward(self, m: Moments) -> tuple[Tensor, dict[str, Tensor]]:
        C, M = m.C_mean, m.M_mean
        graph = 2.0 * (M.diagonal() - C.diagonal()).sum()  # sum_i E[(f_i(x) - f_i(y))^2]
        E = self.constraint_errors(m)
        error = torch.stack(E).mean(0)  # (E_1 + E_2) / 2
        quadratic = cross_products(E, E)  # E_1 * E_2: unbiased for the squared error
        dual = (self.duals * error).sum()
        barrier = self.barrier * quadratic.sum()
        diag = {"drawing": graph.detach(), "barrier_coef": self.barrier.clone(), "dual_loss": dual.detach()}
        return graph + dual + barrier, diag

    @staticmethod
    def _average(old: Tensor, new: Tensor, rate: float) -> Tensor:
        # The authors' running error estimates: rate 1 while the old estimate is (numerically) zero, i.e. at start.
        first = (torch.linalg.norm(old) <= 1e-13).to(old.dtype)
        return old + (first + (1 - first) * rate) * (new - old)

    @torch.no_grad()
    def after_step(self, m: Moments) -> None:
        """The authors' ``update_duals`` then ``update_barrier_coefficients``, from the errors of the batch just used
        (the moments of this step's forward pass, before the optimizer step)."""
        E = [e.detach() for e in self.constraint_errors(m)]
        self.errors.copy_(self._average(self.errors, torch.stack(E).mean(0), self.error_rate))
        self.quadratic_errors.copy_(
            self._average(self.quadratic_errors, cross_products(E, E), self.quadratic_error_rate)
        )
        duals = (self.duals + self.lr_duals * self.lower * self.errors).clamp(self.min_duals, self.max_duals)
        self.duals.copy_(self.lower * duals)
        growth = self.lr_barrier * self.quadratic_errors.clamp_min(0).mean()
        self.barrier.copy_((self.barrier + growth).clamp(self.min_barrier, self.max_barrier))

    def eigenvalues(self, C_diag: Tensor, M_diag: Tensor) -> Tensor:
        """The Rayleigh quotients of the k outputs, sorted descending and assigned to the outputs in order.

        The learner orders modes by these values (a stable sort), so this keeps ALLO's output order, which is how
        the authors score it: output i against the i-th eigenvector. The set of values is the modes' Rayleigh
        quotients (what the harness reports, sorted, for the other methods too); only their assignment to outputs
        is by rank. The dual read-off is :meth:`dual_eigenvalues`."""
        rq = C_diag / M_diag.clamp_min(1e-12) - self.shift
        return torch.sort(rq, descending=True).values

    def dual_eigenvalues(self) -> Tensor:
        """Eigenvalues of T from the duals, in output order: at the optimum ``4 (1 - sigma_i) + beta_ii = 0``
        (graph term un-halved, half gradient on the diagonal constraint), so ``sigma_i = 1 + beta_ii / 4``."""
        return 1.0 + self.duals.diagonal() / 4.0


class ALLOTuned(SpectralObjective):
    """This package's earlier ALLO variant (method ``allo-tuned``), unchanged:

        L = sum_i <f_i, (I - T) f_i> + sum_{i>=j} beta_ij (<f_i, sg f_j> - delta_ij)
            + b sum_{i>=j} (<f_i, sg f_j> - delta_ij)^2

    The stop-gradient on the earlier mode is the sequential moment of ``rlspectral.nesting``. Duals beta follow
    gradient ascent after each step, the barrier b grows linearly to ``barrier_max``. At the optimum
    beta_ii = -(1 - sigma_i), so sigma_i = 1 + beta_ii, by which the learner sorts the modes.
    """

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
