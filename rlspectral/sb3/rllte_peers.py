"""Exploration peers from the reference implementation: RLeXplore's reward modules (``rllte-core``) as bonuses.

``e3b`` (Henaff et al., 2022, "Exploration via Elliptical Episodic Bonuses"), ``re3`` (Seo et al., 2021, "State
Entropy Maximization with Random Encoders for Efficient Exploration") and ``rnd-rllte`` (Burda et al., 2018, RND;
our own re-implementation stays ``rnd``, :mod:`rlspectral.sb3.rnd`) run the modules of ``rllte.xplore.reward``
(RLeXplore, Yuan et al., 2024, arXiv 2405.19548) unchanged, as :class:`RolloutIntrinsicReward` bonuses: at the end
of every rollout the module ``watch``-es each step, then ``compute``-s the rewards of the whole rollout
``[T, n_envs]`` (which also trains its networks: ``compute(samples, sync=True)`` calls ``update``) and the
:class:`~rlspectral.sb3.BonusRolloutBuffer` adds them to the rewards before returns and GAE.

What is the reference and what is ours:

* the reward, its networks, optimizers and defaults are rllte-core 1.0.1's; ``coef`` is rllte's ``beta`` (the
  weight ``beta * (1 - kappa)^rollouts``), ``normalize=True`` selects rllte's own normalization of the reward
  (``rwd_norm_type="rms"``: divided by the running std of all intrinsic rewards so far), and our running-std rule
  of :class:`IntrinsicReward` is *not* applied on top;
* observations are what the policy sees (standardized by VecNormalize in the MiniGrid recipe); rllte's own
  observation normalization keeps each module's default (``obs_norm_type``: "none" for E3B, "rms" for RE3 and
  RND), except that rllte initializes the "rms" statistics by stepping the envs with 2560 random actions at
  construction, which the adapter skips: the first rollout's observations initialize them instead, before the
  module sees that rollout;
* episode flags follow gymnasium: ``terminateds[t]`` / ``truncateds[t]`` mark the transition that ended an episode,
  so E3B resets an env's covariance right after its last step and scores the next episode's first observation
  with a fresh one (RLeXplore's SB3 and CleanRL examples pass the *previous* step's done flags and add the bonus to
  advantages and returns after GAE; here it enters the rewards before GAE);
* randomness: rllte builds its networks with ``nn.init`` on torch's global generator and draws from it while
  training (``DataLoader(shuffle=True)``, ``torch.rand`` masks). Every call into rllte runs inside the bonus's own
  :class:`~rlspectral.seeding.RNGStream` (seeded by ``seed``), so the same seed gives the same networks and
  rewards, and the caller's generator (the agent's) is left exactly as it was.

``rllte-core`` pins an old matplotlib and is not a dependency of rlspectral: ``scripts/setup_peers.sh`` builds a
separate environment ``.venv-peers`` (a copy of ``.venv`` plus rllte-core without its pinned dependencies and the
two small packages its reward modules import, termcolor and pynvml).
"""

from __future__ import annotations

import importlib
import inspect
from types import SimpleNamespace
from typing import Any

import numpy as np
import torch

from rlspectral.errors import MissingDependencyError
from rlspectral.sb3.rollout_bonus import RolloutIntrinsicReward, RolloutSamples
from rlspectral.seeding import RNGStream

RLLTE_VERSION = "1.0.1"
INSTALL = (
    f"the {{name}} bonus needs rllte-core {RLLTE_VERSION} (RLeXplore), kept out of the main environment: run "
    "scripts/setup_peers.sh and use .venv-peers/bin/python"
)


def rllte_reward_class(class_name: str, bonus: str) -> type:
    """``rllte.xplore.reward.<class_name>``, or a one-line :class:`MissingDependencyError` saying how to install it."""
    try:
        module = importlib.import_module("rllte.xplore.reward")
    except ImportError as e:
        raise MissingDependencyError(INSTALL.format(name=bonus) + f" ({e})") from None
    return getattr(module, class_name)


def _without_env_warmup(cls: type) -> type:
    """``cls`` whose observation statistics start from the first rollout instead of random steps in the envs."""

    def init_normalization(self: Any) -> None:  # rllte steps self.envs with random actions here; there are none
        return None

    return type(cls.__name__, (cls,), {"init_normalization": init_normalization, "__module__": cls.__module__})


class RlltePeer(RolloutIntrinsicReward):
    """An ``rllte.xplore.reward`` module (``module_class``) as a rollout-level bonus; see the module docstring.

    :param coef: rllte's ``beta`` (the published setting of every peer here is 1.0: ``MINIGRID_BONUS_COEF``).
    :param normalize: rllte's own running-std normalization of the reward (``rwd_norm_type="rms"``), else "none".
    :param kappa: rllte's decay of the weight per rollout (0: constant).
    :param obs_norm: rllte's ``obs_norm_type`` ("rms" | "none"); None keeps the module's default.
    :param seed: seeds the module's private random stream (networks, minibatch shuffles, masks).
    :param device: where the module runs; None: the agent's device.
    :param module_kwargs: the module's own arguments (``latent_dim``, ``lr``, ``batch_size``, ``k``, ``ridge``, ...).
    """

    name = "rllte"
    module_class = ""

    def __init__(
        self,
        coef: float = 1.0,
        normalize: bool = True,
        kappa: float = 0.0,
        obs_norm: str | None = None,
        seed: int = 0,
        device: str | torch.device | None = None,
        **module_kwargs: Any,
    ):
        super().__init__(coef, normalize=False)  # rllte normalizes (or not) by itself
        self.rllte_normalize, self.kappa, self.obs_norm = bool(normalize), float(kappa), obs_norm
        self.seed, self.device = int(seed), None if device is None else torch.device(device)
        self.module_kwargs = module_kwargs
        self.module: Any = None
        self._warmup = True  # the first rollout initializes rllte's observation statistics (obs_norm_type "rms")
        self.rng = RNGStream(self.seed)
        self._cls = rllte_reward_class(self.module_class, self.name)  # fail at construction, not after a rollout

    def setup(self, observation_space: Any, action_space: Any, n_envs: int, device: torch.device | str) -> None:
        """Build the rllte module for the agent's spaces (only the first time: the module persists across learn())."""
        if self.module is not None:
            return
        self.device = torch.device(self.device if self.device is not None else device)
        if self.device.type == "cuda":
            self.rng = RNGStream(self.seed, cuda=self.device.index or 0)
        envs = SimpleNamespace(
            observation_space=observation_space, action_space=action_space, unwrapped=SimpleNamespace(num_envs=n_envs)
        )  # what rllte's BaseReward reads from its envs argument
        kwargs: dict[str, Any] = {
            "device": str(self.device),
            "beta": self.coef,
            "kappa": self.kappa,
            "rwd_norm_type": "rms" if self.rllte_normalize else "none",
            **({"obs_norm_type": self.obs_norm} if self.obs_norm is not None else {}),
            **self.module_kwargs,
        }
        obs_norm = kwargs.get("obs_norm_type", inspect.signature(self._cls).parameters["obs_norm_type"].default)
        cls = _without_env_warmup(self._cls) if obs_norm == "rms" else self._cls
        with self.rng.active():
            self.module = cls(envs, **kwargs)

    @property
    def ready(self) -> bool:
        return self.module is not None

    def rollout_rewards(self, samples: RolloutSamples) -> np.ndarray:
        """rllte's ``watch`` on every step, then ``compute(samples, sync=True)`` (rewards and the module's update)."""
        if self.module is None:
            raise RuntimeError(f"{type(self).__name__}.setup must run before the first rollout (the callback does it)")
        data = {key: value.to(self.device) for key, value in samples.as_dict().items()}
        if self._warmup and getattr(self.module, "obs_norm", None) is not None:  # in place of rllte's random steps
            self.module.obs_norm.update(samples.observations.flatten(0, 1))
        self._warmup = False
        with self.rng.active():
            for t in range(len(samples.observations)):
                self.module.watch(*(data[key][t] for key in RolloutSamples._fields))
            rewards = self.module.compute(data, sync=True)
        return rewards.detach().float().cpu().numpy()


class E3BPeer(RlltePeer):
    """E3B, elliptical episodic bonus b = phi(s)^T C^{-1} phi(s) with phi an inverse-dynamics encoder (rllte's E3B)."""

    name = "e3b"
    module_class = "E3B"


class RE3Peer(RlltePeer):
    """RE3, r = log(1 + ||y - y_k-NN||) in a fixed random encoder's space (rllte's RE3)."""

    name = "re3"
    module_class = "RE3"


class RNDPeer(RlltePeer):
    """RND, the predictor's error on a fixed random target network (rllte's RND)."""

    name = "rnd-rllte"
    module_class = "RND"


PEERS: dict[str, type[RlltePeer]] = {cls.name: cls for cls in (E3BPeer, RE3Peer, RNDPeer)}
