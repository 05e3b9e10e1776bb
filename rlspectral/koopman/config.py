"""TrajFitConfig: one fit on trajectories, checked field by field (a bad value is one :class:`ConfigError` line)."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from numbers import Integral, Real
from typing import Any

from rlspectral.errors import ConfigError
from rlspectral.objectives import OBJECTIVES

# The objectives defined for two networks on a time-lag operator (from the one table in rlspectral.objectives),
# plus the generator (NestedLoRA on Dirichlet-form moments, rlspectral.koopman.generator).
TRAJ_METHODS: tuple[str, ...] = (*(m for m, (cls, _) in OBJECTIVES.items() if cls.supports_svd), "generator")


def _check(ok: bool, name: str, value: Any, fix: str) -> None:
    if not ok:
        raise ConfigError(f"{name}={value!r}: {fix}")


def _positive_int(value: Any) -> bool:
    return isinstance(value, Integral) and not isinstance(value, bool) and value >= 1


def _positive(value: Any) -> bool:
    return isinstance(value, Real) and not isinstance(value, bool) and math.isfinite(value) and value > 0


@dataclass
class TrajFitConfig:
    """One fit on trajectories; defaults are the benchmark's (no per-method tuning)."""

    method: str = "nested-lora"  # one of TRAJ_METHODS
    svd: bool = True  # two networks (f at x_t, g at x_{t+tau}); ignored by the generator (one network)
    lag: int = 10  # tau, in saved steps
    dt: float = 1.0  # time between saved steps (timescales are reported in these units)
    k: int = 4  # modes, including the constant one
    steps: int = 3000
    batch_size: int = 1024
    lr: float = 1e-3
    hidden: tuple[int, ...] = (64, 64)
    fourier_features: int = 32
    fourier_scale: float = 1.0
    beta: float = 1.0  # generator: inverse temperature (noise sqrt(2 / beta))
    shift: float = 10.0  # generator: s of I + L / s (shift I + L), above -lambda of the fastest mode wanted
    reversible: bool = True  # detailed-balance Koopman estimator
    standardize: bool = False  # the network sees (x - mean) / std of the training data
    eval_pairs: int = 200_000
    seed: int = 0
    objective_kwargs: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.hidden = tuple(self.hidden)
        _check(self.method in TRAJ_METHODS, "method", self.method, f"pass one of {', '.join(TRAJ_METHODS)}")
        _check(_positive_int(self.lag), "lag", self.lag, "pass a lag >= 1 (in saved steps)")
        _check(_positive_int(self.k) and self.k >= 2, "k", self.k, "pass k >= 2: the first mode is the constant")
        for name in ("steps", "batch_size", "eval_pairs"):
            _check(_positive_int(getattr(self, name)), name, getattr(self, name), "pass an integer >= 1")
        for name in ("dt", "lr", "beta", "shift", "fourier_scale"):
            _check(_positive(getattr(self, name)), name, getattr(self, name), "pass a finite number > 0")
        _check(
            isinstance(self.fourier_features, Integral) and self.fourier_features >= 0,
            "fourier_features",
            self.fourier_features,
            "pass an integer >= 0 (0: raw input)",
        )
        _check(all(_positive_int(h) for h in self.hidden), "hidden", self.hidden, "pass layer widths >= 1")
        _check(isinstance(self.objective_kwargs, dict), "objective_kwargs", self.objective_kwargs, "pass a dict")

    def to_dict(self) -> dict[str, Any]:
        return {key: list(v) if isinstance(v, tuple) else v for key, v in asdict(self).items()}
