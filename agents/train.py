"""``train``: one SB3 agent from a recipe, with raw or spectral features and an optional intrinsic bonus.

The ``rlspectral train`` command over it is :mod:`rlspectral.cli.train` (flags override the recipe).
Writes into ``out``: ``model.zip`` (+ ``vecnormalize.pkl``), ``spectral.pt`` (the online learner),
``run.json`` (what ``rlspectral evaluate`` needs to rebuild the env: id, env kwargs such as the gridworld
observation type, VecNormalize, algorithm, features, bonus, seed, recipe), TensorBoard logs in ``tb/``,
``results.json`` (evaluation return and success rate over training, wall time, config, ``spectral_updates``) and
``learning_curve.png``. Spectral features that no update reached are an
:class:`~rlspectral.sb3.UntrainedSpectralWarning` (and a line on stderr from the command).
"""

from __future__ import annotations

import inspect
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from rlspectral.agents.recipes import BASE, is_minigrid, merge, recipe
from rlspectral.config import check, is_int
from rlspectral.errors import ConfigError, SpectralError

# Names only: the heavy imports (torch, SB3) wait until ``train`` runs, so ``rlspectral --help`` stays fast.
ALGO_NAMES = ("ppo", "a2c", "dqn", "sac", "td3")
# == rlspectral.sb3.BONUSES (checked by the tests); e3b, re3 and rnd-rllte need rllte-core (scripts/setup_peers.sh)
BONUS_NAMES = ("eigenpurpose", "novelty", "elliptical", "elliptical-exact", "goal", "rnd", "episodic-count", "e3b",
               "re3", "rnd-rllte")  # fmt: skip
FEATURES = ("raw", "spectral", "both")
CONTINUOUS_ONLY = ("sac", "td3")


def algorithms() -> dict[str, type]:
    """The SB3 algorithm classes by name (imported on first use)."""
    from stable_baselines3 import A2C, DQN, PPO, SAC, TD3

    return {"ppo": PPO, "a2c": A2C, "dqn": DQN, "sac": SAC, "td3": TD3}


def _check_action_space(algo: str, env: Any) -> None:
    import gymnasium as gym

    space = env.action_space
    if algo in CONTINUOUS_ONLY and not isinstance(space, gym.spaces.Box):
        raise SpectralError(
            f"{algo} needs continuous (Box) actions, the env has {type(space).__name__}: use ppo or dqn"
        )
    if algo == "dqn" and not isinstance(space, gym.spaces.Discrete):
        raise SpectralError(f"dqn needs Discrete actions, the env has {type(space).__name__}: use sac, td3 or ppo")


def check_train_arguments(algo: str, features: str, bonus: str, steps: int | None) -> None:
    """The arguments of :func:`train` that name a choice or a budget; a bad one is a one-line :class:`ConfigError`
    naming it (``rlspectral train`` reports it under the flag: ``--steps``)."""
    if algo not in ALGO_NAMES:
        raise ConfigError.invalid("algo", algo, f"choose {', '.join(ALGO_NAMES)}")
    if features not in FEATURES:
        raise ConfigError.invalid("features", features, f"choose {', '.join(FEATURES)}")
    if bonus != "none" and bonus not in BONUS_NAMES:
        raise ConfigError.invalid("bonus", bonus, f"choose none, {', '.join(BONUS_NAMES)}")
    if steps is not None and steps < 1:
        raise ConfigError.invalid("steps", steps, "pass a number of environment steps >= 1 (or none: the recipe's)")


def _split_overrides(overrides: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """Recipe keys (and ``checkpoint``, ``progress``, ``threads``) vs. SB3 algorithm kwargs."""
    own = set(BASE) | {"checkpoint", "progress", "threads", "obs"}
    return {k: v for k, v in overrides.items() if k in own}, {k: v for k, v in overrides.items() if k not in own}


def _json_safe(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_json_safe(v) for v in value]
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    return getattr(value, "__name__", repr(value))


def write_run(
    out: Path,
    env_id: str,
    algo: str,
    features: str,
    bonus: str,
    seed: int,
    rec: dict[str, Any],
    checkpoint: str | None,
    inputs: Sequence[int],
) -> Path:
    """``run.json``: what :func:`rlspectral.agents.evaluate.evaluate_run` needs to rebuild the run's env."""
    from rlspectral.agents.report import RUN_FILE, write_results

    run = {
        "format": 1,
        "env": env_id,
        "env_kwargs": rec["env_kwargs"],  # e.g. the gridworld observation type: {"obs": "onehot"}
        "view": rec.get("view", "full"),  # the MiniGrid observation
        "normalize": rec["normalize"],
        "algo": algo,
        "features": features,
        "bonus": bonus,
        "mode": rec["mode"],
        "seed": seed,
        "steps": rec["steps"],
        "model": "model.zip",
        "vecnormalize": "vecnormalize.pkl" if (out / "vecnormalize.pkl").is_file() else None,
        "spectral": "spectral.pt" if (out / "spectral.pt").is_file() else None,  # the online learner
        "checkpoint": checkpoint,
        "spectral_inputs": list(inputs),
        "recipe": _json_safe(rec),
    }
    return write_results(out / RUN_FILE, _json_safe(run))


def train(
    env_id: str,
    algo: str = "ppo",
    features: str = "raw",
    bonus: str = "none",
    steps: int | None = None,
    seed: int = 0,
    out: str | Path = "runs/train",
    callbacks: Sequence[Any] = (),
    **overrides: Any,
) -> dict[str, Any]:
    """Train ``algo`` on ``env_id`` with ``features`` (raw | spectral | both) and ``bonus`` (none | eigenpurpose |
    novelty | goal | rnd, or the RLeXplore peers e3b | re3 | rnd-rllte, on-policy, with rllte-core installed);
    returns the content of ``results.json``. A bonus with a ``seed`` argument is seeded by ``seed``.

    ``overrides`` replace recipe keys (see :mod:`agents.recipes`; dicts merge); also ``obs`` (gridworld observation
    type), ``checkpoint`` (pretrained eigenfunctions, kept fixed: no online learning), ``progress``, ``threads``.
    Any other name goes to the SB3 algorithm (e.g. ``learning_rate``). ``callbacks`` (SB3 callbacks) run after
    the library's own; an :class:`agents.monitor.ResourceMonitor` among them is given the online spectral learner.
    """
    check_train_arguments(algo, features, bonus, steps)  # before the heavy imports: a typo fails fast

    import numpy as np
    import torch
    from stable_baselines3.common.callbacks import BaseCallback
    from stable_baselines3.common.noise import NormalActionNoise
    from stable_baselines3.common.off_policy_algorithm import OffPolicyAlgorithm
    from stable_baselines3.common.vec_env import VecNormalize

    from rlspectral.agents.environments import goal_observation, make_env, minigrid_view, spectral_inputs
    from rlspectral.agents.evaluation import EpisodeInfoMean, PeriodicEvaluation
    from rlspectral.agents.monitor import ResourceMonitor
    from rlspectral.agents.progress import ProgressBar
    from rlspectral.agents.report import plot_learning_curve, write_results
    from rlspectral.sb3 import (
        BONUSES,
        BonusReplayBuffer,
        BonusRolloutBuffer,
        SpectralCallback,
        learner_config_for,
        make_bonus,
        spectral_obs_shape,
        spectral_policy_kwargs,
    )

    own, algo_overrides = _split_overrides(overrides)
    rec = merge(recipe(algo, env_id, own.pop("obs", None)), {**own, "algo": algo_overrides})
    check(is_int(rec["n_envs"]) and rec["n_envs"] >= 1, "n_envs", rec["n_envs"], "pass an integer >= 1")
    check(is_int(rec.get("threads", 0)) and rec.get("threads", 0) >= 0, "threads", rec.get("threads"), "pass >= 0")
    steps = rec["steps"] = int(steps if steps is not None else rec["steps"])
    checkpoint, progress = rec.pop("checkpoint", None), rec.pop("progress", True)
    if rec.get("threads"):
        torch.set_num_threads(int(rec.pop("threads")))
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)

    view = rec["view"] = minigrid_view(env_id, rec.get("view", "full"))  # recorded as it ran
    env = make_env(env_id, rec["n_envs"], seed, rec["env_kwargs"], rec["normalize"], training=True, view=view)
    eval_env = make_env(env_id, 1, seed + 10_000, rec["env_kwargs"], rec["normalize"], training=False, view=view)
    _check_action_space(algo, env)
    spectral = features != "raw" or bonus != "none"
    if spectral:
        spectral_obs_shape(env.observation_space)  # one-line error for Dict / Discrete / odd shapes
    cls = algorithms()[algo]
    algo_kwargs = dict(rec["algo"])
    policy_kwargs = dict(algo_kwargs.pop("policy_kwargs", {}))
    inputs = spectral_inputs(env)  # goal-dict envs: the eigenfunctions read achieved_goal (rlspectral.envs.goal_obs)
    # the online learner is seeded by the run (fit variation is sampled across seeds, never shared by them)
    spectral_spec = {**({"inputs": list(inputs)} if inputs else {}), "seed": seed, **rec["spectral"]}
    learner_spec: Any = checkpoint or learner_config_for(env.observation_space, spectral_spec).to_dict()
    if features != "raw":
        policy_kwargs = spectral_policy_kwargs(
            checkpoint=checkpoint,
            learner=None if checkpoint else learner_spec,
            mode=rec["mode"],
            concat=features == "both",
            **policy_kwargs,
        )
    intrinsic = None
    if bonus != "none":
        kwargs = dict(rec["bonus_kwargs"])
        if "coef" not in own.get("bonus_kwargs", {}) and bonus in (rec.get("bonus_coef") or {}):
            kwargs["coef"] = rec["bonus_kwargs"]["coef"] = rec["bonus_coef"][bonus]  # recorded as run
        if bonus == "goal":
            if isinstance(env, VecNormalize) and env.norm_obs:
                raise SpectralError("the goal bonus needs raw observations: turn off VecNormalize (normalize=False)")
            kwargs["goal"] = goal_observation(env)
        if bonus == "elliptical-exact":  # the ablation: exact position-graph eigenvectors as the bonus space
            from rlspectral.agents.minigrid import exact_position_embedding

            kwargs["embedding"] = exact_position_embedding(env_id, int(rec["spectral"].get("k", 11)))
        if "seed" in inspect.signature(BONUSES[bonus]).parameters:  # its networks are seeded by the run, like ours
            kwargs.setdefault("seed", seed)
        intrinsic = make_bonus(bonus, **kwargs)
        key = "replay_buffer_class" if issubclass(cls, OffPolicyAlgorithm) else "rollout_buffer_class"
        algo_kwargs[key] = BonusReplayBuffer if key == "replay_buffer_class" else BonusRolloutBuffer
    if rec.get("action_noise") and issubclass(cls, OffPolicyAlgorithm) and algo in CONTINUOUS_ONLY:
        n = env.action_space.shape[-1]
        algo_kwargs["action_noise"] = NormalActionNoise(np.zeros(n), rec["action_noise"] * np.ones(n))
    model = cls(
        "MlpPolicy", env, seed=seed, verbose=0, tensorboard_log=str(out / "tb"), policy_kwargs=policy_kwargs,
        **algo_kwargs,
    )  # fmt: skip

    extra_callbacks = list(callbacks)
    callbacks: list[BaseCallback] = []  # type: ignore[no-redef]
    bar = ProgressBar(steps, desc=f"{algo} {env_id}") if progress else None
    callbacks += [bar] if bar is not None else []
    spectral_cb = None
    # A pretrained checkpoint stays fixed (the callback then only serves the bonus); otherwise learn online.
    if spectral and (checkpoint is None or intrinsic is not None):
        schedule = {**rec["callback"], **({"train_freq": 0} if checkpoint else {})}
        # No online learner when the policy's extractor brings its own, or the bonus needs no eigenfunctions
        # (RND, a goal bonus on a fixed embedding): the callback then only serves the bonus.
        own_learner = features == "raw" and (intrinsic is None or intrinsic.needs_features)
        spectral_cb = SpectralCallback(
            learner=learner_spec if own_learner else None, bonus=intrinsic, seed=seed, **schedule
        )
        callbacks.append(spectral_cb)
    evaluation = PeriodicEvaluation(
        eval_env, rec["eval_every"], rec["eval_episodes"], bar=bar, sampled=bool(rec.get("eval_sampled", False))
    )
    callbacks.append(evaluation)
    if is_minigrid(env_id):  # distinct cells per training episode: rollout/visited_cells
        callbacks.append(EpisodeInfoMean(("visited_cells",)))
    for extra in extra_callbacks:
        if isinstance(extra, ResourceMonitor) and extra.learner_source is None:
            extra.learner_source = spectral_cb
        callbacks.append(extra)

    start = time.perf_counter()
    model.learn(steps, callback=callbacks, tb_log_name=f"{algo}_{features}_{bonus}_s{seed}")
    wall = time.perf_counter() - start

    model.save(out / "model.zip")
    if isinstance(env, VecNormalize):
        env.save(str(out / "vecnormalize.pkl"))
    results: dict[str, Any] = {
        "env": env_id,
        "algo": algo,
        "features": features,
        "bonus": bonus,
        "seed": seed,
        "steps": steps,
        "wall_time_s": wall,
        "evaluations": evaluation.history,
        "final": evaluation.history[-1] if evaluation.history else None,
        "config": _json_safe({**rec, "checkpoint": checkpoint}),
    }
    if spectral_cb is not None:
        results["callback_time_s"] = dict(spectral_cb.timing)  # where the spectral side's time went
    if spectral_cb is not None and spectral_cb.learner is not None:
        spectral_cb.learner.save(out / "spectral.pt")
        results["spectral"] = {
            "updates": spectral_cb.learner.step,
            "eigenvalues": sorted(spectral_cb.learner.eigenvalues.tolist(), reverse=True),
        }
        results["spectral_updates"] = spectral_cb.learner.step  # 0: the features / bonus read an untrained network
    write_run(out, env_id, algo, features, bonus, seed, rec, checkpoint, inputs)
    write_results(out / "results.json", results)
    plot_learning_curve(out / "learning_curve.png", evaluation.history, f"{algo} on {env_id} ({features}, {bonus})")
    env.close()
    eval_env.close()
    return results
