"""One rule for goal-conditioned ``Dict`` observations (Gymnasium-Robotics: PointMaze, AntMaze, Fetch).

:class:`GoalObservation` turns ``Dict(observation, achieved_goal, desired_goal)`` into one ``Box``, the
concatenation ``[observation, achieved_goal, desired_goal]`` in that order, which is what the policy sees (SB3's
``MlpPolicy``). The eigenfunctions read only the ``achieved_goal`` entries (the part of the state that goals are
expressed in: the agent's (x, y) in PointMaze), given by :attr:`GoalObservation.spectral_inputs`; the training
helpers copy them into the learner's ``inputs``. The goal is fixed within an episode, so eigenfunctions of the
whole vector would spend their leading modes on functions of the goal alone (eigenvalue 1); the velocity part of
``observation`` is left out for the same reason the Laplacian representation is a function of position.

``info["success"]`` is mirrored to ``info["is_success"]`` (SB3's and this library's evaluation key).
"""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np

from rlspectral.errors import ConfigError

GOAL_KEYS = ("observation", "achieved_goal", "desired_goal")


def is_goal_dict(space: gym.Space) -> bool:
    """Whether ``space`` is a goal-conditioned ``Dict`` with the three standard vector keys."""
    return (
        isinstance(space, gym.spaces.Dict)
        and set(space.spaces) == set(GOAL_KEYS)
        and all(isinstance(space[k], gym.spaces.Box) and len(space[k].shape) == 1 for k in GOAL_KEYS)
    )


class GoalObservation(gym.ObservationWrapper):
    """``Dict(observation, achieved_goal, desired_goal)`` -> ``Box([observation, achieved_goal, desired_goal])``
    (float32); :attr:`spectral_inputs` are the ``achieved_goal`` entries."""

    def __init__(self, env: gym.Env):
        if not is_goal_dict(env.observation_space):
            raise ConfigError(
                f"GoalObservation needs Dict({', '.join(GOAL_KEYS)}) of vectors, got {env.observation_space}"
            )
        super().__init__(env)
        spaces = [env.observation_space[k] for k in GOAL_KEYS]
        sizes = [s.shape[0] for s in spaces]
        self.observation_space = gym.spaces.Box(
            low=np.concatenate([s.low for s in spaces]).astype(np.float32),
            high=np.concatenate([s.high for s in spaces]).astype(np.float32),
            dtype=np.float32,
        )
        start = sizes[0]
        self.spectral_inputs: tuple[int, ...] = tuple(range(start, start + sizes[1]))

    def observation(self, observation: dict[str, np.ndarray]) -> np.ndarray:
        return np.concatenate([np.asarray(observation[k], dtype=np.float32) for k in GOAL_KEYS])

    def step(self, action: Any):
        obs, reward, terminated, truncated, info = super().step(action)
        if "success" in info and "is_success" not in info:
            info["is_success"] = bool(info["success"])
        return obs, reward, terminated, truncated, info


def wrap_goal_dict(env: gym.Env) -> gym.Env:
    """:class:`GoalObservation` around ``env`` if it emits goal dicts, else ``env`` unchanged."""
    return GoalObservation(env) if is_goal_dict(env.observation_space) else env
