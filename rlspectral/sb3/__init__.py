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
from rlspectral.sb3.rllte_peers import PEERS, E3BPeer, RE3Peer, RlltePeer, RNDPeer
from rlspectral.sb3.rnd import RNDBonus
from rlspectral.sb3.rollout import BonusRolloutBuffer
from rlspectral.sb3.rollout_bonus import RolloutIntrinsicReward, RolloutSamples
from rlspectral.sb3.spaces import ObservationSpaceError, spectral_obs_shape
from rlspectral.sb3.zoo import zoo_hyperparams

# registered here: rnd.py, counts.py and rllte_peers.py build on bonus.py, so bonus.py cannot import them
BONUSES[RNDBonus.name] = RNDBonus
BONUSES[EpisodicCountBonus.name] = EpisodicCountBonus
BONUSES.update(PEERS)  # e3b, re3, rnd-rllte: RLeXplore's modules (rllte-core is imported only when one is built)

__all__ = [
    "BONUSES",
    "EllipticalBonus",
    "BonusReplayBuffer",
    "BonusRolloutBuffer",
    "EigenFeatures",
    "E3BPeer",
    "EigenpurposeBonus",
    "EpisodeStream",
    "EpisodicCountBonus",
    "GoalBonus",
    "IntrinsicReward",
    "NoveltyBonus",
    "ObservationSpaceError",
    "PEERS",
    "RE3Peer",
    "RNDBonus",
    "RNDPeer",
    "RlltePeer",
    "RolloutIntrinsicReward",
    "RolloutSamples",
    "SpectralCallback",
    "SpectralFeaturesExtractor",
    "UntrainedSpectralWarning",
    "learner_config_for",
    "make_bonus",
    "spectral_obs_shape",
    "spectral_policy_kwargs",
    "zoo_hyperparams",
]
