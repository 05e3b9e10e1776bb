"""Random-policy replay for gridworlds, straight into an :class:`~rlspectral.EpisodicBuffer`."""

from __future__ import annotations

import numpy as np

from rlspectral.buffer import EpisodicBuffer
from rlspectral.envs.gridworld import Grid


def random_walk_buffer(
    grid: Grid, obs: str = "xy", n_episodes: int = 1000, episode_length: int = 50, seed: int = 0, rgb: bool = False
) -> EpisodicBuffer:
    """Collect ``n_episodes`` uniform-policy episodes (uniform starts) as observations in a buffer."""
    rng = np.random.default_rng(seed)
    states = grid.random_walks(n_episodes, episode_length, rng)
    table = grid.observations(obs, rgb)
    import torch

    dtype = torch.uint8 if table.dtype == np.uint8 else torch.float32
    buf = EpisodicBuffer(n_episodes * (episode_length + 1), table.shape[1:], dtype=dtype)
    for ep in states:
        buf.add_episode(table[ep])
    return buf
