"""Koopman / transfer operators and diffusion generators of stochastic dynamics (docs/design.md: time-lag operators).

Time-lag pairs (x_t, x_{t+tau}) of a stationary process define the transfer operator T_tau; its singular functions
are learned by NestedLoRA SVD (two networks), its eigenfunctions by NestedLoRA EVD when the process is reversible.

* :mod:`~rlspectral.koopman.estimators`: covariances, Koopman / generator matrices on learned features (whitening +
  a small dense eigenproblem; the truncated SVD of two networks for non-reversible dynamics), VAMP-2 / VAMP-E,
  implied timescales; :class:`KoopmanModel`.
* :mod:`~rlspectral.koopman.generator`: the generator of a reversible diffusion from stationary samples alone
  (Dirichlet-form moments, :class:`GeneratorLearner`).
* :mod:`~rlspectral.koopman.config` / :mod:`~rlspectral.koopman.fit`: :class:`TrajFitConfig` and
  :func:`fit_trajectories` (every method on the same data, network and budget), ending in a :class:`TrajFit`.
* :mod:`~rlspectral.koopman.model`: :class:`KoopmanFitModel`, the saved artifact (``TrajFit.fetch_model()``,
  ``rlspectral fit-traj``'s ``model.pt``), read back by :func:`load`.
* :mod:`~rlspectral.koopman.validation`: :class:`BestOnHeldOut`, early stopping on held-out VAMP-E
  (``TrajFitConfig.validate_every``).
"""

from rlspectral.koopman.config import ESTIMATORS, TRAJ_METHODS, TrajFitConfig
from rlspectral.koopman.estimators import (
    KoopmanModel,
    covariances,
    generator_model,
    implied_timescales,
    koopman_model,
    select_rank,
    singular_values,
    svd_koopman_from_moments,
    svd_koopman_model,
    vamp2_score,
    vamp_e_score,
    whitened_cross,
    whitening,
)
from rlspectral.koopman.fit import StateSampler, TrajFit, as_trajectories, fit_trajectories, lagged_pairs
from rlspectral.koopman.generator import GeneratorLearner, dirichlet_moments, input_jacobian
from rlspectral.koopman.model import KoopmanFitModel, load
from rlspectral.koopman.validation import BestOnHeldOut

__all__ = [
    "ESTIMATORS",
    "TRAJ_METHODS",
    "BestOnHeldOut",
    "GeneratorLearner",
    "KoopmanFitModel",
    "KoopmanModel",
    "StateSampler",
    "TrajFit",
    "TrajFitConfig",
    "as_trajectories",
    "covariances",
    "dirichlet_moments",
    "fit_trajectories",
    "generator_model",
    "implied_timescales",
    "input_jacobian",
    "koopman_model",
    "lagged_pairs",
    "load",
    "singular_values",
    "select_rank",
    "svd_koopman_from_moments",
    "svd_koopman_model",
    "vamp2_score",
    "vamp_e_score",
    "whitened_cross",
    "whitening",
]
