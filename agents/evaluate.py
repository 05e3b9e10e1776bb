"""``rlspectral evaluate --model DIR``: run a model saved by ``rlspectral train`` on its own environment.

The env is rebuilt from the run's ``run.json`` exactly as in training: the same id and env kwargs (a gridworld's
observation type: a model trained on one-hot cells gets one-hot cells, not ``gym.make``'s default (x, y)), the
library's wrappers (:func:`rlspectral.agents.environments.make_env`: MiniGrid's flat grid, goal dicts as one Box)
and, when the run used VecNormalize, its saved statistics (frozen, raw rewards). The spectral features travel in
the model (the extractor's config in ``policy_kwargs``, its weights in the policy's ``state_dict``). Runs written
before ``run.json`` existed are read from ``results.json``.

Writes ``evaluation.json`` (mean / std return, mean length, success rate, per-episode returns) into the run
directory (or ``--out``). A missing or foreign directory is a one-line :class:`~rlspectral.errors.SpectralError`.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from rlspectral.agents.report import RESULTS_FILE, RUN_FILE, write_results
from rlspectral.errors import SpectralError

EVALUATION_FILE = "evaluation.json"


def _read_json(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text())
    except (OSError, json.JSONDecodeError) as e:
        raise SpectralError(f"{path}: unreadable ({e})") from None
    if not isinstance(data, dict):
        raise SpectralError(f"{path}: not a run description (a JSON object was expected)")
    return data


def read_run(run_dir: str | Path) -> dict[str, Any]:
    """The run description of a ``rlspectral train`` output directory (``run.json``, or for older runs what
    ``results.json`` holds), with ``dir`` set; a one-line :class:`SpectralError` if ``run_dir`` is not one."""
    path = Path(run_dir)
    if path.is_file() and path.suffix == ".zip":  # the model file itself: its directory holds the rest
        path = path.parent
    if not path.exists():
        raise SpectralError(f"{path}: no such directory (give the --out directory of rlspectral train)")
    if not path.is_dir():
        raise SpectralError(f"{path}: not a directory (give the --out directory of rlspectral train)")
    if (path / RUN_FILE).is_file():
        run = _read_json(path / RUN_FILE)
    elif (path / RESULTS_FILE).is_file():
        results = _read_json(path / RESULTS_FILE)
        config = results.get("config") or {}
        run = {key: results.get(key) for key in ("env", "algo", "features", "bonus", "seed")}
        run.update(env_kwargs=config.get("env_kwargs") or {}, normalize=config.get("normalize", False))
        stats = "vecnormalize.pkl" if (path / "vecnormalize.pkl").is_file() else None
        run.update(model="model.zip", vecnormalize=stats)
    else:
        raise SpectralError(f"{path}: not a run directory of rlspectral train (no {RUN_FILE} or {RESULTS_FILE})")
    missing = [key for key in ("env", "algo", "model") if not run.get(key)]
    if missing:
        raise SpectralError(f"{path}: the run description lacks {', '.join(missing)}")
    if not (path / run["model"]).is_file():
        raise SpectralError(f"{path}: no saved model ({run['model']} is missing: did the training finish?)")
    return {**run, "dir": str(path)}


def make_run_env(run: dict[str, Any], seed: int = 0) -> Any:
    """A one-env ``VecEnv`` built as the run's training env was, VecNormalize statistics loaded and frozen."""
    from stable_baselines3.common.vec_env import VecNormalize

    from rlspectral.agents.environments import make_env

    env_kwargs = dict(run.get("env_kwargs") or {})
    env = make_env(run["env"], 1, seed, env_kwargs, normalize=False, training=False, view=run.get("view", "full"))
    stats = run.get("vecnormalize")
    if stats:
        path = Path(run["dir"]) / stats
        if not path.is_file():
            raise SpectralError(f"{path}: VecNormalize statistics missing (the model was trained on normalized obs)")
        env = VecNormalize.load(str(path), env)
        env.training, env.norm_reward = False, False
    elif run.get("normalize"):
        raise SpectralError(f"{run['dir']}: the run used VecNormalize but saved no vecnormalize.pkl")
    return env


def evaluate_run(
    run_dir: str | Path,
    episodes: int = 10,
    deterministic: bool = True,
    seed: int = 0,
    out: str | Path | None = None,
) -> dict[str, Any]:
    """Run the saved model of ``run_dir`` for ``episodes`` episodes on its own env; returns (and writes to
    ``out``, default ``run_dir/evaluation.json``) the mean / std return, mean length and success rate."""
    import numpy as np
    from stable_baselines3.common.evaluation import evaluate_policy

    from rlspectral.agents.train import ALGO_NAMES, algorithms

    if episodes < 1:
        raise SpectralError(f"episodes must be >= 1, got {episodes}")
    run = read_run(run_dir)
    if run["algo"] not in ALGO_NAMES:
        raise SpectralError(f"{run['dir']}: unknown algorithm {run['algo']!r}; known: {', '.join(ALGO_NAMES)}")
    env = make_run_env(run, seed)
    model_path = Path(run["dir"]) / run["model"]
    try:
        model = algorithms()[run["algo"]].load(model_path, device="cpu")
    except Exception as e:  # a foreign or truncated zip: say which file, in one line
        raise SpectralError(f"{model_path}: cannot load the {run['algo']} model ({type(e).__name__}: {e})") from None
    if model.observation_space.shape != env.observation_space.shape:
        raise SpectralError(
            f"{model_path}: the model observes {model.observation_space.shape}, the rebuilt env "
            f"{env.observation_space.shape} (env kwargs {run.get('env_kwargs')})"
        )
    successes: list[bool] = []

    def on_step(local: dict[str, Any], _: dict[str, Any]) -> None:
        if local["done"] and "is_success" in local["info"]:
            successes.append(bool(local["info"]["is_success"]))

    try:
        returns, lengths = evaluate_policy(
            model, env, episodes, deterministic, callback=on_step, return_episode_rewards=True, warn=False
        )
    finally:
        env.close()
    results_file = Path(run["dir"]) / RESULTS_FILE
    trained = _read_json(results_file).get("spectral_updates") if results_file.is_file() else None
    evaluation = {
        "run": run["dir"],
        "env": run["env"],
        "env_kwargs": run.get("env_kwargs") or {},
        "algo": run["algo"],
        "features": run.get("features"),
        "bonus": run.get("bonus"),
        "episodes": int(episodes),
        "deterministic": bool(deterministic),
        "seed": int(seed),
        "return_mean": float(np.mean(returns)),
        "return_std": float(np.std(returns)),
        "length_mean": float(np.mean(lengths)),
        "success_rate": float(np.mean(successes)) if successes else None,
        "returns": [float(r) for r in returns],
        **({"spectral_updates": trained} if trained is not None else {}),
    }
    write_results(Path(out) if out is not None else Path(run["dir"]) / EVALUATION_FILE, evaluation)
    return evaluation
