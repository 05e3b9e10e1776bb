"""PDE eigenproblems (docs/design.md, "Differential operators"): Schrodinger operators ``H = -kappa Delta + V`` with
closed-form spectra, learned by the same objectives and learner as every other operator.

* :mod:`~rlspectral.pde.systems`: hydrogen-like and harmonic-oscillator systems, exact energies and eigenfunctions.
* :mod:`~rlspectral.pde.proposals`: sampling laws q for importance-weighted moments.
* :mod:`~rlspectral.pde.network`: the envelope network with forward-mode input gradients.
* :mod:`~rlspectral.pde.learner`: :class:`PDELearner`, moments of ``(c - H) / s`` from first derivatives.
* :mod:`~rlspectral.pde.quadrature` / :mod:`~rlspectral.pde.evaluation`: scores against the closed forms.
* :mod:`~rlspectral.pde.fit` / :mod:`~rlspectral.pde.model`: :func:`fit_pde` and the saved :class:`PDEModel`.
"""

from rlspectral.pde.fit import PDE_METHODS, PDEFitConfig, build_proposal, fit_pde, make_learner
from rlspectral.pde.learner import ROUTES, PDELearner, ProposalSampler
from rlspectral.pde.model import PDEModel, load
from rlspectral.pde.network import PDENetwork, PDENetworkConfig
from rlspectral.pde.proposals import GaussianProposal, RadialProposal
from rlspectral.pde.systems import System

__all__ = [
    "GaussianProposal",
    "PDEFitConfig",
    "PDELearner",
    "PDEModel",
    "PDENetwork",
    "PDENetworkConfig",
    "PDE_METHODS",
    "ProposalSampler",
    "ROUTES",
    "RadialProposal",
    "System",
    "build_proposal",
    "fit_pde",
    "load",
    "make_learner",
]
