"""rlspectral: learn Laplacian / successor / Koopman eigenfunctions with nested spectral objectives."""

from rlspectral.buffer import EpisodicBuffer, PairSampler
from rlspectral.errors import (
    CheckpointError,
    ConfigError,
    DataError,
    DivergenceError,
    LayoutError,
    MissingDependencyError,
    SpectralError,
)
from rlspectral.learner import LearnerConfig, SpectralLearner
from rlspectral.metrics import cosine_similarity, eigenvalue_error
from rlspectral.moments import Moments, estimate_moments, exact_moments, rayleigh_ritz
from rlspectral.objectives import METHODS, make_objective
from rlspectral.operators import Operator, lazy_transition, make_operator, successor, time_lag, transition
from rlspectral.registration import register_envs

__version__ = "0.1.0"

register_envs()  # the rlspectral/* gym ids (string entry points: no env module is imported here)

__all__ = [
    "CheckpointError",
    "ConfigError",
    "DataError",
    "DivergenceError",
    "EpisodicBuffer",
    "LayoutError",
    "LearnerConfig",
    "METHODS",
    "MissingDependencyError",
    "Moments",
    "Operator",
    "PairSampler",
    "SpectralError",
    "SpectralLearner",
    "cosine_similarity",
    "eigenvalue_error",
    "estimate_moments",
    "exact_moments",
    "lazy_transition",
    "make_objective",
    "make_operator",
    "rayleigh_ritz",
    "successor",
    "time_lag",
    "transition",
]
