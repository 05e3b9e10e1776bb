"""Episodic visit counts of exact observations: r = 1 / sqrt(N_episode(s')).

N_episode(s') counts the visits of the env's current episode to an observation equal to s' (hashed bytes of the
observation as the env emitted it, before VecNormalize: the counts of standardized floats would move with the
statistics). Where the observation is the whole state (MiniGrid's full grid, a gridworld's one-hot) this is the
exact episodic state count -- the bonus every learned episodic novelty (E3B's elliptical bonus, NGU's episodic
memory) approximates -- so it serves as a reference point, not a method: it needs no learning and does not
generalize across states. Needs no eigenfunctions (``needs_features = False``); on-policy only (``episodic``).
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import numpy as np
import torch
from torch import Tensor

from rlspectral.sb3.bonus import IntrinsicReward


class EpisodicCountBonus(IntrinsicReward):
    """r = 1 / sqrt(N(s')), N counting s' among the states of the env's current episode (its first included)."""

    name = "episodic-count"
    needs_features = False
    episodic = True
    reads_raw = True

    def __init__(self, coef: float = 0.1, normalize: bool = True):
        super().__init__(coef, normalize)
        self.counts: list[Counter[bytes]] = []

    @property
    def ready(self) -> bool:
        return True

    @staticmethod
    def _key(x: Tensor) -> bytes:
        return np.ascontiguousarray(x.numpy()).tobytes()

    def reward(self, obs: Tensor, next_obs: Tensor) -> Tensor:
        if len(self.counts) != len(next_obs):
            self.counts = [Counter({self._key(o): 1}) for o in obs]
        out = torch.empty(len(next_obs))
        for i, x in enumerate(next_obs):
            key = self._key(x)
            self.counts[i][key] += 1
            out[i] = 1.0 / float(np.sqrt(self.counts[i][key]))
        return out

    def episode_end(self, dones: np.ndarray, new_obs: Tensor | np.ndarray | None = None) -> None:
        for i in np.flatnonzero(dones):
            if i < len(self.counts):
                self.counts[i] = Counter() if new_obs is None else Counter({self._key(torch.as_tensor(new_obs[i])): 1})

    def __getstate__(self) -> dict[str, Any]:
        return {**super().__getstate__(), "counts": []}
