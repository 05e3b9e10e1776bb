"""SpectralCallback: learn eigenfunctions online from the agent's own experience and hand them to the agent.

Every env step, the callback appends the transition to per-env episode fragments (``EpisodeStream``) that go
into an :class:`EpisodicBuffer` when the episode ends -- the same experience that enters the off-policy replay
buffer or the on-policy rollouts, with the episode boundaries kept, so successor-operator pairs never cross
episodes. Under ``VecNormalize`` the buffer stores the observations as the env emitted them (like SB3's replay
buffer; terminal observations are un-normalized, as SB3 does) and normalizes them with the current statistics
when sampled, so the learner sees what the policy sees.

Schedule: after ``learning_starts`` env steps, every ``train_freq`` env steps, ``gradient_steps`` updates of
``batch_size`` pairs. After each round the eigenfunctions are pushed into every
:class:`SpectralFeaturesExtractor` of the policy (actor, critic and target copies for SAC/TD3, online and
target Q-networks for DQN): ``frozen`` extractors always, ``finetune`` ones only while they hold no weights.
A learner that no update reaches is an :class:`UntrainedSpectralWarning`, at the start of ``learn()`` when the
budget cannot reach ``learning_starts`` and at its end when no update ran.
An :class:`IntrinsicReward` ``bonus`` is attached to the :class:`BonusReplayBuffer` (off-policy, added at
sample time) or filled into the :class:`BonusRolloutBuffer` step by step (on-policy, before returns are
computed); a rollout-level bonus (``per_rollout``, e.g. the RLeXplore peers of :mod:`rlspectral.sb3.rllte_peers`)
only has each step's next observation and episode flags recorded there, and is computed over the whole rollout
before returns. A bonus that needs no eigenfunctions (``needs_features = False``, e.g. RND) also runs with no learner
at all: ``learner=None`` and no spectral extractor in the policy. Logged to the agent's logger: ``spectral/loss``,
``spectral/eigenvalue_XX`` (sampled operator, descending), ``intrinsic/*`` and ``extrinsic/*`` episode returns,
and where the callback's time goes (``timing``: seconds spent storing transitions, computing the bonus and
updating the learner; logged as ``time/spectral_*_s``).
"""

from __future__ import annotations

import time
import warnings
from collections import deque
from pathlib import Path
from typing import Any

import numpy as np
import torch
from stable_baselines3.common.callbacks import BaseCallback
from stable_baselines3.common.off_policy_algorithm import OffPolicyAlgorithm
from torch import Tensor

from rlspectral.buffer import EpisodicBuffer, PairSampler
from rlspectral.errors import ConfigError
from rlspectral.learner import LearnerConfig, SpectralLearner
from rlspectral.sb3.bonus import IntrinsicReward
from rlspectral.sb3.eigen_features import EigenFeatures
from rlspectral.sb3.episodes import EpisodeStream
from rlspectral.sb3.extractor import SpectralFeaturesExtractor, learner_config_for
from rlspectral.sb3.replay import BonusReplayBuffer
from rlspectral.sb3.rollout import BonusRolloutBuffer
from rlspectral.sb3.spaces import buffer_dtype, spectral_obs_shape


class UntrainedSpectralWarning(UserWarning):
    """The eigenfunctions a policy or bonus reads were never trained (no spectral update ran)."""


class SpectralCallback(BaseCallback):
    """Online spectral learning, feature pushes and intrinsic rewards for any SB3 algorithm.

    :param learner: a :class:`SpectralLearner`, a checkpoint path, a :class:`LearnerConfig` or a dict of its
        fields (``obs_shape`` may be left out), or None: take the config (and checkpoint, if any) of the
        policy's first :class:`SpectralFeaturesExtractor`; with no such extractor and a bonus that needs no
        eigenfunctions, run the bonus alone (no learner, no spectral buffer).
    :param train_freq: env steps (summed over envs) between two rounds of spectral updates; 0 = never update.
    :param gradient_steps: learner updates per round.
    :param learning_starts: env steps before the first round.
    :param batch_size: pairs per update.
    :param buffer_size: states kept for pair sampling (a ring: the oldest episodes go first).
    :param bonus: an intrinsic reward (needs ``BonusReplayBuffer`` / ``BonusRolloutBuffer`` in the agent).
    :param push: copy the updated eigenfunctions into the policy's extractors.
    :param max_fragment: longest episode piece handed to the buffer at once (for never-ending episodes).
    :param batch_bonus: on-policy, compute a per-step bonus in blocks (:meth:`IntrinsicReward.steps`): the steps
        are recorded as they come and their bonus computed together before the next spectral round or the
        rollout's returns, whichever comes first (the same eigenfunctions, so the same rewards up to float
        rounding; one forward pass per block instead of one per step).
    """

    def __init__(
        self,
        learner: SpectralLearner | LearnerConfig | dict[str, Any] | str | Path | None = None,
        train_freq: int = 1000,
        gradient_steps: int = 50,
        learning_starts: int = 1000,
        batch_size: int = 1024,
        buffer_size: int = 100_000,
        bonus: IntrinsicReward | None = None,
        push: bool = True,
        max_fragment: int = 1000,
        seed: int | None = None,
        batch_bonus: bool = True,
        verbose: int = 0,
    ):
        super().__init__(verbose)
        self._learner_spec = learner
        self.train_freq, self.gradient_steps = int(train_freq), int(gradient_steps)
        self.learning_starts, self.batch_size = int(learning_starts), int(batch_size)
        self.buffer_size, self.max_fragment, self.seed = int(buffer_size), int(max_fragment), seed
        self.bonus, self.push, self.batch_bonus = bonus, push, bool(batch_bonus)
        self._pending: list[tuple[np.ndarray, ...]] = []  # steps whose bonus is not computed yet (batch_bonus)
        self.learner: SpectralLearner | None = None
        self._initialized = False
        self._next_round = self.learning_starts
        self.order_changes = 0  # pushes at which the eigenvalue-sorted mode order moved (spectral/order_changes)
        self._intrinsic_returns: deque[float] = deque(maxlen=100)
        self._extrinsic_returns: deque[float] = deque(maxlen=100)
        self.timing = {"store": 0.0, "bonus": 0.0, "learner": 0.0}  # seconds spent in each part of the callback

    # ----------------------------------------------------------------- setup
    @property
    def extractors(self) -> list[SpectralFeaturesExtractor]:
        """Every spectral extractor in the policy (SAC/TD3: actor, critic and targets; DQN: q_net and target)."""
        return [m for m in self.model.policy.modules() if isinstance(m, SpectralFeaturesExtractor)]

    def _make_learner(self) -> SpectralLearner | None:
        spec, device = self._learner_spec, self.model.device
        if isinstance(spec, SpectralLearner):
            return spec
        if isinstance(spec, (str, Path)):
            return SpectralLearner.load(spec, device=device, expect_obs_shape=self._obs_shape)
        if spec is not None:
            return SpectralLearner(learner_config_for(self.model.observation_space, spec), device=device)
        if not self.extractors:
            if self.bonus is not None and not self.bonus.needs_features:
                return None  # e.g. RND: the bonus alone
            raise ConfigError(
                "SpectralCallback needs a learner (config dict, LearnerConfig or checkpoint path): "
                "the policy has no SpectralFeaturesExtractor to take one from"
            )
        first = self.extractors[0]
        if first.checkpoint is not None and Path(first.checkpoint).is_file():
            return SpectralLearner.load(first.checkpoint, device=device, expect_obs_shape=self._obs_shape)
        return SpectralLearner(first.learner_config, device=device)

    def _init_callback(self) -> None:
        """Runs at every ``learn()``: the learner and its buffer are built once and kept across calls."""
        self._next_round = max(self.learning_starts, self.model.num_timesteps)
        if self._initialized:
            self._raw_obs = self._original_obs()
            return
        self._initialized = True
        space = self.model.observation_space
        self._obs_shape = spectral_obs_shape(space)
        vecnorm = self.model.get_vec_normalize_env()
        self._vecnorm = vecnorm if vecnorm is not None and vecnorm.norm_obs else None
        self._raw_obs = self._original_obs()
        self._intrinsic_now = np.zeros(self.training_env.num_envs)
        self._extrinsic_now = np.zeros(self.training_env.num_envs)
        self.learner = self._make_learner()
        self.stream = self.features = None
        if self.learner is None:
            self._attach_bonus()
            return
        if tuple(self.learner.config.obs_shape) != self._obs_shape:
            shapes = f"learner obs_shape {self.learner.config.obs_shape} != env observations {self._obs_shape}"
            raise ConfigError(shapes)
        if self.push:
            for ext in self.extractors:
                if ext.learner_config.network_config() != self.learner.config.network_config():
                    raise ConfigError(
                        "the policy's spectral extractor and the callback's learner have different networks: "
                        "give the callback learner=None to use the extractor's config"
                    )
        self.buffer = EpisodicBuffer(self.buffer_size, self._obs_shape, dtype=buffer_dtype(space))
        self.stream = EpisodeStream(self.buffer, self.training_env.num_envs, self.max_fragment)
        anchored = self.learner.config.anchored
        self.sampler = PairSampler(self.buffer, self.learner.operator, seed=self.seed, anchors=anchored)
        if anchored and self.push and self.extractors:
            raise ConfigError(
                "an anchored learner's eigenfunctions are defined up to an episode constant and cannot be a policy "
                "input: use features='raw' with an anchored learner, or anchored=False"
            )
        if anchored and self.bonus is not None and not self.bonus.anchorable:
            raise ConfigError(
                f"the {self.bonus.name} bonus cannot read episode-anchored eigenfunctions: use the elliptical bonus "
                "or anchored=False"
            )
        self.features = EigenFeatures(self.learner.config).to(self.model.device)
        if self.bonus is not None:
            self._attach_bonus()
        if self.learner.step > 0:
            self._push()

    def _attach_bonus(self) -> None:
        self.bonus.features = self.features
        if isinstance(self.model, OffPolicyAlgorithm):
            if self.bonus.per_rollout:
                raise ConfigError(f"the {self.bonus.name} bonus is computed over whole rollouts: use ppo or a2c")
            if self.bonus.episodic:
                raise ConfigError(
                    f"the {self.bonus.name} bonus is episodic and needs an on-policy agent (PPO, A2C): an off-policy "
                    "replay buffer recomputes bonuses at sample time, without the episode's state"
                )
            if not isinstance(self.model.replay_buffer, BonusReplayBuffer):
                raise ConfigError("an intrinsic bonus needs the agent built with replay_buffer_class=BonusReplayBuffer")
            self.model.replay_buffer.intrinsic = self.bonus
        elif not isinstance(getattr(self.model, "rollout_buffer", None), BonusRolloutBuffer):
            raise ConfigError("an intrinsic bonus needs the agent built with rollout_buffer_class=BonusRolloutBuffer")
        elif self.bonus.per_rollout:  # the buffer computes it from the whole rollout (rlspectral.sb3.rollout_bonus)
            self.bonus.setup(self.model.observation_space, self.model.action_space, self.training_env.num_envs,
                             self.model.device)  # fmt: skip
            self.model.rollout_buffer.rollout_bonus = self.bonus
        elif self.batch_bonus:
            self.model.rollout_buffer.before_returns = self._flush_bonus

    # ----------------------------------------------------------------- per step
    def _original_obs(self) -> np.ndarray:
        """The current observations as the env emitted them (before VecNormalize, if any)."""
        if self._vecnorm is None:
            return self.model._last_obs
        return self._vecnorm.get_original_obs()

    def _store_step(self, new_obs: np.ndarray, dones: np.ndarray, infos: list[dict]) -> tuple[np.ndarray, list]:
        """Hand the step to the episode stream; returns this step's states as the env emitted them and the
        terminal observations (None where no episode ended), un-normalized."""
        raw_prev, raw_new = self._raw_obs, self._original_obs() if self._vecnorm is not None else new_obs
        terminal = [info.get("terminal_observation") if done else None for done, info in zip(dones, infos)]
        if self._vecnorm is not None:  # VecNormalize normalized the terminal observations in place
            terminal = [None if t is None else self._vecnorm.unnormalize_obs(t) for t in terminal]
        if self.stream is not None:
            self.stream.step(self._raw_obs, raw_new, dones, terminal)
        self._raw_obs = raw_new
        return raw_prev, terminal

    def _on_step(self) -> bool:
        obs, new_obs = self.model._last_obs, self.locals["new_obs"]
        dones, infos = self.locals["dones"], self.locals["infos"]
        t0 = time.perf_counter()
        raw_prev, terminal = self._store_step(new_obs, dones, infos)
        t1 = time.perf_counter()
        ends = infos
        if self.bonus is not None and self.bonus.reads_raw:  # e.g. exact counts: not the moving standardization
            obs, new_obs, ends = raw_prev, self._raw_obs, [{"terminal_observation": t} for t in terminal]
        bonus = self._bonus_step(obs, new_obs, dones, ends) if self.bonus is not None else None
        t2 = time.perf_counter()
        self.timing["store"] += t1 - t0
        self.timing["bonus"] += t2 - t1
        self._track_extrinsic(dones, infos)
        if bonus is not None:
            self._track_intrinsic(dones, bonus)
        if self.learner is not None and self.train_freq > 0 and self.num_timesteps >= self._next_round:
            while self._next_round <= self.num_timesteps:  # rounds at learning_starts + j * train_freq
                self._next_round += self.train_freq
            self._flush_bonus()  # the recorded steps get their bonus from the eigenfunctions they were taken with
            t3 = time.perf_counter()
            self._train_round()
            self.timing["learner"] += time.perf_counter() - t3
        return True

    def _bonus_step(
        self, obs: np.ndarray, new_obs: np.ndarray, dones: np.ndarray, infos: list[dict]
    ) -> np.ndarray | None:
        """The bonus of this step's transitions (terminal observations where episodes ended). On-policy it goes
        into the rollout buffer and trains the agent; off-policy it is only logged (the replay buffer recomputes
        it at sample time, with the eigenfunctions of that moment)."""
        next_obs = np.array(new_obs, copy=True)
        for i, done in enumerate(dones):
            if done and infos[i].get("terminal_observation") is not None:
                next_obs[i] = infos[i]["terminal_observation"]
        if self.bonus.per_rollout:  # recorded now, computed over the whole rollout before returns (BonusRolloutBuffer)
            truncated = np.array([bool(d and info.get("TimeLimit.truncated", False)) for d, info in zip(dones, infos)])
            self.model.rollout_buffer.add_transition(next_obs, np.asarray(dones, bool) & ~truncated, truncated)
            return None
        dones = np.array(dones, dtype=bool)
        if self._is_on_policy and self.batch_bonus:  # computed by _flush_bonus, with the steps around it
            step = (np.array(obs, copy=True), next_obs, dones, np.array(new_obs, copy=True))
            self._pending.append((*step, np.array(self.model.rollout_buffer.pos)))
            return None
        bonus = self.bonus.step(obs, next_obs, dones, new_obs, update_stats=self._is_on_policy).numpy()
        if self._is_on_policy:
            self.model.rollout_buffer.add_intrinsic(bonus)
        return bonus

    def _flush_bonus(self) -> None:
        """The bonus of the recorded steps (batch_bonus), written to their rollout-buffer slots."""
        if not self._pending:
            return
        t0 = time.perf_counter()
        obs, next_obs, dones, new_obs, slots = (np.stack(a) for a in zip(*self._pending))
        self._pending = []
        bonus = self.bonus.steps(obs, next_obs, dones, new_obs, update_stats=True).numpy()
        self.model.rollout_buffer.intrinsic[slots] = bonus
        for b, d in zip(bonus, dones):
            self._track_intrinsic(d, b)
        self.timing["bonus"] += time.perf_counter() - t0

    def _track_extrinsic(self, dones: np.ndarray, infos: list[dict]) -> None:
        """Per-env extrinsic episode returns (the Monitor's, i.e. before VecNormalize)."""
        self._extrinsic_now += np.asarray(self.locals.get("rewards", 0.0), dtype=np.float64)
        for i, done in enumerate(dones):
            if done:
                episode = infos[i].get("episode")
                self._extrinsic_returns.append(float(episode["r"]) if episode else float(self._extrinsic_now[i]))
                self._extrinsic_now[i] = 0.0

    def _track_intrinsic(self, dones: np.ndarray, bonus: np.ndarray) -> None:
        """Per-env intrinsic episode returns, one vectorized step at a time."""
        self._intrinsic_now += bonus
        for i in np.flatnonzero(dones):
            self._intrinsic_returns.append(float(self._intrinsic_now[i]))
            self._intrinsic_now[i] = 0.0

    @property
    def _is_on_policy(self) -> bool:
        return not isinstance(self.model, OffPolicyAlgorithm)

    # ----------------------------------------------------------------- spectral updates
    def _sample(self, batch_size: int) -> tuple[Tensor, ...]:
        """``(x, y)`` pairs (and anchors, for an anchored learner), normalized as the policy sees them."""
        batch = self.sampler(batch_size)
        if self._vecnorm is None:
            return batch
        norm = self._vecnorm.normalize_obs
        return tuple(torch.as_tensor(norm(b.numpy()), dtype=torch.float32) for b in batch)

    def _has_pairs(self) -> bool:
        n = len(self.buffer)
        return n > 0 and int(self.buffer.room[:n].max()) >= self.learner.operator.min_offset

    def _train_round(self) -> None:
        if self.gradient_steps <= 0 or not self._has_pairs():
            return
        losses = [self.learner.update(*self._sample(self.batch_size))["loss"] for _ in range(self.gradient_steps)]
        self._push()
        self.logger.record("spectral/loss", float(np.mean(losses)))
        self.logger.record("spectral/updates", self.learner.step)
        self.logger.record("spectral/buffer_states", len(self.buffer))
        for i, v in enumerate(np.sort(self.learner.eigenvalues)[::-1]):
            self.logger.record(f"spectral/eigenvalue_{i:02d}", float(v))

    def _push(self) -> None:
        """Copy the learner's eigenfunctions into the bonus features and the policy's extractors."""
        previous = self.features.order.clone() if self.features.is_loaded else None
        self.features.load_learner(self.learner)
        if previous is not None:  # how often the sorted order moved (the policy's columns do not)
            self.order_changes += int(not torch.equal(previous, self.features.order))
            self.logger.record("spectral/order_changes", self.order_changes)
        if not self.push:
            return
        for ext in self.extractors:
            if ext.mode == "frozen" or not ext.eigen.is_loaded:
                ext.eigen.load_learner(self.learner, keep_order=True)  # a policy input must not be permuted

    # ----------------------------------------------------------------- logging
    def _on_rollout_end(self) -> None:
        for part, seconds in self.timing.items():
            self.logger.record(f"time/spectral_{part}_s", seconds)
        if self._extrinsic_returns:
            self.logger.record("extrinsic/ep_return_mean", float(np.mean(self._extrinsic_returns)))
        if self.bonus is None:
            return
        if self._intrinsic_returns and not self.bonus.per_rollout:  # a rollout-level bonus has no per-step returns
            self.logger.record("intrinsic/ep_return_mean", float(np.mean(self._intrinsic_returns)))
        if self._is_on_policy:
            self.logger.record("intrinsic/reward_mean", float(self.model.rollout_buffer.intrinsic.mean()))
        else:
            self.logger.record("intrinsic/reward_mean", self.model.replay_buffer.last_intrinsic_mean)

    def _on_training_start(self) -> None:
        total = int(self.locals.get("total_timesteps", 0))
        if self.learner is not None and self.learner.step == 0 and (self.train_freq <= 0 or total < self._next_round):
            why = "train_freq=0" if self.train_freq <= 0 else f"learning_starts={self.learning_starts}"
            warnings.warn(
                f"SpectralCallback: {total} env steps cannot reach the first spectral update ({why}): the "
                "eigenfunctions will stay untrained (raise the steps or lower learning_starts)",
                UntrainedSpectralWarning,
                stacklevel=2,
            )

    def _on_training_end(self) -> None:
        self._flush_bonus()  # steps of a rollout stopped early: the bonus's episodic state stays in step
        if self.stream is not None:
            self.stream.flush()
        if self.learner is not None and self.learner.step == 0:
            warnings.warn(
                f"SpectralCallback: the eigenfunctions were never trained (0 updates in {self.num_timesteps} env "
                f"steps; learning_starts={self.learning_starts}, train_freq={self.train_freq}): the policy / bonus "
                "read an untrained network",
                UntrainedSpectralWarning,
                stacklevel=2,
            )
