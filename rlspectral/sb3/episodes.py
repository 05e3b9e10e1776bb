"""Per-env episode fragments from a VecEnv's step stream, appended to an :class:`EpisodicBuffer`.

A VecEnv resets finished envs by itself: at a ``done`` the returned observation already starts the next
episode and the last one lives in ``infos[i]["terminal_observation"]`` (passed here as ``terminal``; None when
the env gave none, e.g. an env that does not reset itself). Each env's observations are collected
in time order and handed over with ``add_episode`` when its episode ends, so no operator pair ever spans two
episodes. Very long episodes are handed over in pieces of ``max_length`` observations (consecutive pieces
share their boundary state, so every one-step transition is kept; longer offsets across a cut are lost).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from rlspectral.buffer import EpisodicBuffer
from rlspectral.errors import ConfigError


class EpisodeStream:
    """Feeds ``buffer`` from ``step(obs, next_obs, dones, terminal)`` calls (what a VecEnv step gives)."""

    def __init__(self, buffer: EpisodicBuffer, n_envs: int, max_length: int = 1000):
        if max_length < 2:
            raise ConfigError(f"episode fragments need max_length >= 2, got {max_length}")
        self.buffer, self.max_length = buffer, int(max_length)
        self.fragments: list[list[np.ndarray]] = [[] for _ in range(n_envs)]
        self.transitions = 0

    def step(
        self, obs: np.ndarray, next_obs: np.ndarray, dones: np.ndarray, terminal: Sequence[np.ndarray | None]
    ) -> None:
        for i, frag in enumerate(self.fragments):
            if not frag:
                frag.append(np.array(obs[i]))
            if dones[i]:
                if terminal[i] is not None:
                    frag.append(np.array(terminal[i]))
                    self.transitions += 1
                self._flush(i, keep_last=False)
            else:
                frag.append(np.array(next_obs[i]))
                self.transitions += 1
                if len(frag) >= self.max_length:
                    self._flush(i, keep_last=True)

    def _flush(self, i: int, keep_last: bool) -> None:
        frag = self.fragments[i]
        if len(frag) >= 2:
            self.buffer.add_episode(np.stack(frag))
        self.fragments[i] = [frag[-1]] if keep_last and frag else []

    def flush(self) -> None:
        """Hand over every open fragment (at the end of ``learn``: the env may be reset before the next one);
        the next ``step`` starts new fragments from its ``obs``."""
        for i in range(len(self.fragments)):
            self._flush(i, keep_last=False)
