"""On-policy: a rollout buffer that adds the intrinsic reward before returns and advantages are computed.

SB3 computes returns/advantages inside ``collect_rollouts``, *before* ``callback.on_rollout_end``; the bonus
must be in the rewards by then. The callback writes each step's bonus at the buffer's current position
(``add_intrinsic``, called from ``_on_step``, just before SB3's ``add`` fills that slot), and
:meth:`compute_returns_and_advantage` adds it to the (possibly VecNormalize-normalized) env rewards.
"""

from __future__ import annotations

import numpy as np
import torch
from stable_baselines3.common.buffers import RolloutBuffer

from rlspectral.errors import SpectralError


class BonusRolloutBuffer(RolloutBuffer):
    """``RolloutBuffer`` with an ``intrinsic`` reward array; pass as ``rollout_buffer_class`` (PPO, A2C).

    After ``compute_returns_and_advantage``: ``rewards`` = extrinsic + intrinsic, ``extrinsic`` keeps the env
    part, ``intrinsic`` the bonus.
    """

    def reset(self) -> None:
        super().reset()
        self.intrinsic = np.zeros((self.buffer_size, self.n_envs), dtype=np.float32)
        self.extrinsic = np.zeros((self.buffer_size, self.n_envs), dtype=np.float32)

    def add_intrinsic(self, bonus: np.ndarray) -> None:
        """Set the bonus ``[n_envs]`` of the transition that the next ``add`` stores."""
        if self.full:
            raise SpectralError("the rollout buffer is full: add_intrinsic must come before add for the same step")
        self.intrinsic[self.pos] = bonus

    def compute_returns_and_advantage(self, last_values: torch.Tensor, dones: np.ndarray) -> None:
        self.extrinsic = self.rewards.copy()
        self.rewards = self.extrinsic + self.intrinsic
        super().compute_returns_and_advantage(last_values, dones)
