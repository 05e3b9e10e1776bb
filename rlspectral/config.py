"""What every plain-data config shares: its JSON-able dict, and the field checks its ``__post_init__`` runs.

A check raises a one-line :class:`~rlspectral.errors.ConfigError` that names the field, the value and what to
pass (``steps=0: pass an integer >= 1``), so Python callers and every command line report it the same way.
"""

from __future__ import annotations

import math
from dataclasses import asdict
from numbers import Integral, Real
from typing import Any

from rlspectral.errors import ConfigError


def config_dict(cfg: Any) -> dict[str, Any]:
    """A dataclass config as a JSON-able dict: every field in order, tuple values as lists (what checkpoints and
    metrics.json store; ``from_dict`` / ``Config(**d)`` turn them back)."""
    return {key: list(v) if isinstance(v, tuple) else v for key, v in asdict(cfg).items()}


def check(ok: bool, field: str, value: Any, fix: str) -> None:
    """Raise ``ConfigError.invalid(field, value, fix)`` unless ``ok``."""
    if not ok:
        raise ConfigError.invalid(field, value, fix)


def is_int(value: Any) -> bool:
    return isinstance(value, Integral) and not isinstance(value, bool)


def is_real(value: Any) -> bool:
    return isinstance(value, Real) and not isinstance(value, bool) and math.isfinite(value)


def check_int(cfg: Any, minimum: int, *fields: str) -> None:
    """Each of ``fields`` of ``cfg`` is an integer >= ``minimum``."""
    for name in fields:
        value = getattr(cfg, name)
        check(is_int(value) and value >= minimum, name, value, f"pass an integer >= {minimum}")


def check_choice(cfg: Any, name: str, choices: tuple[str, ...]) -> None:
    value = getattr(cfg, name)
    check(value in choices, name, value, f"pass one of {', '.join(choices)}")


def check_sizes(cfg: Any, name: str) -> None:
    """A tuple (or list) of integers >= 1, e.g. hidden layer widths."""
    value = getattr(cfg, name)
    ok = isinstance(value, (tuple, list)) and all(is_int(v) and v >= 1 for v in value)
    check(ok, name, value, "pass a tuple of integers >= 1, e.g. (256, 256)")
