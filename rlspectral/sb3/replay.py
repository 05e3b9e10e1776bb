"""Off-policy: a replay buffer that adds the intrinsic reward when it samples.

Adding the bonus at sample time is the one place it cannot be lost or go stale: with ``VecNormalize`` the
off-policy algorithms store the *original* env reward (a bonus added to ``locals["rewards"]`` or by a wrapper
outside VecNormalize is silently dropped), and a bonus stored at collection time would be computed with
eigenfunctions that have moved on since. Observations reach the bonus as the policy sees them (normalized).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from stable_baselines3.common.buffers import ReplayBuffer
from stable_baselines3.common.type_aliases import ReplayBufferSamples
from stable_baselines3.common.vec_env import VecNormalize

from rlspectral.sb3.bonus import IntrinsicReward


class BonusReplayBuffer(ReplayBuffer):
    """``ReplayBuffer`` whose samples carry ``reward + bonus(s, s')``; pass as ``replay_buffer_class``.

    The bonus (``self.intrinsic``) is attached by :class:`~rlspectral.sb3.SpectralCallback`; without one the
    buffer behaves like a plain ``ReplayBuffer``. ``last_intrinsic_mean`` is the mean bonus of the last batch.
    """

    intrinsic: IntrinsicReward | None = None
    last_intrinsic_mean: float = 0.0

    def _get_samples(self, batch_inds: np.ndarray, env: VecNormalize | None = None) -> ReplayBufferSamples:
        samples = super()._get_samples(batch_inds, env)
        if self.intrinsic is None:
            return samples
        bonus = self.intrinsic(samples.observations, samples.next_observations)
        self.last_intrinsic_mean = float(bonus.mean())
        rewards = samples.rewards + bonus.to(samples.rewards.device, torch.float32).reshape(-1, 1)
        return samples._replace(rewards=rewards)

    def __getstate__(self) -> dict[str, Any]:
        return {**self.__dict__, "intrinsic": None}  # save_replay_buffer: the callback re-attaches the bonus
