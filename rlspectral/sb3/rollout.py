"""On-policy: a rollout buffer that adds the intrinsic reward before returns and advantages are computed.

SB3 computes returns/advantages inside ``collect_rollouts``, *before* ``callback.on_rollout_end``; the bonus
must be in the rewards by then. A per-step bonus: the callback writes each step's bonus at the buffer's current
position (``add_intrinsic``, called from ``_on_step``, just before SB3's ``add`` fills that slot). A rollout-level
bonus (:mod:`rlspectral.sb3.rollout_bonus`): the callback records each step's next observation and episode flags
(``add_transition``), and :meth:`compute_returns_and_advantage` asks the bonus for the whole rollout's rewards.
Either way :meth:`compute_returns_and_advantage` adds the bonus to the (possibly VecNormalize-normalized) env rewards.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import numpy as np
import torch
from stable_baselines3.common.buffers import RolloutBuffer

from rlspectral.errors import SpectralError

if TYPE_CHECKING:
    from rlspectral.sb3.rollout_bonus import RolloutIntrinsicReward, RolloutSamples


class BonusRolloutBuffer(RolloutBuffer):
    """``RolloutBuffer`` with an ``intrinsic`` reward array; pass as ``rollout_buffer_class`` (PPO, A2C).

    After ``compute_returns_and_advantage``: ``rewards`` = extrinsic + intrinsic, ``extrinsic`` keeps the env
    part, ``intrinsic`` the bonus. ``rollout_bonus`` (set by the callback) computes ``intrinsic`` for the whole
    rollout there; then ``next_observations``, ``terminateds`` and ``truncateds`` hold what ``add_transition`` recorded.
    """

    rollout_bonus: RolloutIntrinsicReward | None = None
    before_returns: Callable[[], None] | None = None  # the callback's flush of a batched per-step bonus

    def reset(self) -> None:
        super().reset()
        self.intrinsic = np.zeros((self.buffer_size, self.n_envs), dtype=np.float32)
        self.extrinsic = np.zeros((self.buffer_size, self.n_envs), dtype=np.float32)
        self.next_observations: np.ndarray | None = None  # allocated by the first add_transition
        self.terminateds = np.zeros((self.buffer_size, self.n_envs), dtype=np.float32)
        self.truncateds = np.zeros((self.buffer_size, self.n_envs), dtype=np.float32)
        self._recorded = np.zeros(self.buffer_size, dtype=bool)

    def add_intrinsic(self, bonus: np.ndarray) -> None:
        """Set the bonus ``[n_envs]`` of the transition that the next ``add`` stores."""
        self._check_slot("add_intrinsic")
        self.intrinsic[self.pos] = bonus

    def add_transition(self, next_obs: np.ndarray, terminated: np.ndarray, truncated: np.ndarray) -> None:
        """Record the next observations ``[n_envs, *obs_shape]`` (terminal ones where episodes ended) and episode
        flags ``[n_envs]`` of the transition that the next ``add`` stores (for a rollout-level bonus)."""
        self._check_slot("add_transition")
        if self.next_observations is None:
            self.next_observations = np.zeros_like(self.observations)
        self.next_observations[self.pos] = np.asarray(next_obs).reshape(self.n_envs, *self.obs_shape)
        self.terminateds[self.pos] = terminated
        self.truncateds[self.pos] = truncated
        self._recorded[self.pos] = True

    def _check_slot(self, what: str) -> None:
        if self.full:
            raise SpectralError(f"the rollout buffer is full: {what} must come before add for the same step")

    def rollout_samples(self) -> RolloutSamples:
        """The recorded rollout ``[T, n_envs, ...]`` (see :class:`~rlspectral.sb3.rollout_bonus.RolloutSamples`)."""
        from rlspectral.sb3.rollout_bonus import RolloutSamples

        if self.next_observations is None or not self._recorded.all():
            missing = int((~self._recorded).sum())
            raise SpectralError(
                f"a rollout-level bonus needs every step's next observation: {missing} of {self.buffer_size} steps "
                "were not recorded (add_transition; the SpectralCallback does it when it holds the bonus)"
            )
        tensor = torch.as_tensor
        return RolloutSamples(
            observations=tensor(self.observations, dtype=torch.float32),
            actions=tensor(self.actions, dtype=torch.float32),
            rewards=tensor(self.rewards, dtype=torch.float32),
            terminateds=tensor(self.terminateds),
            truncateds=tensor(self.truncateds),
            next_observations=tensor(self.next_observations, dtype=torch.float32),
        )

    def compute_returns_and_advantage(self, last_values: torch.Tensor, dones: np.ndarray) -> None:
        if self.before_returns is not None:
            self.before_returns()
        if self.rollout_bonus is not None:
            bonus = np.asarray(self.rollout_bonus.rollout_rewards(self.rollout_samples()), dtype=np.float32)
            if bonus.shape != (self.buffer_size, self.n_envs):
                raise SpectralError(
                    f"{type(self.rollout_bonus).__name__}.rollout_rewards gave shape {bonus.shape}, expected "
                    f"{(self.buffer_size, self.n_envs)}"
                )
            self.intrinsic = bonus
        self.extrinsic = self.rewards.copy()
        self.rewards = self.extrinsic + self.intrinsic
        super().compute_returns_and_advantage(last_values, dones)
