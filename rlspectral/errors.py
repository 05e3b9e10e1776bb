"""Exceptions with one-line, actionable messages."""

from __future__ import annotations

from collections.abc import Container, Mapping
from typing import Any


class SpectralError(Exception):
    """Base class for every error rlspectral raises on purpose (a bad input, a diverged fit)."""


class DivergenceError(SpectralError):
    """The loss became NaN/inf or blew up; raised with the step at which it happened."""


class CheckpointError(SpectralError):
    """A checkpoint file is missing, corrupt, or does not match the requested model."""


class LayoutError(SpectralError):
    """A gridworld text layout is malformed."""


class DataError(SpectralError, ValueError):
    """The data (replay, an episode, a batch) cannot serve the request: empty, too short, or of the wrong shape."""


class MissingDependencyError(SpectralError, ImportError):
    """An optional dependency is not installed; the message says which ``pip install`` brings it."""


class ConfigError(SpectralError, ValueError):
    """A configuration field (or the command-line flag behind it) has a value that cannot work; the message names
    the field, the value and what to pass instead. Raised by the configs' own validation, so every entry point
    (Python, ``rlspectral fit``, ``fit-traj``, ``train``) reports it the same way.

    ``field`` is the offending field's name when the message starts with it (:meth:`invalid` builds such
    messages), so a command line can put the flag the user typed in its place (:func:`command_line_message`)."""

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.field = field

    @classmethod
    def invalid(cls, field: str, value: Any, fix: str) -> ConfigError:
        """``field=value: fix``, e.g. ``ConfigError.invalid("k", 0, "pass the number of modes, >= 1")``."""
        return cls(f"{field}={value!r}: {fix}", field)

    def renamed(self, name: str) -> str:
        """The message with the field called ``name`` (e.g. ``--batch-size`` for ``batch_size``)."""
        message = str(self)
        if self.field and message.startswith(self.field):
            return name + message[len(self.field) :]
        return message


def command_line_message(error: Exception, flags: Container[str], rename: Mapping[str, str] | None = None) -> str:
    """``error`` as the one line a command prints: a :class:`ConfigError` about a field that is also a flag (a dest
    in ``flags``, e.g. ``vars(args)``) names the flag, ``--batch-size`` for ``batch_size``; ``rename`` maps fields
    whose flag is spelled otherwise (field -> flag)."""
    if isinstance(error, ConfigError) and error.field:
        if rename and error.field in rename:
            return error.renamed(rename[error.field])
        if error.field in flags:
            return error.renamed("--" + error.field.replace("_", "-"))
    return str(error)
