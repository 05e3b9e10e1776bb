"""Operators as pair distributions (docs/design.md).

An operator says how far ahead x' lies from x in an episode (the offset), how its moment is formed from
the pair moment (``pair_weight * T_pairs + identity_weight * I``), whether it is self-adjoint, and how its
eigenvalues map to those of the one-step transition operator P.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from rlspectral.errors import ConfigError


@dataclass(frozen=True)
class Operator:
    """Base: a fixed offset of 1 (the transition operator P)."""

    self_adjoint: bool = True
    pair_weight: float = 1.0
    identity_weight: float = 0.0

    @property
    def name(self) -> str:
        return "transition"

    @property
    def min_offset(self) -> int:
        return 1

    def sample_offsets(self, n: int, rng: np.random.Generator) -> np.ndarray:
        """``n`` offsets k >= 1 (x' = x_{t+k}); the buffer then draws x_t among states with k more steps."""
        return np.full(n, self.min_offset, dtype=np.int64)

    def from_transition(self, p: np.ndarray) -> np.ndarray:
        """Eigenvalues of this operator given those of P (same eigenvectors)."""
        return self.pair_weight * np.asarray(p) + self.identity_weight

    def to_transition(self, sigma: np.ndarray) -> np.ndarray:
        """Inverse of :meth:`from_transition`."""
        return (np.asarray(sigma) - self.identity_weight) / self.pair_weight


def transition() -> Operator:
    """P: consecutive states."""
    return Operator()


def lazy_transition() -> Operator:
    """(I + P) / 2: PSD whenever P is self-adjoint; eigenvalues (1 + p) / 2."""
    return Operator(pair_weight=0.5, identity_weight=0.5)


@dataclass(frozen=True)
class Successor(Operator):
    """S_lambda = (1 - lambda) sum_{k>=1} lambda^(k-1) P^k: offsets k ~ Geometric(1 - lambda).

    Truncation at the episode end: the buffer draws k first and then x_t among states whose episode lasts
    k more steps; shortening k near episode ends would tilt the offset law towards 1 and bias every
    eigenvalue upwards. The law is cut only at the longest episode (lambda^50 = 0.5% for lambda = 0.9)."""

    lam: float = 0.9

    @property
    def name(self) -> str:
        return f"successor({self.lam})"

    def sample_offsets(self, n: int, rng: np.random.Generator) -> np.ndarray:
        return rng.geometric(1.0 - self.lam, size=n).astype(np.int64)

    def from_transition(self, p: np.ndarray) -> np.ndarray:
        p = np.asarray(p, dtype=np.float64)
        return (1 - self.lam) * p / (1 - self.lam * p)

    def to_transition(self, sigma: np.ndarray) -> np.ndarray:
        s = np.asarray(sigma, dtype=np.float64)
        return s / (1 - self.lam + self.lam * s)


def successor(lam: float = 0.9) -> Successor:
    if not 0.0 < lam < 1.0:
        raise ConfigError.invalid("lam", lam, "the successor's lambda must lie in (0, 1), e.g. 0.9")
    return Successor(lam=lam)


@dataclass(frozen=True)
class TimeLag(Operator):
    """T_tau (Koopman / transfer operator): x' = x_{t+tau}; not self-adjoint in general (use SVD)."""

    tau: int = 1

    @property
    def name(self) -> str:
        return f"time-lag({self.tau})"

    @property
    def min_offset(self) -> int:
        return self.tau

    def from_transition(self, p: np.ndarray) -> np.ndarray:
        return np.asarray(p, dtype=np.float64) ** self.tau

    def to_transition(self, sigma: np.ndarray) -> np.ndarray:
        s = np.asarray(sigma, dtype=np.float64)
        return np.sign(s) * np.abs(s) ** (1.0 / self.tau)


def time_lag(tau: int = 1, self_adjoint: bool = False) -> TimeLag:
    if tau < 1:
        raise ConfigError.invalid("tau", tau, "the lag must be an integer >= 1")
    return TimeLag(tau=tau, self_adjoint=self_adjoint)


OPERATOR_SPECS = "transition, lazy, successor[:lambda] (lambda in (0, 1)) or time-lag[:tau] (tau >= 1)"


def make_operator(spec: str) -> Operator:
    """Parse ``transition``, ``lazy``, ``successor[:lambda]`` or ``time-lag:tau``; anything else is a one-line
    :class:`ConfigError` about the field ``operator``."""
    name, _, arg = spec.partition(":") if isinstance(spec, str) else ("", "", "")
    try:
        if name == "transition" and not arg:
            return transition()
        if name == "lazy" and not arg:
            return lazy_transition()
        if name == "successor":
            return successor(float(arg) if arg else 0.9)
        if name in ("time-lag", "timelag", "lag"):
            return time_lag(int(arg) if arg else 1)
    except ValueError:  # a number that does not parse, or out of range
        pass
    raise ConfigError.invalid("operator", spec, f"use {OPERATOR_SPECS}")
