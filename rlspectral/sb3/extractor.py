"""SB3 features extractor: learned eigenfunctions, optionally next to the flattened raw observation.

Usage (``spectral_policy_kwargs`` writes the network config into the kwargs, so a saved SB3 model reloads
without the checkpoint file and without the callback: the weights travel in the policy's ``state_dict``)::

    model = PPO("MlpPolicy", env, policy_kwargs=spectral_policy_kwargs(checkpoint="fit/model.pt"))
    model = DQN("MlpPolicy", env, policy_kwargs=spectral_policy_kwargs(learner={"k": 8, "hidden": []}))

Sources: ``checkpoint`` (a :meth:`SpectralLearner.save` file) or online (no checkpoint: weights arrive from a
:class:`~rlspectral.sb3.SpectralCallback`). Modes: ``frozen`` (the RL loss never changes the eigenfunctions)
or ``finetune`` (the RL optimizer trains them too; the callback then only initializes them, once).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np
import torch
from stable_baselines3.common.torch_layers import BaseFeaturesExtractor
from torch import Tensor

from rlspectral.errors import CheckpointError, ConfigError
from rlspectral.learner import LearnerConfig, SpectralLearner, read_checkpoint
from rlspectral.sb3.eigen_features import EigenFeatures
from rlspectral.sb3.spaces import spectral_obs_shape

MODES = ("frozen", "finetune")


def learner_config_for(space: gym.Space, learner: dict[str, Any] | LearnerConfig | None) -> LearnerConfig:
    """A full :class:`LearnerConfig` from a (partial) dict of its fields; ``obs_shape`` comes from ``space``.
    ``scale_inputs: True`` fills ``input_low`` / ``input_high`` from the space's (finite) bounds."""
    shape = spectral_obs_shape(space)
    d = learner.to_dict() if isinstance(learner, LearnerConfig) else dict(learner or {})
    if "k" not in d:
        raise ConfigError("the spectral learner config needs k (number of eigenfunctions), e.g. {'k': 8}")
    if "obs_shape" in d and tuple(d["obs_shape"]) != shape:
        raise ConfigError(f"learner config has obs_shape {tuple(d['obs_shape'])}, the env observes {shape}")
    d["obs_shape"] = shape
    if d.pop("scale_inputs", False):
        d["input_low"], d["input_high"] = _box_bounds(space, d.get("inputs", ()))
    try:
        return LearnerConfig.from_dict(d)
    except TypeError as e:
        raise ConfigError(f"invalid spectral learner config: {e}") from None


def _box_bounds(space: gym.Space, inputs: Sequence[int]) -> tuple[list[float], list[float]]:
    """The flattened bounds of the entries ``inputs`` (all if empty) of a Box; a one-line error if infinite."""
    low, high = np.asarray(space.low, dtype=np.float64).ravel(), np.asarray(space.high, dtype=np.float64).ravel()
    idx = list(inputs) or list(range(low.size))
    low, high = low[idx], high[idx]
    if not (np.isfinite(low).all() and np.isfinite(high).all()):
        raise ConfigError(
            f"scale_inputs needs finite observation bounds, the space has low={low.tolist()} high={high.tolist()}: "
            "give input_low / input_high explicitly or normalize observations (VecNormalize)"
        )
    return low.tolist(), high.tolist()


class SpectralFeaturesExtractor(BaseFeaturesExtractor):
    """Features ``[phi_1(x) .. phi_k(x)]`` (normalized, eigenvalues descending), ``+ flatten(x)`` if ``concat``.

    :param learner: :class:`LearnerConfig` fields as a plain dict (``obs_shape`` may be left out); needed
        without a checkpoint, and what lets a saved model rebuild the network when the checkpoint is gone.
    :param checkpoint: path of a :meth:`SpectralLearner.save` checkpoint to load the eigenfunctions from.
    :param mode: ``frozen`` or ``finetune``.
    :param concat: also pass the flattened observation (SB3's ``FlattenExtractor``) to the policy.
    """

    def __init__(
        self,
        observation_space: gym.Space,
        learner: dict[str, Any] | None = None,
        checkpoint: str | None = None,
        mode: str = "frozen",
        concat: bool = False,
    ):
        if mode not in MODES:
            raise ConfigError(f"unknown spectral features mode {mode!r}; choose frozen or finetune")
        if learner is None and checkpoint is None:
            raise ConfigError("SpectralFeaturesExtractor needs a checkpoint path or a learner config dict (with k)")
        shape = spectral_obs_shape(observation_space)
        on_disk = checkpoint is not None and Path(checkpoint).is_file()
        if checkpoint is not None and not on_disk and learner is None:
            raise CheckpointError(
                f"{checkpoint}: checkpoint file not found (a model saved with checkpoint= alone needs it: "
                "build policy_kwargs with spectral_policy_kwargs(), which also stores the network config)"
            )
        pretrained = SpectralLearner.load(checkpoint, expect_obs_shape=shape) if on_disk else None
        config = pretrained.config if pretrained is not None else learner_config_for(observation_space, learner)
        if pretrained is not None and learner is not None:
            given = learner_config_for(observation_space, learner).network_config()
            if given != config.network_config():
                raise CheckpointError(f"{checkpoint}: the checkpoint's network differs from the learner config given")
        k = config.k
        super().__init__(observation_space, k + (math.prod(shape) if concat else 0))
        self.mode, self.concat, self.checkpoint = mode, concat, checkpoint
        self.eigen = EigenFeatures(config, trainable=mode == "finetune")
        if pretrained is not None:
            self.eigen.load_learner(pretrained)
        # Built from a config for a missing checkpoint: only a state_dict (SB3 model load) can supply the weights.
        self._needs_weights = checkpoint is not None and pretrained is None

    @property
    def learner_config(self) -> LearnerConfig:
        return self.eigen.config

    def forward(self, observations: Tensor) -> Tensor:
        if self._needs_weights and not self.eigen.is_loaded:
            raise CheckpointError(f"{self.checkpoint}: checkpoint file not found and no saved weights were loaded")
        if self.mode == "frozen":
            with torch.no_grad():
                phi = self.eigen(observations)
        else:
            phi = self.eigen(observations)
        if not self.concat:
            return phi
        return torch.cat([phi, observations.flatten(1).float()], dim=1)


def spectral_policy_kwargs(
    checkpoint: str | Path | None = None,
    learner: dict[str, Any] | LearnerConfig | None = None,
    mode: str = "frozen",
    concat: bool = False,
    **policy_kwargs: Any,
) -> dict[str, Any]:
    """``policy_kwargs`` for any SB3 algorithm: the extractor class and small, picklable kwargs (the checkpoint's
    learner config is copied in as a plain dict, so the saved model never needs the checkpoint file again)."""
    if checkpoint is not None:
        state = read_checkpoint(checkpoint)
        learner = dict(state["config"])
    elif isinstance(learner, LearnerConfig):
        learner = learner.to_dict()
    if learner is None:
        raise ConfigError("spectral_policy_kwargs needs a checkpoint path or a learner config (dict with k)")
    kwargs = {"learner": dict(learner), "checkpoint": str(checkpoint) if checkpoint else None, "mode": mode}
    kwargs["concat"] = concat
    return {"features_extractor_class": SpectralFeaturesExtractor, "features_extractor_kwargs": kwargs, **policy_kwargs}
