"""Environments for the recipes: any gymnasium id, the gridworlds ``rlspectral/<Layout>-v0`` and their
goal-reaching variants ``rlspectral/<Layout>-Goal-v0``, and MiniGrid: ``MiniGrid-*`` / ``BabyAI-*`` ids get the flat
full-grid observation of :mod:`rlspectral.agents.minigrid` (imported on first use: minigrid pulls in pygame), whose
fixed-layout adapters are the ``rlspectral/MiniGrid-*`` ids. Every ``rlspectral/*`` id is registered by
``import rlspectral`` (:mod:`rlspectral.registration`). Gymnasium-Robotics ids (``PointMaze_*``, the ``robotics``
extra) are registered on first use, and any env whose observations are goal dicts gets the one ``Box`` of
:class:`rlspectral.envs.goal_obs.GoalObservation` (eigenfunctions then read the ``achieved_goal`` entries:
:func:`spectral_inputs`).

The goal variant (:func:`rlspectral.envs.gridworld.goal_gridworld`) puts the goal on the last free cell in
row-major order (bottom-right), gives reward 1 and ends the episode there (``info["is_success"]``), and allows 100
steps per episode.
"""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np
from stable_baselines3.common.env_util import make_vec_env
from stable_baselines3.common.vec_env import VecEnv, VecNormalize

from rlspectral.agents.recipes import is_minigrid
from rlspectral.envs.goal_obs import wrap_goal_dict
from rlspectral.envs.gridworld import builtin_layouts
from rlspectral.envs.pointmaze import needs_robotics, require_robotics
from rlspectral.errors import SpectralError


def is_gridworld(env_id: str) -> bool:
    return env_id.startswith("rlspectral/Grid")


def check_env_id(env_id: str) -> None:
    """Raise a one-line :class:`SpectralError` for an id gymnasium does not know (or whose optional extra is
    missing)."""
    if is_minigrid(env_id):
        import minigrid  # noqa: F401 - registers the MiniGrid-* ids (rlspectral/MiniGrid-* are registered already)
    if needs_robotics(env_id):
        require_robotics()  # registers PointMaze_* & co., or says how to install the robotics extra
    try:
        gym.spec(env_id)
    except gym.error.Error as e:
        grids = "rlspectral/<Layout>-v0 or rlspectral/<Layout>-Goal-v0 with Layout in " + ", ".join(builtin_layouts())
        raise SpectralError(f"unknown environment {env_id!r} ({e}); gridworlds: {grids}") from None


def minigrid_view(env_id: str, view: str) -> str:
    """The MiniGrid observation ``env_id`` gets for a requested ``view``: the fixed-layout ``rlspectral/MiniGrid-*``
    ids always show the whole grid (they exist for the exact position-graph comparison); other ids take ``view``."""
    return "full" if env_id.startswith("rlspectral/MiniGrid") else view


def make_env(
    env_id: str,
    n_envs: int,
    seed: int,
    env_kwargs: dict[str, Any],
    normalize: bool | dict[str, Any],
    training: bool,
    view: str = "full",
) -> VecEnv:
    """A monitored ``VecEnv`` of ``n_envs`` copies, wrapped in ``VecNormalize`` when ``normalize`` is set (a dict
    gives its kwargs); an evaluation env (``training=False``) freezes the statistics and reports raw rewards.
    ``view``: the MiniGrid observation (:func:`rlspectral.agents.minigrid.wrap_minigrid`)."""
    check_env_id(env_id)
    wrapper: Any = wrap_goal_dict  # Dict(observation, achieved_goal, desired_goal) -> one Box (envs.goal_obs)
    if is_minigrid(env_id) and not env_id.startswith("rlspectral/"):  # rlspectral/MiniGrid-* come wrapped
        from functools import partial

        from rlspectral.agents.minigrid import wrap_minigrid

        wrapper = partial(wrap_minigrid, view=minigrid_view(env_id, view))
    try:
        env = make_vec_env(env_id, n_envs=n_envs, seed=seed, env_kwargs=env_kwargs, wrapper_class=wrapper)
    except TypeError as e:
        raise SpectralError(f"{env_id}: bad env kwargs {env_kwargs} ({e})") from None
    except gym.error.Error as e:  # e.g. a missing optional dependency
        raise SpectralError(f"{env_id}: {str(e).strip().splitlines()[0]}") from None
    if normalize:
        kwargs = normalize if isinstance(normalize, dict) else {}
        env = VecNormalize(env, training=training, **({**kwargs, "norm_reward": False} if not training else kwargs))
    return env


def goal_observation(env: VecEnv) -> np.ndarray:
    """The observation of the goal cell of a goal gridworld (first env)."""
    goal = env.get_attr("goal_state", indices=[0])[0] if env.has_attr("goal_state") else None
    if goal is None:
        raise SpectralError("the goal bonus needs a goal-reaching env, e.g. rlspectral/GridRoom-4-Goal-v0")
    return np.asarray(env.env_method("observe", goal, indices=[0])[0])


def spectral_inputs(env: VecEnv) -> tuple[int, ...]:
    """The observation entries the eigenfunctions should read (``GoalObservation.spectral_inputs``), or ``()``
    for all of them."""
    return tuple(env.get_attr("spectral_inputs", indices=[0])[0]) if env.has_attr("spectral_inputs") else ()


def random_policy_episodes(
    env_id: str, steps: int, n_envs: int, seed: int, env_kwargs: dict[str, Any] | None = None, view: str = "full"
) -> list[np.ndarray]:
    """The complete episodes (``[length + 1, *obs_shape]`` each, terminal observation last) of a uniform random
    policy over ``steps`` env steps of ``n_envs`` envs, observations as the env emits them (no VecNormalize)."""
    env = make_env(env_id, n_envs, seed, env_kwargs or {}, False, training=True, view=view)
    rng = np.random.default_rng(seed)
    obs = env.reset()
    current: list[list[np.ndarray]] = [[o] for o in obs]
    episodes: list[np.ndarray] = []
    for _ in range(steps // n_envs):
        obs, _, dones, infos = env.step(rng.integers(0, env.action_space.n, n_envs))
        for i, done in enumerate(dones):
            if done:
                episodes.append(np.stack([*current[i], infos[i]["terminal_observation"]]))
                current[i] = [obs[i]]
            else:
                current[i].append(obs[i])
    env.close()
    return episodes
