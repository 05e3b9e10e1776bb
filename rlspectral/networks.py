"""Eigen-networks: observation -> k mode values.

``MLP`` for vector observations (optional random Fourier-feature input), ``SmallCNN`` for image
observations (channels first, uint8 or float), ``Table`` for a finite set of ids (a free value per id and mode: a
graph's nodes, transductive), and an optional constant first mode f_1(x) = c with a learned
scale c (the top eigenfunction of a stochastic operator is constant).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import torch
from torch import Tensor, nn

from rlspectral.config import check, check_int, check_sizes, config_dict, is_int, is_real
from rlspectral.errors import ConfigError


@dataclass
class NetworkConfig:
    """Everything needed to rebuild a network (stored in checkpoints)."""

    obs_shape: tuple[int, ...]
    k: int
    hidden: tuple[int, ...] = (256, 256, 256)
    fourier_features: int = 0  # number of random frequencies (0: raw input)
    fourier_scale: float = 1.0  # std of the random frequencies
    constant_mode: bool = False
    cnn_channels: tuple[int, ...] = field(default=(32, 64))
    inputs: tuple[int, ...] = ()  # vector observations: the entries the network reads (empty: all)
    input_low: tuple[float, ...] = ()  # with input_high: the read entries are mapped from [low, high] to [-1, 1]
    input_high: tuple[float, ...] = ()
    table: int = 0  # > 0: observations are ids 0..table-1 (shape (1,)) and the body is a free table (:class:`Table`)

    def __post_init__(self) -> None:
        shape = tuple(self.obs_shape)
        ok = len(shape) in (1, 2, 3) and all(is_int(s) and s >= 1 for s in shape)
        check(ok, "obs_shape", self.obs_shape, "pass a vector shape (d,) or an image shape (C, H, W); flatten others")
        check_int(self, 1, "k")
        check(self.k > int(self.constant_mode), "k", self.k, "constant_mode takes one mode: pass k >= 2")
        check_sizes(self, "hidden")
        check_sizes(self, "cnn_channels")
        check_int(self, 0, "fourier_features", "table")
        check(not self.table or shape == (1,), "obs_shape", self.obs_shape, "a table reads one id per row: pass (1,)")
        if self.fourier_features:
            check(is_real(self.fourier_scale) and self.fourier_scale > 0, "fourier_scale", self.fourier_scale,
                  "pass a finite std > 0 for the random frequencies")  # fmt: skip
        if len(shape) == 3:
            for name in ("inputs", "input_low", "input_high"):
                check(not getattr(self, name), name, getattr(self, name), "images are read whole: leave it empty")
            return
        check_inputs(self.inputs, self.input_low, self.input_high, math.prod(shape))

    def to_dict(self) -> dict:
        return config_dict(self)

    @classmethod
    def from_dict(cls, d: dict) -> NetworkConfig:
        d = dict(d)
        for key in ("obs_shape", "hidden", "cnn_channels", "inputs", "input_low", "input_high"):
            if key in d:
                d[key] = tuple(d[key])
        return cls(**d)


def check_inputs(inputs: Sequence[int], low: Sequence[float], high: Sequence[float], in_dim: int) -> None:
    """``inputs`` index the ``in_dim`` observation entries; ``low`` / ``high`` bound each read entry (or are empty)."""
    if not all(is_int(i) and 0 <= i < in_dim for i in inputs):
        raise ConfigError.invalid("inputs", tuple(inputs), f"an index outside the {in_dim} observation entries")
    n = len(inputs) or in_dim
    if low or high:
        ok = len(low) == len(high) == n and all(is_real(lo) and is_real(h) and h > lo for lo, h in zip(low, high))
        check(ok, "input_low", tuple(low), f"with input_high {tuple(high)}: pass {n} finite pairs with high > low")


class FourierFeatures(nn.Module):
    """x -> [cos(2 pi B x), sin(2 pi B x)] with fixed Gaussian frequencies B (Tancik et al., 2020)."""

    def __init__(self, in_dim: int, n: int, scale: float):
        super().__init__()
        self.register_buffer("B", torch.randn(in_dim, n) * scale)
        self.out_dim = 2 * n

    def forward(self, x: Tensor) -> Tensor:
        z = 2 * math.pi * x @ self.B
        return torch.cat([torch.cos(z), torch.sin(z)], dim=-1)


def mlp(in_dim: int, hidden: Sequence[int], out_dim: int) -> nn.Sequential:
    layers: list[nn.Module] = []
    for h in hidden:
        layers += [nn.Linear(in_dim, h), nn.ReLU()]
        in_dim = h
    layers.append(nn.Linear(in_dim, out_dim))
    return nn.Sequential(*layers)


class MLP(nn.Module):
    """MLP on the flattened observation, or on its entries ``inputs`` only (e.g. a position inside a state),
    optionally rescaled from ``[low, high]`` to ``[-1, 1]`` (state variables of very different ranges)."""

    def __init__(
        self,
        in_dim: int,
        out_dim: int,
        hidden: Sequence[int],
        fourier_features: int,
        fourier_scale: float,
        inputs: Sequence[int] = (),
        low: Sequence[float] = (),
        high: Sequence[float] = (),
    ):
        super().__init__()
        check_inputs(inputs, low, high, in_dim)
        self.register_buffer("inputs", torch.as_tensor(list(inputs), dtype=torch.long), persistent=False)
        in_dim = len(inputs) or in_dim
        lo, hi = torch.as_tensor(list(low), dtype=torch.float32), torch.as_tensor(list(high), dtype=torch.float32)
        self.register_buffer("center", (hi + lo) / 2 if len(low) else torch.zeros(0), persistent=False)
        self.register_buffer("half_range", (hi - lo) / 2 if len(low) else torch.zeros(0), persistent=False)
        self.fourier = FourierFeatures(in_dim, fourier_features, fourier_scale) if fourier_features else None
        self.body = mlp(self.fourier.out_dim if self.fourier else in_dim, hidden, out_dim)

    def forward(self, x: Tensor) -> Tensor:
        x = x.flatten(1).float()
        if self.inputs.numel():
            x = x.index_select(1, self.inputs)
        if self.center.numel():
            x = (x - self.center) / self.half_range
        return self.body(self.fourier(x) if self.fourier is not None else x)


class SmallCNN(nn.Module):
    """Two 3x3 conv layers (stride 1, then 2), flatten, MLP head; uint8 inputs are scaled to [0, 1]."""

    def __init__(self, obs_shape: Sequence[int], out_dim: int, hidden: Sequence[int], channels: Sequence[int]):
        super().__init__()
        c, h, w = obs_shape
        convs: list[nn.Module] = []
        for i, ch in enumerate(channels):
            convs += [nn.Conv2d(c, ch, 3, stride=1 if i == 0 else 2, padding=1), nn.ReLU()]
            c = ch
        self.conv = nn.Sequential(*convs, nn.Flatten())
        with torch.no_grad():
            n = self.conv(torch.zeros(1, *obs_shape)).shape[1]
        self.head = mlp(n, hidden, out_dim)

    def forward(self, x: Tensor) -> Tensor:
        x = x.float() / 255.0 if x.dtype == torch.uint8 else x.float()
        return self.head(self.conv(x))


class Table(nn.Module):
    """A free value per id and mode: ``f(i) = E[i] W + b`` with E [n, width] and a linear output layer (so a
    Rayleigh-Ritz step can mix the modes like any network's); ids are read from ``[B, 1]`` observations.

    E has sparse gradients (only the rows of the batch's ids), so the learner steps it with ``SparseAdam`` and a
    step costs O(batch x width), not O(n x width): a graph of 10^6 nodes steps as fast as one of 10^3."""

    def __init__(self, n: int, out_dim: int, width: int):
        super().__init__()
        self.body = nn.Sequential(nn.Embedding(n, width, sparse=True), nn.Linear(width, out_dim))

    def forward(self, x: Tensor) -> Tensor:
        return self.body(x.reshape(-1).long())


class EigenNetwork(nn.Module):
    """Body network plus an optional constant first mode; output ``[batch, k]``."""

    def __init__(self, config: NetworkConfig):
        super().__init__()
        self.config = config  # checked by NetworkConfig.__post_init__
        n_learned = config.k - int(config.constant_mode)
        shape = tuple(config.obs_shape)
        if len(shape) == 3:
            self.body: nn.Module = SmallCNN(shape, n_learned, config.hidden, config.cnn_channels)
        elif config.table:
            self.body = Table(config.table, n_learned, n_learned)
        else:
            self.body = MLP(
                math.prod(shape), n_learned, config.hidden, config.fourier_features, config.fourier_scale,
                config.inputs, config.input_low, config.input_high,
            )  # fmt: skip
        self.scale = nn.Parameter(torch.ones(())) if config.constant_mode else None

    def output_layer(self) -> nn.Linear:
        """The last linear layer (its rows are the learned modes; a Rayleigh-Ritz step mixes them)."""
        head = self.body.head if isinstance(self.body, SmallCNN) else self.body.body
        return head[-1]

    def forward(self, x: Tensor) -> Tensor:
        out = self.body(x)
        if self.scale is None:
            return out
        return torch.cat([self.scale.expand(out.shape[0], 1), out], dim=1)
