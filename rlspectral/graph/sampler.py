"""Pairs of a graph operator: uniform directed pairs of ``A + I`` (P and the lazy (I + P) / 2), or random walks of a
geometric number of steps from a degree-weighted start (the successor S_lambda); see :mod:`rlspectral.graph.data`."""

from __future__ import annotations

import numpy as np
import torch
from torch import Tensor

from rlspectral.errors import ConfigError
from rlspectral.graph.data import Graph
from rlspectral.operators import Operator, Successor, TimeLag

MAX_WALK = 1000  # successor walks are cut here (lambda^1000: nothing for any lambda < 0.99)


class EdgeSampler:
    """``sampler(B) -> (obs[x], obs[y])`` for B pairs of ``operator`` on ``graph``; ``obs`` [n, ...] holds each node's
    observation (its id for a table, its features for a network). x and y both follow rho = d / vol."""

    def __init__(self, graph: Graph, obs: Tensor, operator: Operator, seed: int = 0):
        if isinstance(operator, TimeLag):
            raise ConfigError.invalid("operator", operator.name, "a graph walk is reversible: use transition, lazy "
                                      "or successor[:lambda]")  # fmt: skip
        if obs.shape[0] != graph.n:
            raise ConfigError(f"obs has {obs.shape[0]} rows for a graph of {graph.n} nodes")
        self.graph, self.obs, self.operator = graph, obs, operator
        self.rng = np.random.default_rng(seed)
        A = graph.adjacency
        self._indptr, self._indices = A.indptr.astype(np.int64), A.indices.astype(np.int64)

    def node_pairs(self, batch_size: int) -> np.ndarray:
        """[B, 2] node ids of B independent pairs."""
        pairs = self.graph.pairs[self.rng.integers(0, len(self.graph.pairs), size=batch_size)]
        if not isinstance(self.operator, Successor):
            return pairs
        steps = np.minimum(self.rng.geometric(1.0 - self.operator.lam, size=batch_size), MAX_WALK) - 1
        cur = pairs[:, 1].copy()  # the first step is the drawn edge
        for t in range(int(steps.max()) if batch_size else 0):
            walking = np.flatnonzero(steps > t)
            nodes = cur[walking]
            deg = self._indptr[nodes + 1] - self._indptr[nodes]
            cur[walking] = self._indices[self._indptr[nodes] + (self.rng.random(len(nodes)) * deg).astype(np.int64)]
        return np.stack([pairs[:, 0], cur], axis=1)

    def __call__(self, batch_size: int) -> tuple[Tensor, Tensor]:
        p = torch.from_numpy(self.node_pairs(batch_size))
        return self.obs[p[:, 0]], self.obs[p[:, 1]]
