"""Per (algorithm, environment) hyperparameters as plain dicts, in the RL Zoo's spirit.

A recipe has these keys (``train(**overrides)`` replaces them one by one; dict values are merged):

* ``steps``, ``n_envs``, ``normalize`` (VecNormalize: False, True or its kwargs), ``env_kwargs``;
* ``algo``: keyword arguments of the SB3 algorithm (``policy_kwargs`` included);
* ``spectral``: the :class:`~rlspectral.LearnerConfig` fields of the eigenfunctions (``obs_shape`` is filled in);
* ``mode``: ``frozen`` | ``finetune`` for spectral features;
* ``callback``: the :class:`~rlspectral.sb3.SpectralCallback` schedule;
* ``bonus_kwargs``: ``coef``, ``normalize`` and the chosen bonus's own arguments;
* ``bonus_coef`` (optional): per-bonus default coefficients; they replace the recipe's ``bonus_kwargs`` ``coef``
  (not one passed to ``train``);
* ``action_noise``: std of Gaussian action noise for off-policy continuous control (None: none);
* ``eval_every``, ``eval_episodes``, ``eval_sampled`` (also evaluate with sampled actions, not only argmax).

Gridworlds (``rlspectral/Grid...``) are one family, MiniGrid (``MiniGrid-*``, ``BabyAI-*``, ``rlspectral/MiniGrid-*``)
another, PointMaze (``PointMaze_*``) a third; other environments are looked up by their id; a pair with no entry
runs on the algorithm's SB3 defaults.
"""

from __future__ import annotations

import copy
from typing import Any

BASE: dict[str, Any] = {
    "steps": 100_000,
    "n_envs": 1,
    "normalize": False,
    "env_kwargs": {},
    "algo": {},
    "spectral": {"k": 8, "hidden": [256, 256], "operator": "successor:0.9", "method": "nested-lora", "lr": 1e-3},
    "mode": "frozen",
    "callback": {"train_freq": 2000, "gradient_steps": 100, "learning_starts": 2000, "batch_size": 1024},
    "bonus_kwargs": {"coef": 0.1, "normalize": True},
    "bonus_coef": {},
    "action_noise": None,
    "eval_every": 5000,
    "eval_episodes": 10,
    "eval_sampled": False,
    "view": "full",  # MiniGrid observation: full | egocentric (rlspectral.agents.minigrid.wrap_minigrid)
}

# Eigenfunctions of gridworld observations: one-hot cells are fitted best by a linear map, (x, y) by an MLP on
# random Fourier features, pixels by the small CNN.
GRID_SPECTRAL: dict[str, dict[str, Any]] = {
    "onehot": {"k": 8, "hidden": [], "lr": 3e-2},
    "xy": {"k": 8, "hidden": [256, 256, 256], "fourier_features": 64, "lr": 3e-3},
    "pixels": {"k": 8, "hidden": [256], "lr": 1e-3},
}

GRID: dict[str, Any] = {
    "steps": 50_000,
    "env_kwargs": {"obs": "onehot"},
    "spectral": GRID_SPECTRAL["onehot"],
    "callback": {"train_freq": 2000, "gradient_steps": 50, "learning_starts": 5000, "batch_size": 2048},
    # Positive bonuses over 100-step episodes outweigh a goal reward of 1 unless kept small.
    "bonus_kwargs": {"coef": 0.01},
    "eval_every": 5000,
}

# SAC and TD3 on Pendulum share everything but the network.
PENDULUM_OFF_POLICY: dict[str, Any] = {"learning_rate": 1e-3, "buffer_size": 100_000, "learning_starts": 1000,
                                       "batch_size": 256}  # fmt: skip

# MiniGrid, flat observations in [0, 1] (agents.minigrid): MiniGrid's egocentric 7x7 view by default (the
# observation of the MiniGrid exploration papers and of RLeXplore; the whole grid with view="full"). On
# DoorKey-8x8 (development seed 0, results/exploration_dev) the full grid left every arm below 0.1 training success
# at 500k steps, the exact episodic state count included, while the egocentric view let the elliptical bonus solve
# it (the policy's relations agent-key-door are translation-free in the agent's frame). Eigenfunctions of a
# re-randomizing full grid spend their top modes on the layout (results/exploration_layout_modes); the egocentric
# view moves with the agent, so k = 32 modes of its dynamics serve the episodic bonus. PPO in the setting of the
# common MiniGrid baselines (8 envs, 4 epochs, minibatch 256, entropy 0.01, GAE 0.95) with an MLP instead of their
# small CNN.
# Observations are standardized by VecNormalize (rewards are not: the bonus coefficients are sized against the raw
# success reward). Most inputs are constant background (walls, floor) and the agent's cell is rare: without
# centering, Adam moves every first-layer unit along the background direction and the eigenfunctions do not leave
# their plateau (offline FourRooms test, 2000 updates: mean cosine 0.19 raw vs 0.55 standardized).
# Eigenfunctions: an MLP on the same (standardized) vector, successor operator (lambda = 0.9), one round of 50
# updates per two rollouts. The buffer is kept small because FourRooms observations are 1083 floats (30k states
# = 130 MB).
MINIGRID: dict[str, Any] = {
    "steps": 1_000_000,
    "n_envs": 8,
    "normalize": {"norm_obs": True, "norm_reward": False},
    "algo": {
        "n_steps": 256,
        "batch_size": 256,
        "n_epochs": 4,
        "learning_rate": 5e-4,
        "ent_coef": 0.01,
        "gamma": 0.99,
        "gae_lambda": 0.95,
        "clip_range": 0.2,
        "policy_kwargs": {"net_arch": [128, 128]},
    },
    "spectral": {"k": 32, "hidden": [128, 128], "operator": "successor:0.9", "method": "nested-lora", "lr": 1e-3},
    "view": "egocentric",
    "callback": {
        "train_freq": 4096,
        "gradient_steps": 50,
        "learning_starts": 4096,
        "batch_size": 512,
        "buffer_size": 30_000,
    },
    "bonus_kwargs": {"coef": 0.003},
    "bonus_coef": {},  # MINIGRID_BONUS_COEF, set below
    "eval_every": 10_000,
    "eval_episodes": 10,
    "eval_sampled": True,  # also evaluate the policy's own action distribution (an argmax policy can loop in place)
}
# Per-bonus coefficients (``bonus_kwargs={"coef": MINIGRID_BONUS_COEF[bonus]}``). The success reward is
# 1 - 0.9 * steps / max_steps <= 1. A positive bonus of b per step is worth ~b / (1 - gamma) = 100 b to an agent
# that never ends its episode, so b must stay well below 0.01 lest wandering beat reaching the goal. Novelty and
# RND are sized to the same mean bonus, b ~ 0.003-0.004 per step in the first 20k steps of DoorKey-8x8 (measured:
# the normalized RND reward averages ~1.3 std, novelty ~0.7). Eigenpurpose is a difference phi(s') - phi(s) that
# telescopes over an episode, so it tolerates a larger coefficient (not measured). Elliptical (E3B's episodic bonus
# in eigenfunction space): 0.003. First 0.03 (it solved DoorKey-8x8 on development seed 0); on fresh seeds 10-14
# the sweep 0.003 / 0.03 (every arm alike) showed 0.03 no better than plain PPO and 0.003 solving 5/5, and
# development seeds 0-2 at 0.003 then solved 3/3 (results/exploration_dev, docs/benchmarks/exploration.md). Its
# ridge is the bonus's default, k (was E3B's 0.1 until 2026-12-01): on development seeds 0-2 training success stayed
# >= 0.9 from 111k-182k steps on instead of 236k-498k (the ridge's role: EllipticalBonus, exploration_bonus_profile).
# The RLeXplore peers (rlspectral.sb3.rllte_peers) keep their published coefficient, beta = 1.0 on a reward divided
# by its running std (rllte's "rms"): rllte-core 1.0.1's default for E3B, RE3 and RND and the default of RLeXplore's
# benchmark script (Yuan et al., 2024, arXiv 2405.19548); for E3B also its authors' MiniHack setting
# (facebookresearch/e3b, sweep_slurm.py: intrinsic_reward_coef 1.0, reward_norm int, ridge 0.1). Sources and what
# differs from the papers: docs/baselines.md, "Exploration peers".
MINIGRID_BONUS_COEF: dict[str, float] = {
    "novelty": 0.005, "rnd": 0.003, "eigenpurpose": 0.01, "elliptical": 0.003, "elliptical-exact": 0.003,
    "episodic-count": 0.005, "e3b": 1.0, "re3": 1.0, "rnd-rllte": 1.0,
}  # fmt: skip
MINIGRID["bonus_coef"] = MINIGRID_BONUS_COEF

# Continuous control, SAC / TD3 with SB3's default hyperparameters (the baseline the issue names), plus the
# spectral side: eigenfunctions of the state rescaled to [-1, 1] by the Box bounds (MountainCar's position and
# velocity differ 20x in range), one round of 50 updates per 1000 env steps. MountainCar: reward -0.1 a^2 per step
# and +100 at the flag; a normalized bonus of coef 0.1 (~0.1-0.2 per step) is worth ~10-20 over SAC's horizon
# (gamma 0.99), below the flag's 100, so reaching it stays the better return.
CONTINUOUS: dict[str, Any] = {
    "spectral": {"k": 8, "hidden": [256, 256], "operator": "successor:0.9", "lr": 1e-3, "scale_inputs": True},
    "callback": {"train_freq": 1000, "gradient_steps": 50, "learning_starts": 1000, "batch_size": 1024},
    "bonus_kwargs": {"coef": 0.1},
    "eval_every": 5000,
    "eval_episodes": 5,
}
MOUNTAINCAR: dict[str, Any] = {**CONTINUOUS, "steps": 50_000}
# The RL Zoo's tuned SAC for MountainCarContinuous-v0 (hyperparams/sac.yml: gSDE, gamma 0.9999, 64x64), for the
# side-by-side baseline; use as ``train(..., **ZOO_SAC_MOUNTAINCAR)``.
ZOO_SAC_MOUNTAINCAR: dict[str, Any] = {
    "learning_rate": 3e-4, "buffer_size": 50_000, "batch_size": 512, "ent_coef": 0.1, "train_freq": 32,
    "gradient_steps": 32, "gamma": 0.9999, "tau": 0.01, "learning_starts": 0, "use_sde": True,
    "policy_kwargs": {"log_std_init": -3.67, "net_arch": [64, 64]},
}  # fmt: skip
# PointMaze: the episode ends at the goal (continuing_task=False), so success = reaching it; eigenfunctions of the
# ball's (x, y) (envs.goal_obs), which has no finite bounds: raw world coordinates (|x|, |y| <= 3). The goal pays
# 1, not 100: by the MountainCar rule above the bonus must be worth well under 1 over the horizon, coef 0.001
# (~0.1-0.2). At coef 0.1 the bonus outweighs the goal (measured, results/pointmaze_rl_coef0.1: intrinsic return
# 6-27 per episode vs extrinsic <= 0.43), and reaching the goal ends the episode and its bonus stream.
POINTMAZE: dict[str, Any] = {
    **CONTINUOUS,
    "steps": 100_000,
    "env_kwargs": {"continuing_task": False},
    "spectral": {**CONTINUOUS["spectral"], "scale_inputs": False},
    "bonus_kwargs": {"coef": 0.001},
}

RECIPES: dict[tuple[str, str], dict[str, Any]] = {
    ("ppo", "gridworld"): {
        **GRID,
        "n_envs": 8,
        "algo": {
            "n_steps": 128,
            "batch_size": 256,
            "n_epochs": 4,
            "learning_rate": 3e-4,
            "ent_coef": 0.01,
            "gamma": 0.99,
            "policy_kwargs": {"net_arch": [64, 64]},
        },
    },
    ("a2c", "gridworld"): {
        **GRID,
        "n_envs": 8,
        "algo": {
            "n_steps": 8,
            "learning_rate": 7e-4,
            "ent_coef": 0.01,
            "gamma": 0.99,
            "policy_kwargs": {"net_arch": [64, 64]},
        },
    },
    ("dqn", "gridworld"): {
        **GRID,
        "steps": 100_000,
        "n_envs": 4,
        "algo": {
            "learning_rate": 1e-3,
            "buffer_size": 100_000,
            "learning_starts": 2000,
            "batch_size": 128,
            "gamma": 0.99,
            "train_freq": 4,
            # one update per transition (4 envs x 4 steps): values must travel ~100 cells back from the goal
            # (GridMaze-19), one cell per target update at best, and each target period needs enough updates to
            # fit it; 4 updates per 16 transitions left GridMaze-19 unlearned at 50k steps even with exact shaping
            "gradient_steps": 16,
            "target_update_interval": 250,
            "exploration_fraction": 0.3,
            "exploration_final_eps": 0.05,
            "policy_kwargs": {"net_arch": [64, 64]},
        },
    },
    ("ppo", "CartPole-v1"): {
        "steps": 100_000,
        "n_envs": 8,
        "algo": {
            "n_steps": 32,
            "batch_size": 256,
            "gae_lambda": 0.8,
            "gamma": 0.98,
            "n_epochs": 20,
            "learning_rate": 1e-3,
            "clip_range": 0.2,
        },
    },
    ("a2c", "CartPole-v1"): {"steps": 200_000, "n_envs": 8, "algo": {"ent_coef": 0.0}},
    ("dqn", "CartPole-v1"): {
        "steps": 50_000,
        "algo": {
            "learning_rate": 2e-3,
            "batch_size": 64,
            "buffer_size": 100_000,
            "learning_starts": 1000,
            "gamma": 0.99,
            "target_update_interval": 10,
            "train_freq": 256,
            "gradient_steps": 128,
            "exploration_fraction": 0.16,
            "exploration_final_eps": 0.04,
            "policy_kwargs": {"net_arch": [256, 256]},
        },
    },
    ("ppo", "Pendulum-v1"): {
        "steps": 100_000,
        "n_envs": 4,
        "algo": {
            "n_steps": 1024,
            "gae_lambda": 0.95,
            "gamma": 0.9,
            "n_epochs": 10,
            "learning_rate": 1e-3,
            "use_sde": True,
            "sde_sample_freq": 4,
        },
    },
    ("ppo", "minigrid"): MINIGRID,
    ("sac", "Pendulum-v1"): {
        **CONTINUOUS,
        "steps": 20_000,
        "algo": {**PENDULUM_OFF_POLICY, "policy_kwargs": {"net_arch": [64, 64]}},
    },
    ("sac", "MountainCarContinuous-v0"): MOUNTAINCAR,
    ("td3", "MountainCarContinuous-v0"): {**MOUNTAINCAR, "action_noise": 0.1},
    ("sac", "pointmaze"): POINTMAZE,
    ("td3", "pointmaze"): {**POINTMAZE, "action_noise": 0.1},
    ("td3", "Pendulum-v1"): {
        **CONTINUOUS,
        "steps": 20_000,
        "algo": {**PENDULUM_OFF_POLICY, "policy_kwargs": {"net_arch": [400, 300]}},
        "action_noise": 0.1,
    },
}


def is_minigrid(env_id: str) -> bool:
    """Whether ``env_id`` is a MiniGrid / BabyAI id, raw or an ``rlspectral/MiniGrid-*`` adapter."""
    return env_id.startswith(("MiniGrid-", "BabyAI-", "rlspectral/MiniGrid-"))


def family(env_id: str) -> str:
    """``gridworld`` for the rlspectral gridworlds (goal variants included), ``minigrid`` for MiniGrid ids, else
    the id itself."""
    if env_id.startswith("rlspectral/Grid"):
        return "gridworld"
    if env_id.startswith("PointMaze_"):
        return "pointmaze"
    return "minigrid" if is_minigrid(env_id) else env_id


def merge(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    """``base`` updated by ``over``; dict values are merged one level deep (copies, never aliases)."""
    out = copy.deepcopy(base)
    for key, value in over.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = {**out[key], **copy.deepcopy(value)}
        else:
            out[key] = copy.deepcopy(value)
    return out


def recipe(algo: str, env_id: str, obs: str | None = None) -> dict[str, Any]:
    """The recipe for ``algo`` on ``env_id``; ``obs`` picks a gridworld observation type (and its spectral net)."""
    rec = merge(BASE, RECIPES.get((algo, family(env_id)), {}))
    if obs is not None:
        rec["env_kwargs"]["obs"] = obs
        if family(env_id) == "gridworld":
            rec["spectral"] = {**rec["spectral"], **{"fourier_features": 0}, **GRID_SPECTRAL.get(obs, {})}
    return rec


def arm_settings(arm: str, task: str) -> tuple[str, str, str, dict[str, Any]]:
    """``(algo, features, bonus, overrides)`` of a benchmark arm: ``sac`` / ``td3`` (SB3 defaults), ``<algo>+<bonus>``
    (the same plus a bonus, e.g. ``sac+novelty``), ``<algo>+features`` (online eigenfunctions concatenated to the
    observation) or ``sac-zoo`` (the RL Zoo's tuned SAC, ``ZOO_SAC_MOUNTAINCAR``; MountainCarContinuous only)."""
    from rlspectral.errors import ConfigError

    if arm == "sac-zoo":
        if task != "MountainCarContinuous-v0":
            raise ConfigError("sac-zoo (the RL Zoo's tuned SAC) is defined for MountainCarContinuous-v0 only")
        return "sac", "raw", "none", dict(ZOO_SAC_MOUNTAINCAR)
    algo, _, extra = arm.partition("+")
    if algo not in ("sac", "td3"):
        raise ConfigError(f"unknown arm {arm!r}: pass sac, td3, sac-zoo or <algo>+<bonus|features>")
    if extra == "features":
        return algo, "both", "none", {}
    return algo, "raw", extra or "none", {}
