"""Exceptions with one-line, actionable messages."""

from __future__ import annotations


class SpectralError(Exception):
    """Base class for every error rlspectral raises on purpose (a bad input, a diverged fit)."""


class DivergenceError(SpectralError):
    """The loss became NaN/inf or blew up; raised with the step at which it happened."""


class CheckpointError(SpectralError):
    """A checkpoint file is missing, corrupt, or does not match the requested model."""


class LayoutError(SpectralError):
    """A gridworld text layout is malformed."""
