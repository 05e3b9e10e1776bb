"""Random Network Distillation (Burda, Edwards, Storkey, Klimov, 2018, "Exploration by Random Network Distillation").

A fixed, randomly initialized target network g and a trained predictor network h read the same normalized
observation z = clip((s' - mu) / sigma, -5, 5) (running mean / std of the visited observations); the intrinsic
reward of a transition s -> s' is the predictor's error ||h(z) - g(z)||^2 / d_out. Observations seen often are
predicted well, novel ones are not. Needs no eigenfunctions (``needs_features = False``), so it runs with or
without spectral learning.

What follows the paper and what does not:

* the predictor is trained on the visited observations, handed over by the :class:`SpectralCallback` through
  :meth:`observe` (every env step, each new observation once); each one is kept with probability
  ``update_proportion`` and one Adam step is taken per ``batch_size`` kept observations. The paper keeps 25 % of
  128 envs' experience to hold the effective batch at 32 envs' worth; with the <= 32 envs of our recipes the
  default keeps everything (1.0).
* normalization: the paper divides the intrinsic reward by a running std of the *discounted intrinsic returns*
  and trains a separate intrinsic value head on non-episodic returns. Here the reward goes through the shared
  :class:`IntrinsicReward` rule, ``coef * r / std(r)`` with a running std of the per-step reward, and is added to
  the extrinsic reward (one value head, episodic returns), like every other bonus of this package.
* MLPs on flattened observations (ReLU, orthogonal init with gain sqrt(2)) instead of the paper's CNNs; the
  predictor has one more hidden layer than the target, as in the paper.
* observations are those the policy sees; under ``VecNormalize`` they are already standardized and the running
  normalization here is close to the identity (kept: it is part of the method and costs nothing).
* the reward is 0 until ``warmup`` observations have been seen: the paper first runs a random agent to initialize
  the observation statistics; here the early steps fill them.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import torch
from stable_baselines3.common.running_mean_std import RunningMeanStd
from torch import Tensor, nn

from rlspectral.errors import ConfigError
from rlspectral.sb3.bonus import IntrinsicReward


def _mlp(sizes: Sequence[int], generator: torch.Generator) -> nn.Sequential:
    layers: list[nn.Module] = []
    for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:])):
        lin = nn.Linear(a, b)
        with torch.no_grad():
            w = torch.empty(b, a)
            nn.init.orthogonal_(w, gain=float(np.sqrt(2)), generator=generator)
            lin.weight.copy_(w)
            lin.bias.zero_()
        layers.append(lin)
        if i < len(sizes) - 2:
            layers.append(nn.ReLU())
    return nn.Sequential(*layers)


class RNDBonus(IntrinsicReward):
    """r = mean_j (h(z')_j - g(z')_j)^2 with z' the normalized next observation (see the module docstring).

    :param hidden: hidden layer widths of the target (the predictor adds one more layer of the last width).
    :param out_dim: embedding size of both networks.
    :param lr: predictor learning rate (Adam).
    :param batch_size: kept observations per predictor step.
    :param update_proportion: probability that an observation is used to train the predictor.
    :param obs_clip: normalized observations are clipped to ``[-obs_clip, obs_clip]``.
    :param warmup: observations to see before the reward turns on (it is 0 before).
    :param seed: seeds the two networks and the sampling of ``update_proportion``.
    """

    name = "rnd"
    needs_features = False

    def __init__(
        self,
        coef: float = 0.1,
        normalize: bool = True,
        hidden: Sequence[int] = (256, 256),
        out_dim: int = 64,
        lr: float = 5e-4,
        batch_size: int = 128,
        update_proportion: float = 1.0,
        obs_clip: float = 5.0,
        warmup: int = 256,
        seed: int = 0,
        device: str | torch.device = "cpu",
    ):
        super().__init__(coef, normalize)
        if not 0.0 < update_proportion <= 1.0:
            raise ConfigError(f"update_proportion must be in (0, 1], got {update_proportion}")
        self.hidden, self.out_dim = tuple(int(h) for h in hidden), int(out_dim)
        self.lr, self.batch_size, self.update_proportion = float(lr), int(batch_size), float(update_proportion)
        self.obs_clip, self.warmup, self.seed = float(obs_clip), int(warmup), int(seed)
        self.device = torch.device(device)
        self.target: nn.Module | None = None
        self.predictor: nn.Module | None = None
        self.optimizer: torch.optim.Optimizer | None = None
        self.obs_rms: RunningMeanStd | None = None
        self.seen = self.updates = 0
        self.last_loss = float("nan")
        self._pending: list[Tensor] = []
        self._generator = torch.Generator().manual_seed(self.seed)

    # ----------------------------------------------------------------- networks, built at the first observation
    def _build(self, dim: int) -> None:
        gen = torch.Generator().manual_seed(self.seed)
        self.target = _mlp([dim, *self.hidden, self.out_dim], gen).to(self.device).requires_grad_(False)
        last = self.hidden[-1] if self.hidden else dim
        self.predictor = _mlp([dim, *self.hidden, last, self.out_dim], gen).to(self.device)
        self.optimizer = torch.optim.Adam(self.predictor.parameters(), lr=self.lr)
        self.obs_rms = RunningMeanStd(shape=(dim,))

    @property
    def ready(self) -> bool:
        return self.predictor is not None and self.seen >= self.warmup

    def _normalized(self, x: Tensor) -> Tensor:
        mean = torch.as_tensor(self.obs_rms.mean, dtype=torch.float32, device=self.device)
        std = torch.as_tensor(np.sqrt(self.obs_rms.var + 1e-8), dtype=torch.float32, device=self.device)
        return ((x.to(self.device).flatten(1).float() - mean) / std).clamp(-self.obs_clip, self.obs_clip)

    def _error(self, x: Tensor) -> Tensor:
        z = self._normalized(x)
        return (self.predictor(z) - self.target(z)).pow(2).mean(1)

    # ----------------------------------------------------------------- the bonus
    def reward(self, obs: Tensor, next_obs: Tensor) -> Tensor:
        """Predictor error on ``next_obs`` ``[n]`` (0 before ``warmup`` observations)."""
        if not self.ready:
            return torch.zeros(len(next_obs))
        with torch.no_grad():
            return self._error(next_obs).float().cpu()

    def observe(self, next_obs: Tensor) -> None:
        """Update the observation statistics and train the predictor on the new observations ``[n, ...]``."""
        x = torch.as_tensor(next_obs).flatten(1).float().cpu()
        if self.predictor is None:
            self._build(x.shape[1])
        self.obs_rms.update(x.double().numpy())
        self.seen += len(x)
        if self.update_proportion < 1.0:
            x = x[torch.rand(len(x), generator=self._generator) < self.update_proportion]
        self._pending.append(x)
        if sum(len(p) for p in self._pending) >= self.batch_size:
            batch, self._pending = torch.cat(self._pending), []
            for start in range(0, len(batch) - self.batch_size + 1, self.batch_size):
                self._train(batch[start : start + self.batch_size])
            rest = len(batch) % self.batch_size
            if rest:
                self._pending.append(batch[-rest:])

    def _train(self, x: Tensor) -> None:
        with torch.enable_grad():
            loss = self._error(x).mean()
            self.optimizer.zero_grad(set_to_none=True)
            loss.backward()
            self.optimizer.step()
        self.updates += 1
        self.last_loss = float(loss.detach())

    def __getstate__(self) -> dict[str, Any]:
        return {**super().__getstate__(), "_generator": None}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._generator = torch.Generator().manual_seed(self.seed + self.updates)
