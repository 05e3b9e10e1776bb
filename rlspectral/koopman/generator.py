"""Eigenpairs of the generator of a reversible diffusion from stationary samples alone (no pairs).

For ``dx = -grad V dt + sqrt(2 / beta) dW`` with generator L and stationary density rho, the Dirichlet form is
``<f, -L g>_rho = beta^-1 E_rho[grad f . grad g]``. NestedLoRA learns the top eigenpairs of the shifted operator
``shift I + L`` rescaled by ``1 / shift`` (top eigenvalues in (0, 1] like a transfer operator's) from the
per-chunk moments ``C = M - (shift beta)^-1 E[J^T J]`` and ``M = E[F^T F]`` (J the network's input Jacobian, by
autograd): :func:`dirichlet_moments`. The generator's eigenvalues are ``lambda = shift (sigma - 1)``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

import numpy as np
import torch
from torch import Tensor, nn

from rlspectral.errors import ConfigError
from rlspectral.learner import LearnerConfig, SpectralLearner
from rlspectral.moments import Moments
from rlspectral.nesting import moment


def input_jacobian(net: nn.Module, x: Tensor) -> tuple[Tensor, Tensor]:
    """``(F, J)``: ``F = net(x) [B, k]`` and ``J[d] = dF/dx_d [B, k]`` for each input dimension, differentiable
    in the parameters (double-backward: ``u -> grad_x <u, F>`` is linear in u, its u-gradient is the Jacobian)."""
    x = x.detach().float().requires_grad_(True)
    with torch.enable_grad():
        F = net(x)
        u = torch.zeros_like(F, requires_grad=True)
        (gx,) = torch.autograd.grad(F, x, u, create_graph=True)
        gx = gx.flatten(1)
        J = [torch.autograd.grad(gx[:, j].sum(), u, create_graph=True)[0] for j in range(gx.shape[1])]
    return F, torch.stack(J)


def dirichlet_moments(
    F: Tensor,
    J: Tensor,
    beta: float,
    *,
    shift: float,
    splits: int = 2,
    sequential: bool = False,
    inv_scale: Tensor | None = None,
    weights: Tensor | None = None,
    potential: Tensor | None = None,
) -> Moments:
    """Chunk-wise moments of ``shift I + L``: ``C_s = shift M_s - beta^-1 sum_d J_d^T J_d / B``, ``M_s = F^T F / B``.

    ``inv_scale [d]`` rescales the Jacobian when the network sees standardized inputs ``z = (x - m) / s``
    (``dF/dx_d = s_d^-1 dF/dz_d``). ``weights [B]`` are importance weights 1/q(x) of samples x ~ q (every mean
    becomes ``mean_b w_b ...``, an unbiased estimate of the integral over dx); ``potential [B]`` adds ``-V``:
    ``C_s = shift M_s - beta^-1 sum_d J_d^T W J_d / B - F^T W V F / B``, the moment of ``shift I - (-beta^-1 Delta
    + V)`` (a Schrodinger operator, :mod:`rlspectral.pde`).
    """
    B = F.shape[0]
    if B < splits:
        raise ConfigError(f"batch_size={B} cannot be cut into {splits} independent chunks; pass at least {splits}")
    if inv_scale is not None:
        J = J * inv_scale.to(J)[:, None, None]
    size = B // splits
    Cs, Ms = [], []
    for s in range(splits):
        chunk = slice(s * size, (s + 1) * size)
        f, jac = F[chunk], J[:, chunk]
        w = None if weights is None else weights[chunk].to(F)[:, None]
        M = moment(f, f if w is None else w * f, sequential)
        dirichlet = sum(moment(jac[d], jac[d] if w is None else w * jac[d], sequential) for d in range(jac.shape[0]))
        C = shift * M - dirichlet / beta
        if potential is not None:
            v = potential[chunk].to(F)[:, None]
            C = C - moment(f, (v if w is None else w * v) * f, sequential)
        Cs.append(C)
        Ms.append(M)
    return Moments(C=Cs, Mf=Ms, Mg=Ms, F=F, G=F)


class GeneratorLearner(SpectralLearner):
    """A one-network learner of the top eigenpairs of the generator L of a reversible diffusion
    ``dx = -grad V dt + sqrt(2 / beta) dW``, from stationary samples alone (pairs are not needed).

    NestedLoRA sees the operator ``I + L / shift`` (moments :func:`dirichlet_moments` with ``beta * shift`` and
    unit shift): ``shift I + L`` rescaled so its top eigenvalues lie in (0, 1] like a transfer operator's.
    ``shift`` must exceed ``-lambda`` of the fastest mode to be learned. ``eigenvalues`` and
    ``eigenfunctions(solve=True)`` return the generator's eigenvalues ``lambda = shift (sigma - 1)``.
    Batches come from a sampler returning ``(x, None)`` (:class:`rlspectral.koopman.StateSampler`).
    """

    def __init__(
        self,
        config: LearnerConfig,
        beta: float,
        shift: float,
        device: str | torch.device = "cpu",
        inv_scale: Sequence[float] | None = None,
        log_dir: str | Path | None = None,
    ):
        if not shift > 0:
            raise ConfigError(f"shift={shift}: the generator shift must be > 0, above -lambda of the fastest mode")
        if not beta > 0:
            raise ConfigError(f"beta={beta}: the inverse temperature must be > 0")
        kwargs = {**config.objective_kwargs, "shift": 1.0}
        super().__init__(
            replace(config, svd=False, dedup=False, objective_kwargs=kwargs), device=device, log_dir=log_dir
        )
        self.beta, self.shift = float(beta), float(shift)
        self.inv_scale = None if inv_scale is None else torch.as_tensor(inv_scale, dtype=torch.float32)

    def moments(self, x: Tensor, y: Tensor | None = None) -> Moments:
        x = x.to(self.device) if y is None else torch.cat([x, y]).to(self.device)
        F, J = input_jacobian(self.f, x)
        return dirichlet_moments(
            F,
            J,
            self.beta * self.shift,
            shift=self.objective.shift,
            splits=self.objective.splits,
            sequential=self.objective.sequential,
            inv_scale=self.inv_scale,
        )

    def matrices(self, z: Tensor, batch: int = 8192) -> tuple[np.ndarray, np.ndarray]:
        """Galerkin matrices over network inputs ``z``: ``M = E[F F^T]`` and ``L = -beta^-1 E[J J^T]`` (float64;
        J with respect to the unstandardized state when ``inv_scale`` is set)."""
        k = self.config.k
        M, D = torch.zeros(k, k, dtype=torch.float64), torch.zeros(k, k, dtype=torch.float64)
        for i in range(0, len(z), batch):
            F, J = input_jacobian(self.f, z[i : i + batch].to(self.device))
            if self.inv_scale is not None:
                J = J * self.inv_scale.to(J)[:, None, None]
            F, J = F.detach().double().cpu(), J.detach().double().cpu()
            M += F.T @ F
            D += torch.einsum("dbi,dbj->ij", J, J)
        return (M / len(z)).numpy(), (-D / len(z) / self.beta).numpy()

    @property
    def eigenvalues(self) -> np.ndarray:
        """Running estimates of the generator's eigenvalues lambda, in mode order."""
        return self.shift * super().eigenvalues

    def eigenfunctions(self, x: Tensor, solve: bool = False) -> tuple[np.ndarray, Tensor]:
        values, phi = super().eigenfunctions(x, solve=solve)
        return self.shift * values, phi
