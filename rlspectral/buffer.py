"""Episodic replay of states, and the pair sampler that turns it into operator pairs.

States are stored in a ring together with ``room``: how many later states of the same episode follow
each one. A pair (x_t, x_{t+k}) draws the offset k from the operator's law first, then x_t uniformly among
the states with room >= k: no pair crosses an episode boundary and the offset law is not tilted towards
short offsets (as clipping k, or rejecting (x, k) together, would do).
When the ring wraps, the oldest states go first; a kept state's successors are newer,
so they are kept too.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
from torch import Tensor

from rlspectral.operators import Operator


class EpisodicBuffer:
    """Ring buffer of observations grouped in episodes."""

    def __init__(self, capacity: int, obs_shape: Sequence[int], dtype: torch.dtype = torch.float32):
        if capacity < 2:
            raise ValueError(f"buffer capacity must be >= 2, got {capacity}")
        self.capacity = int(capacity)
        self.obs_shape = tuple(int(s) for s in obs_shape)
        self.obs = torch.zeros((self.capacity, *self.obs_shape), dtype=dtype)
        self.room = np.zeros(self.capacity, dtype=np.int64)
        self.pos = 0
        self.size = 0

    def __len__(self) -> int:
        return self.size

    def add_episode(self, observations: np.ndarray | Tensor) -> None:
        """Append one episode (or a piece of one), observations ``[T + 1, *obs_shape]`` in time order."""
        obs = torch.as_tensor(np.asarray(observations) if not isinstance(observations, Tensor) else observations)
        if tuple(obs.shape[1:]) != self.obs_shape:
            raise ValueError(f"episode observations have shape {tuple(obs.shape[1:])}, buffer expects {self.obs_shape}")
        n = obs.shape[0]
        if n > self.capacity:
            obs, n = obs[-self.capacity :], self.capacity
        idx = (self.pos + np.arange(n)) % self.capacity
        self.obs[torch.from_numpy(idx)] = obs.to(self.obs.dtype)
        self.room[idx] = np.arange(n - 1, -1, -1)
        self.pos = int((self.pos + n) % self.capacity)
        self.size = min(self.size + n, self.capacity)

    def sample_pairs(self, batch_size: int, operator: Operator, rng: np.random.Generator) -> tuple[Tensor, Tensor]:
        """``batch_size`` pairs (x, x') of the operator's pair distribution, x uniform over eligible states."""
        if self.size == 0:
            raise ValueError("the buffer is empty: add episodes before sampling pairs")
        max_room = int(self.room[: self.size].max())
        if max_room < operator.min_offset:
            raise ValueError(f"no episode in the buffer is long enough for {operator.name} pairs")
        # Offsets follow the operator's law, cut at the longest episode; then x is drawn uniformly among
        # the states whose episode lasts k more steps (redrawing x, never k, so the law is not tilted).
        k = operator.sample_offsets(batch_size, rng)
        for _ in range(1000):
            long = k > max_room
            if not long.any():
                break
            k[long] = operator.sample_offsets(int(long.sum()), rng)
        k = np.minimum(k, max_room)
        i = rng.integers(0, self.size, size=batch_size)
        for _ in range(10000):
            bad = self.room[i] < k
            if not bad.any():
                break
            i[bad] = rng.integers(0, self.size, size=int(bad.sum()))
        else:
            raise ValueError(f"the buffer holds too few states with enough later steps for {operator.name} pairs")
        j = (i + k) % self.capacity
        return self.obs[torch.from_numpy(i)], self.obs[torch.from_numpy(j)]


class PairSampler:
    """Draws pair batches of one operator from a buffer: ``sampler(batch_size) -> (x, x')``."""

    def __init__(self, buffer: EpisodicBuffer, operator: Operator, seed: int | None = None):
        self.buffer, self.operator = buffer, operator
        self.rng = np.random.default_rng(seed)

    def __call__(self, batch_size: int) -> tuple[Tensor, Tensor]:
        return self.buffer.sample_pairs(batch_size, self.operator, self.rng)
