"""Environments with exact references: text-layout gridworlds (registered as ``rlspectral/<Name>-v0`` and
``rlspectral/<Name>-Goal-v0`` by ``import rlspectral``: :mod:`rlspectral.registration`)."""

from rlspectral.envs.gridworld import Grid, GridWorldEnv, builtin_layouts, goal_gridworld, load_grid
from rlspectral.envs.spectra import successor_eigenvalues, transition_eigenpairs

__all__ = [
    "Grid",
    "GridWorldEnv",
    "builtin_layouts",
    "goal_gridworld",
    "load_grid",
    "successor_eigenvalues",
    "transition_eigenpairs",
]
