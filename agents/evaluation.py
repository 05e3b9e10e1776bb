"""Periodic evaluation: mean/std episode return and success rate (``info["is_success"]`` at episode end).

The policy is evaluated with its argmax (SB3's ``deterministic=True``) actions and, with ``sampled=True``, also
with actions drawn from its own distribution (``sampled_*`` keys): in MiniGrid an argmax policy can loop in place
(turning or bumping a wall) where the stochastic policy it was trained as succeeds.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from stable_baselines3.common.callbacks import BaseCallback
from stable_baselines3.common.evaluation import evaluate_policy
from stable_baselines3.common.vec_env import VecEnv, sync_envs_normalization

from rlspectral.agents.progress import ProgressBar


class PeriodicEvaluation(BaseCallback):
    """Evaluates every ``every`` env steps and at the end of training; ``history`` holds one dict per evaluation
    (``timesteps``, ``return_mean``, ``return_std``, ``success_rate`` or None when the env reports none; with
    ``sampled`` also ``sampled_return_mean``, ``sampled_return_std``, ``sampled_success_rate``)."""

    def __init__(
        self,
        eval_env: VecEnv,
        every: int,
        episodes: int = 10,
        deterministic: bool = True,
        bar: ProgressBar | None = None,
        sampled: bool = False,
    ):
        super().__init__()
        self.eval_env, self.every, self.episodes, self.deterministic = (
            eval_env,
            int(every),
            int(episodes),
            deterministic,
        )
        self.bar, self.sampled = bar, bool(sampled)
        self.history: list[dict[str, Any]] = []
        self._next = self.every

    def _episodes(self, deterministic: bool) -> dict[str, Any]:
        successes: list[bool] = []

        def on_step(local: dict[str, Any], _: dict[str, Any]) -> None:
            if local["done"] and "is_success" in local["info"]:
                successes.append(bool(local["info"]["is_success"]))

        returns, _ = evaluate_policy(
            self.model, self.eval_env, self.episodes, deterministic, callback=on_step, return_episode_rewards=True
        )
        return {
            "return_mean": float(np.mean(returns)),
            "return_std": float(np.std(returns)),
            "success_rate": float(np.mean(successes)) if successes else None,
        }

    def evaluate(self) -> dict[str, Any]:
        sync_envs_normalization(self.training_env, self.eval_env)
        row = {"timesteps": int(self.num_timesteps), **self._episodes(self.deterministic)}
        if self.sampled:
            row.update({f"sampled_{key}": value for key, value in self._episodes(False).items()})
            if row["sampled_success_rate"] is not None:
                self.logger.record("eval/sampled_success_rate", row["sampled_success_rate"])
            self.logger.record("eval/sampled_mean_reward", row["sampled_return_mean"])
        self.history.append(row)
        self.logger.record("eval/mean_reward", row["return_mean"])
        if row["success_rate"] is not None:
            self.logger.record("eval/success_rate", row["success_rate"])
        if self.bar is not None:
            succ = {} if row["success_rate"] is None else {"succ": row["success_rate"]}
            self.bar.show(ret=row["return_mean"], **succ)
        return row

    def _on_step(self) -> bool:
        if self.every > 0 and self.num_timesteps >= self._next:
            self._next = (self.num_timesteps // self.every + 1) * self.every
            self.evaluate()
        return True

    def _on_training_end(self) -> None:
        if not self.history or self.history[-1]["timesteps"] != self.num_timesteps:
            self.evaluate()


class EpisodeInfoMean(BaseCallback):
    """Logs ``rollout/<key>`` at each rollout's end: the mean of ``info[key]`` over the last ``window`` finished
    training episodes that reported it (e.g. MiniGrid's ``visited_cells``), beside SB3's ``rollout/ep_len_mean``."""

    def __init__(self, keys: tuple[str, ...], window: int = 100):
        super().__init__()
        self.keys, self.window = tuple(keys), int(window)
        self.values: dict[str, list[float]] = {key: [] for key in self.keys}

    def _on_step(self) -> bool:
        for info, done in zip(self.locals["infos"], self.locals["dones"]):
            if done:
                for key in self.keys:
                    if key in info:
                        self.values[key] = [*self.values[key], float(info[key])][-self.window :]
        return True

    def _on_rollout_end(self) -> None:
        for key, values in self.values.items():
            if values:
                self.logger.record(f"rollout/{key}", float(np.mean(values)))
