"""Environments with exact references: text-layout gridworlds (registered as ``rlspectral/<Name>-v0``)."""

from rlspectral.envs.gridworld import Grid, GridWorldEnv, builtin_layouts, load_grid, register_layouts
from rlspectral.envs.spectra import successor_eigenvalues, transition_eigenpairs

register_layouts()

__all__ = [
    "Grid",
    "GridWorldEnv",
    "builtin_layouts",
    "load_grid",
    "register_layouts",
    "successor_eigenvalues",
    "transition_eigenpairs",
]
