"""TrajFitConfig: one fit on trajectories, checked field by field (a bad value is one :class:`ConfigError` line)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from rlspectral.config import check, check_choice, check_int, check_sizes, config_dict, is_int, is_real
from rlspectral.objectives import OBJECTIVES

# The objectives defined for two networks on a time-lag operator (from the one table in rlspectral.objectives),
# plus the generator (NestedLoRA on Dirichlet-form moments, rlspectral.koopman.generator).
TRAJ_METHODS: tuple[str, ...] = (*(m for m, (cls, _) in OBJECTIVES.items() if cls.supports_svd), "generator")
# Koopman matrices on the learned functions (rlspectral.koopman.estimators): koopman_model, svd_koopman_model, and
# svd_koopman_model truncated to the rank that maximizes VAMP-E on held-out trajectories (select_rank).
ESTIMATORS: tuple[str, ...] = ("galerkin", "svd", "svd-rank")


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
    estimator: str = "galerkin"  # galerkin: K = C00^-1 C01 on f | svd: truncated SVD of (f, g) (two networks) |
    # svd-rank: that SVD kept to the rank with the best held-out VAMP-E (fit_trajectories(valid=...))
    standardize: bool = False  # the network sees (x - mean) / std of the training data
    eval_pairs: int = 200_000
    seed: int = 0
    holdout: float = 0.2  # share of the trajectories (or of one trajectory's time axis) held out for VAMP scores
    validate_every: int = 0  # early stopping: score held-out VAMP-E every N steps, keep the best networks (0: off)
    threads: int = 0  # torch threads (0: torch's default)
    objective_kwargs: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        """Check every field; a bad one is a one-line :class:`~rlspectral.errors.ConfigError` naming it."""
        self.hidden = tuple(self.hidden)
        check_choice(self, "method", TRAJ_METHODS)
        check_choice(self, "estimator", ESTIMATORS)
        two = self.svd and self.method != "generator"
        check(self.estimator == "galerkin" or two, "estimator", self.estimator, "this estimator needs two networks")
        check_int(self, 1, "lag", "steps", "batch_size", "eval_pairs")
        check(is_int(self.k) and self.k >= 2, "k", self.k, "pass k >= 2: the first mode is the constant")
        check_int(self, 0, "fourier_features", "threads", "validate_every")
        for name in ("dt", "lr", "beta", "shift", "fourier_scale"):
            value = getattr(self, name)
            check(is_real(value) and value > 0, name, value, "pass a finite number > 0")
        check(is_real(self.holdout) and 0 <= self.holdout < 1, "holdout", self.holdout, "pass a share in [0, 1)")
        check_sizes(self, "hidden")
        check(
            not (self.validate_every and self.method == "generator"), "validate_every", self.validate_every,
            "early stopping scores VAMP-E of a time-lag fit; pass 0 with the generator",
        )  # fmt: skip
        check(isinstance(self.objective_kwargs, dict), "objective_kwargs", self.objective_kwargs, "pass a dict")

    def to_dict(self) -> dict[str, Any]:
        return config_dict(self)
