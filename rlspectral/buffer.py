"""Episodic replay of states, and the pair sampler that turns it into operator pairs.

States are stored in a ring together with ``room``: how many later states of the same episode follow
each one. A pair (x_t, x_{t+k}) draws the offset k from the operator's law first, then x_t uniformly among
the states with room >= k: no pair crosses an episode boundary and the offset law is not tilted towards
short offsets (as clipping k, or rejecting (x, k) together, would do). The draw is exact and loop-free: the
states sorted by room (cached until the next episode arrives) put those with room >= k in a prefix.
When the ring wraps, the oldest states go first; a kept state's successors are newer,
so they are kept too. ``age`` (how many earlier states of the same episode are kept) gives each state's episode
extent, from which ``anchors=True`` draws one more state of the pair's episode uniformly (episode-anchored
learning, :meth:`rlspectral.learner.SpectralLearner._anchored_moments`).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
from torch import Tensor

from rlspectral.errors import ConfigError, DataError
from rlspectral.operators import Operator


class EpisodicBuffer:
    """Ring buffer of observations grouped in episodes."""

    def __init__(self, capacity: int, obs_shape: Sequence[int], dtype: torch.dtype = torch.float32):
        if capacity < 2:
            raise ConfigError.invalid("capacity", capacity, "a buffer holds at least one pair: pass >= 2")
        self.capacity = int(capacity)
        self.obs_shape = tuple(int(s) for s in obs_shape)
        self.obs = torch.zeros((self.capacity, *self.obs_shape), dtype=dtype)
        self.room = np.zeros(self.capacity, dtype=np.int64)
        self.age = np.zeros(self.capacity, dtype=np.int64)
        self.pos = 0
        self.size = 0
        self._by_room: tuple[np.ndarray, np.ndarray] | None = None  # (indices by room, descending; #room >= r)

    def __len__(self) -> int:
        return self.size

    def add_episode(self, observations: np.ndarray | Tensor) -> None:
        """Append one episode (or a piece of one), observations ``[T + 1, *obs_shape]`` in time order."""
        obs = torch.as_tensor(np.asarray(observations) if not isinstance(observations, Tensor) else observations)
        if tuple(obs.shape[1:]) != self.obs_shape:
            raise DataError(f"episode observations have shape {tuple(obs.shape[1:])}, buffer expects {self.obs_shape}")
        n = obs.shape[0]
        if n > self.capacity:
            obs, n = obs[-self.capacity :], self.capacity
        idx = (self.pos + np.arange(n)) % self.capacity
        self.obs[torch.from_numpy(idx)] = obs.to(self.obs.dtype)
        self.room[idx] = np.arange(n - 1, -1, -1)
        self.age[idx] = np.arange(n)
        self.pos = int((self.pos + n) % self.capacity)
        self.size = min(self.size + n, self.capacity)
        self._by_room = None
        if self.size == self.capacity and n < self.capacity:  # an episode whose start was just overwritten
            first = self.pos  # the oldest kept state
            lost = int(self.age[first])
            if lost > 0:
                rest = (first + np.arange(int(self.room[first]) + 1)) % self.capacity
                self.age[rest] -= lost

    def _room_index(self) -> tuple[np.ndarray, np.ndarray]:
        """Stored indices sorted by room (descending) and ``at_least[r]`` = how many states have room >= r."""
        if self._by_room is None:
            room = self.room[: self.size]
            order = np.argsort(-room, kind="stable")
            at_least = np.cumsum(np.bincount(room)[::-1])[::-1]
            self._by_room = (order, at_least)
        return self._by_room

    def sample_pairs(
        self, batch_size: int, operator: Operator, rng: np.random.Generator, anchors: bool = False
    ) -> tuple[Tensor, ...]:
        """``batch_size`` pairs (x, x') of the operator's pair distribution, x uniform over eligible states; with
        ``anchors`` also a state a drawn uniformly from each pair's (kept) episode: ``(x, x', a)``."""
        if self.size == 0:
            raise DataError("the buffer is empty: add episodes before sampling pairs")
        order, at_least = self._room_index()
        max_room = len(at_least) - 1
        if max_room < operator.min_offset:
            raise DataError(
                f"no episode in the buffer is long enough for {operator.name} pairs (the longest has {max_room} steps)"
            )
        # Offsets follow the operator's law, cut at the longest episode; then x is drawn uniformly among
        # the states whose episode lasts k more steps (x is conditioned on k, so the law of k is not tilted).
        k = operator.sample_offsets(batch_size, rng)
        for _ in range(1000):
            long = k > max_room
            if not long.any():
                break
            k[long] = operator.sample_offsets(int(long.sum()), rng)
        k = np.minimum(k, max_room)
        # The states with room >= k are the first at_least[k] of ``order``: pick one uniformly.
        i = order[(rng.random(batch_size) * at_least[k]).astype(np.int64)]
        j = (i + k) % self.capacity
        if not anchors:
            return self.obs[torch.from_numpy(i)], self.obs[torch.from_numpy(j)]
        length = self.age[i] + self.room[i] + 1
        a = (i - self.age[i] + (rng.random(batch_size) * length).astype(np.int64)) % self.capacity
        return self.obs[torch.from_numpy(i)], self.obs[torch.from_numpy(j)], self.obs[torch.from_numpy(a)]


class PairSampler:
    """Draws pair batches of one operator from a buffer: ``sampler(batch_size) -> (x, x')``, or ``(x, x', a)``
    with ``anchors`` (a: a state of the pair's episode, for an anchored learner)."""

    def __init__(self, buffer: EpisodicBuffer, operator: Operator, seed: int | None = None, anchors: bool = False):
        self.buffer, self.operator, self.anchors = buffer, operator, bool(anchors)
        self.rng = np.random.default_rng(seed)

    def __call__(self, batch_size: int) -> tuple[Tensor, ...]:
        return self.buffer.sample_pairs(batch_size, self.operator, self.rng, anchors=self.anchors)
