"""Which observation spaces the SB3 plugin takes, and the one-line error for the others.

Eigenfunctions are learned on the observation array itself, so the plugin needs a ``Box``: a vector ``(d,)``
(or ``(n, d)``, flattened) or a channels-first image ``(C, H, W)`` (uint8 images reach the eigen-network
scaled to [0, 1], as SB3's ``normalize_images`` does). ``Dict``, ``Discrete`` and other spaces are refused
with a one-line :class:`ObservationSpaceError` saying how to fix it (pick or flatten a key with a gymnasium
wrapper, or one-hot encode a discrete state).
"""

from __future__ import annotations

import gymnasium as gym
import torch

from rlspectral.errors import SpectralError


class ObservationSpaceError(SpectralError, ValueError):
    """The environment's observation space cannot feed an eigen-network."""


def spectral_obs_shape(space: gym.Space) -> tuple[int, ...]:
    """The eigen-network's input shape for ``space``; raises :class:`ObservationSpaceError` for other spaces."""
    if isinstance(space, gym.spaces.Dict):
        keys = ", ".join(map(str, space.spaces))
        raise ObservationSpaceError(
            f"Dict observations ({keys}) are not supported: select one key with "
            "gymnasium.wrappers.FilterObservation or flatten them with gymnasium.wrappers.FlattenObservation"
        )
    if not isinstance(space, gym.spaces.Box):
        raise ObservationSpaceError(
            f"{type(space).__name__} observations are not supported: spectral features need a Box "
            "(vector or channels-first image); wrap the env to emit one (e.g. a one-hot Box for a Discrete state)"
        )
    shape = tuple(int(s) for s in space.shape)
    if len(shape) not in (1, 2, 3) or 0 in shape:
        raise ObservationSpaceError(
            f"Box observations of shape {shape} are not supported: use a vector (d,) or an image (C, H, W)"
        )
    return shape


def buffer_dtype(space: gym.spaces.Box) -> torch.dtype:
    """uint8 storage for uint8 (image) spaces, float32 otherwise."""
    return torch.uint8 if space.dtype == "uint8" else torch.float32
