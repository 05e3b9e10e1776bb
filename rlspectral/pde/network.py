"""The PDE eigen-network: a smooth MLP whose last hidden units carry decaying envelopes, with first derivatives
propagated alongside the values (forward mode, by hand).

    h(x) = MLP_tanh([x / L, r / L])            (r = |x| input only for the ``exp`` envelope)
    g_m(x) = h_m(x) e_m(x),  e_m = exp(-a_m r) (``exp``) or exp(-a_m r^2) (``gauss``),  a_m = softplus(p_m) > 0
    f(x) = W g(x)                              (no bias: every output decays)

Bound states are polynomials times exponentials (Laguerre / Hermite forms); the per-unit decay rates a_m are learned
from a log-spaced start covering the shells wanted (FermiNet-style envelopes; the r input lets a smooth network
represent the Coulomb cusp). The outputs are linear in the last layer, so a Rayleigh-Ritz step on ``output_layer()``
mixes whole eigenfunctions (``SpectralLearner.realign``).

:meth:`PDENetwork.with_gradients` returns ``(f [B, k], J [d, B, k])`` with ``J[a] = df/dx_a`` by propagating the d
tangents through each layer (``dz = W dh``, ``dh' = act'(z) dz``): plain tensor ops, so the parameter gradient of
any moment of (f, J) is ordinary backpropagation.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as Fn
from torch import Tensor, nn

from rlspectral.config import check, check_int, check_sizes, config_dict, is_real

EPS_R = 1e-12  # r = sqrt(|x|^2 + EPS_R^2): finite gradient at the origin


@dataclass
class PDENetworkConfig:
    """Everything to rebuild a :class:`PDENetwork` (stored in checkpoints)."""

    dim: int
    k: int
    hidden: tuple[int, ...] = (64, 64, 64)
    envelope: str = "exp"  # exp (Coulomb) | gauss (oscillator)
    length: float = 1.0  # input scale L
    decay_low: float = 0.1  # initial envelope rates a_m, log-spaced in [low, high]
    decay_high: float = 1.0

    def __post_init__(self) -> None:
        check_int(self, 1, "dim", "k")
        check_sizes(self, "hidden")
        check(self.envelope in ("exp", "gauss"), "envelope", self.envelope, "pass exp or gauss")
        for name in ("length", "decay_low", "decay_high"):
            value = getattr(self, name)
            check(is_real(value) and value > 0, name, value, "pass a number > 0")

    def to_dict(self) -> dict:
        return config_dict(self)

    @classmethod
    def from_dict(cls, d: dict) -> PDENetworkConfig:
        d = dict(d)
        d["hidden"] = tuple(d["hidden"])
        return cls(**d)


class PDENetwork(nn.Module):
    """Module doc. ``forward(x)`` gives f; :meth:`with_gradients` gives f and its input Jacobian."""

    def __init__(self, config: PDENetworkConfig):
        super().__init__()
        self.config = config
        width_in = config.dim + (1 if config.envelope == "exp" else 0)
        layers, w = [], width_in
        for h in config.hidden:
            layers.append(nn.Linear(w, h))
            w = h
        self.hidden = nn.ModuleList(layers)
        rates = torch.logspace(math.log10(config.decay_low), math.log10(config.decay_high), w)
        self.raw_decay = nn.Parameter(rates + torch.log(-torch.expm1(-rates)))  # softplus^-1
        self.out = nn.Linear(w, config.k, bias=False)

    def output_layer(self) -> nn.Linear:
        return self.out

    @property
    def decay(self) -> Tensor:
        return Fn.softplus(self.raw_decay)

    def forward(self, x: Tensor) -> Tensor:
        return self._run(x, tangents=False)[0]

    def with_gradients(self, x: Tensor) -> tuple[Tensor, Tensor]:
        """``(f [B, k], J [d, B, k])``, ``J[a] = df/dx_a`` (forward-mode tangents, module doc)."""
        F, J = self._run(x, tangents=True)
        assert J is not None
        return F, J

    def _run(self, x: Tensor, tangents: bool) -> tuple[Tensor, Tensor | None]:
        c = self.config
        x = x.to(self.out.weight.dtype)
        B, d = x.shape
        r = torch.sqrt((x * x).sum(1, keepdim=True) + EPS_R**2)  # [B, 1]
        h = x / c.length
        dh = None
        if tangents:
            eye = torch.eye(d, dtype=x.dtype, device=x.device)
            dh = eye[:, None, :].expand(d, B, d) / c.length  # [d, B, d]
        if c.envelope == "exp":
            h = torch.cat([h, r / c.length], 1)
            if tangents:
                dr = (x / r).T[:, :, None] / c.length  # [d, B, 1]
                dh = torch.cat([dh, dr], 2)
        for layer in self.hidden:
            z = layer(h)
            h = torch.tanh(z)
            if tangents:
                dh = (1 - h * h) * (dh @ layer.weight.T)
        a = self.decay
        if c.envelope == "exp":
            env = torch.exp(-r * a)  # [B, H]
            denv = None if not tangents else (-a * env) * (x / r).T[:, :, None]
        else:
            r2 = r * r - EPS_R**2
            env = torch.exp(-r2 * a)
            denv = None if not tangents else (-2 * a * env) * x.T[:, :, None]
        g = h * env
        F = self.out(g)
        if not tangents:
            return F, None
        J = (dh * env + h * denv) @ self.out.weight.T  # [d, B, k]
        return F, J
