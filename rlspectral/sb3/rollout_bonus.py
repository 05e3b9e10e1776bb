"""Rollout-level intrinsic rewards: bonuses computed over a whole on-policy rollout at once.

Some bonuses are defined on a batch of transitions rather than one step: E3B's elliptical bonus walks each env's
episode with a running inverse covariance, RE3 measures k-nearest-neighbour distances inside a memory of recent
embeddings, and the reference implementations (RLeXplore / ``rllte-core``) all take a rollout ``[T, n_envs, ...]``
and train their models on it. A :class:`RolloutIntrinsicReward` (``per_rollout = True``) is such a bonus:

* every env step, the :class:`~rlspectral.sb3.SpectralCallback` records the transition's next observation (the
  terminal observation where an episode ended) and its terminated / truncated flags in the
  :class:`~rlspectral.sb3.BonusRolloutBuffer` (``add_transition``), next to what SB3 stores itself;
* when SB3 computes returns and advantages, the buffer hands the whole rollout (:class:`RolloutSamples`) to
  :meth:`RolloutIntrinsicReward.rollout_rewards`, which returns the scaled bonus ``[T, n_envs]``; the buffer puts it in
  ``intrinsic`` and adds it to the rewards *before* returns and GAE, exactly like a per-step bonus.

Flags follow gymnasium: ``terminateds[t]`` / ``truncateds[t]`` say that the transition ``observations[t] ->
next_observations[t]`` ended its episode. On-policy agents only (PPO, A2C). Observations are those the policy sees.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np
import torch
from torch import Tensor

from rlspectral.errors import SpectralError
from rlspectral.sb3.bonus import IntrinsicReward


class RolloutSamples(NamedTuple):
    """One on-policy rollout as float tensors on the CPU, time first: ``[T, n_envs, ...]``."""

    observations: Tensor  # [T, n_envs, *obs_shape], as the policy saw them (after VecNormalize, if any)
    actions: Tensor  # [T, n_envs, action_dim] (discrete actions: one column of indices)
    rewards: Tensor  # [T, n_envs], the env's rewards (after VecNormalize, if any)
    terminateds: Tensor  # [T, n_envs], 1.0 where the transition ended its episode in a terminal state
    truncateds: Tensor  # [T, n_envs], 1.0 where it was cut by a time limit
    next_observations: Tensor  # [T, n_envs, *obs_shape], the terminal observation where an episode ended

    def as_dict(self) -> dict[str, Tensor]:
        """The field-name -> tensor dict (the ``samples`` argument of RLeXplore's ``compute``)."""
        return self._asdict()


class RolloutIntrinsicReward(IntrinsicReward):
    """Base of rollout-level bonuses: subclasses define :meth:`rollout_rewards` (and may use :meth:`setup`)."""

    name = "rollout"
    per_rollout = True
    needs_features = False

    def setup(self, observation_space: Any, action_space: Any, n_envs: int, device: torch.device | str) -> None:
        """Called by the callback before the first rollout with the agent's spaces, env count and device."""

    def rollout_rewards(self, samples: RolloutSamples) -> np.ndarray:
        """The scaled bonus ``[T, n_envs]`` (coefficient and normalization included) of every transition."""
        raise NotImplementedError

    def reward(self, obs: Tensor, next_obs: Tensor) -> Tensor:
        raise SpectralError(
            f"the {self.name} bonus is computed over whole rollouts: use it with an on-policy agent (ppo, a2c) built "
            "with rollout_buffer_class=BonusRolloutBuffer and a SpectralCallback"
        )
