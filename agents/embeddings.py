"""Fixed state embeddings for gridworld baselines: the raw observation, or exact eigenvectors looked up per cell.

They stand in for the learned eigenfunctions wherever an embedding is taken (e.g. ``GoalBonus(embedding=...)``),
so a learned-vs-exact or learned-vs-xy comparison changes only the embedding.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import Tensor, nn

from rlspectral.envs.gridworld import load_grid
from rlspectral.envs.spectra import transition_eigenpairs
from rlspectral.errors import ConfigError, SpectralError


class ObservationEmbedding(nn.Module):
    """e(x) = x, flattened: distances in raw observation space (e.g. Euclidean distance in xy)."""

    def forward(self, x: Tensor) -> Tensor:
        return torch.as_tensor(x, dtype=torch.float32).flatten(1)


class CellTableEmbedding(nn.Module):
    """e(x) = table[cell(x)]: each observation is matched to the nearest free-cell observation of the layout."""

    def __init__(self, cell_observations: np.ndarray, table: np.ndarray):
        super().__init__()
        if len(cell_observations) != len(table):
            raise ConfigError(f"{len(cell_observations)} cell observations but {len(table)} table rows")
        self.register_buffer("keys", torch.as_tensor(cell_observations, dtype=torch.float32).flatten(1))
        self.register_buffer("table", torch.as_tensor(table, dtype=torch.float32))

    def cells(self, x: Tensor) -> Tensor:
        x = torch.as_tensor(x, dtype=torch.float32).flatten(1).to(self.keys.device)
        return torch.cdist(x, self.keys).argmin(1)

    def forward(self, x: Tensor) -> Tensor:
        return self.table[self.cells(x)]


def cell_embedding(layout: str, obs: str, table: np.ndarray) -> CellTableEmbedding:
    """``table`` (one row per free cell, row-major order) as a function of the observation type ``obs``."""
    return CellTableEmbedding(load_grid(layout).observations(obs), table)


def xy_embedding(layout: str, obs: str) -> CellTableEmbedding:
    """The cell centre (x, y) in [-1, 1]^2 as a function of any observation type."""
    return cell_embedding(layout, obs, load_grid(layout).observations("xy"))


def learned_embedding(layout: str, obs: str, checkpoint: str) -> CellTableEmbedding:
    """The eigenfunctions of a checkpoint (sorted, normalized, as learned) evaluated on every cell's observation
    of the type the checkpoint was trained on (from its ``obs_shape``), as a function of ``obs``."""
    from rlspectral.learner import SpectralLearner

    grid = load_grid(layout)
    learner = SpectralLearner.load(checkpoint)
    shape = tuple(learner.config.obs_shape)
    trained_on = next((o for o in ("xy", "onehot", "pixels") if grid.observations(o).shape[1:] == shape), None)
    if trained_on is None:
        raise SpectralError(
            f"{checkpoint}: trained on observations of shape {shape}, which no observation type of {layout} has "
            "(xy, onehot, pixels): use a checkpoint fitted on this layout"
        )
    _, phi = learner.eigenfunctions(torch.from_numpy(grid.observations(trained_on)).float())
    return cell_embedding(layout, obs, phi.numpy())


def exact_eigenvector_embedding(layout: str, obs: str = "xy", k: int = 20) -> CellTableEmbedding:
    """The top-``k`` eigenvectors of the layout's uniform-policy P, scaled to unit mean square over cells (the
    normalization of the learned eigenfunctions), as a function of the observation ``obs``."""
    grid = load_grid(layout)
    _, vecs = transition_eigenpairs(grid, k)
    return cell_embedding(layout, obs, vecs * np.sqrt(grid.n))
