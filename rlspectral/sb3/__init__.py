"""Stable-Baselines3 plugin: spectral features extractor, online spectral learning, intrinsic rewards.

The only part of rlspectral that imports stable-baselines3.
"""

from rlspectral.sb3.bonus import (
    BONUSES,
    EigenpurposeBonus,
    EllipticalBonus,
    GoalBonus,
    IntrinsicReward,
    NoveltyBonus,
    make_bonus,
)
from rlspectral.sb3.callback import SpectralCallback, UntrainedSpectralWarning
from rlspectral.sb3.counts import EpisodicCountBonus
from rlspectral.sb3.eigen_features import EigenFeatures
from rlspectral.sb3.episodes import EpisodeStream
from rlspectral.sb3.extractor import SpectralFeaturesExtractor, learner_config_for, spectral_policy_kwargs
from rlspectral.sb3.replay import BonusReplayBuffer
from rlspectral.sb3.rnd import RNDBonus
from rlspectral.sb3.rollout import BonusRolloutBuffer
from rlspectral.sb3.spaces import ObservationSpaceError, spectral_obs_shape
from rlspectral.sb3.zoo import zoo_hyperparams

# registered here: rnd.py and counts.py build on bonus.py, so bonus.py cannot import them
BONUSES[RNDBonus.name] = RNDBonus
BONUSES[EpisodicCountBonus.name] = EpisodicCountBonus

__all__ = [
    "BONUSES",
    "EllipticalBonus",
    "BonusReplayBuffer",
    "BonusRolloutBuffer",
    "EigenFeatures",
    "EigenpurposeBonus",
    "EpisodeStream",
    "EpisodicCountBonus",
    "GoalBonus",
    "IntrinsicReward",
    "NoveltyBonus",
    "ObservationSpaceError",
    "RNDBonus",
    "SpectralCallback",
    "SpectralFeaturesExtractor",
    "UntrainedSpectralWarning",
    "learner_config_for",
    "make_bonus",
    "spectral_obs_shape",
    "spectral_policy_kwargs",
    "zoo_hyperparams",
]
