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


class ConfigError(SpectralError, ValueError):
    """A configuration field (or the command-line flag behind it) has a value that cannot work; the message names
    the field, the value and what to pass instead. Raised by the configs' own validation, so every entry point
    (Python, ``rlspectral fit``, ``fit-traj``, ``train``) reports it the same way."""
