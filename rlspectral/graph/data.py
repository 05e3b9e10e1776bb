"""An undirected graph with self-loops, its random walk and feature propagation (docs/design.md, "Graph operators").

The operator is the random walk ``P = D^-1 (A + I)`` with D the degrees of ``A + I``. It is self-adjoint in
L2(rho) with ``rho = d / vol`` (vol = sum of degrees), which is the law of either end of a uniformly drawn directed
pair of ``A + I``: those pairs are the operator's pairs. Its eigenvalues are those of the symmetric
``S = D^-1/2 (A + I) D^-1/2``, its eigenfunctions ``f_i = D^-1/2 u_i`` for the eigenvectors ``u_i`` of S.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np
import scipy.sparse as sp
from scipy.sparse.csgraph import connected_components

from rlspectral.errors import DataError


@dataclass(frozen=True)
class Graph:
    """``n`` nodes and the undirected ``edges`` [E, 2] (each once, ``u < v``, no self-loops: ``A + I`` adds them)."""

    n: int
    edges: np.ndarray

    @classmethod
    def from_edges(cls, edges: np.ndarray, n: int | None = None) -> Graph:
        """Any integer edge list [E, 2] with ids in ``0..n-1`` (n defaults to the largest id + 1): both directions,
        duplicates and self-loops are merged; a bad list is one :class:`DataError` line."""
        e = np.asarray(edges)
        if e.ndim != 2 or e.shape[1] != 2:
            raise DataError(f"edges must have shape [E, 2], got {list(e.shape)}")
        if e.size and not np.issubdtype(e.dtype, np.integer):
            if not np.all(np.isfinite(e)) or not np.all(e == np.round(e)):
                raise DataError("edges must hold integer node ids")
        e = e.astype(np.int64)
        if n is None:
            n = int(e.max()) + 1 if e.size else 0
        if e.size and (e.min() < 0 or e.max() >= n):
            bad = int(e.min()) if e.min() < 0 else int(e.max())
            raise DataError(f"edge list names node {bad}, outside 0..{n - 1} ({n} nodes)")
        e = np.sort(e, axis=1)
        e = np.unique(e[e[:, 0] != e[:, 1]], axis=0)
        return cls(int(n), e.reshape(-1, 2))

    @cached_property
    def adjacency(self) -> sp.csr_matrix:
        """A + I (symmetric, 0/1)."""
        u, v = self.edges[:, 0], self.edges[:, 1]
        loops = np.arange(self.n)
        rows, cols = np.concatenate([u, v, loops]), np.concatenate([v, u, loops])
        return sp.csr_matrix((np.ones(len(rows)), (rows, cols)), shape=(self.n, self.n))

    @cached_property
    def degrees(self) -> np.ndarray:
        """Degrees of A + I (every node has degree >= 1)."""
        return np.asarray(self.adjacency.sum(axis=1)).ravel()

    @property
    def volume(self) -> float:
        return float(self.degrees.sum())

    @property
    def rho(self) -> np.ndarray:
        """The node law of edge sampling, ``d / vol``: the inner product the learned functions live in."""
        return self.degrees / self.volume

    @cached_property
    def pairs(self) -> np.ndarray:
        """Every directed pair (x, y) of A + I, [vol, 2]: uniform draws of these are the operator's pairs."""
        A = self.adjacency.tocoo()
        return np.stack([A.row, A.col], axis=1).astype(np.int64)

    def normalized_adjacency(self) -> sp.csr_matrix:
        """S = D^-1/2 (A + I) D^-1/2 (same eigenvalues as P; eigenvectors u_i = D^1/2 f_i)."""
        s = sp.diags(1.0 / np.sqrt(self.degrees))
        return (s @ self.adjacency @ s).tocsr()

    def components(self) -> np.ndarray:
        """Component label of every node."""
        return connected_components(self.adjacency, directed=False)[1]

    def subgraph(self, nodes: np.ndarray) -> Graph:
        """The graph induced on ``nodes`` (sorted ids of this graph), renumbered 0..len(nodes)-1 in that order."""
        nodes = np.asarray(nodes, dtype=np.int64)
        index = np.full(self.n, -1, dtype=np.int64)
        index[nodes] = np.arange(len(nodes))
        e = index[self.edges]
        return Graph(len(nodes), e[(e >= 0).all(axis=1)])

    def largest_component(self) -> tuple[Graph, np.ndarray]:
        """``(subgraph, nodes)``: the largest connected component (ties: the lowest label) and its node ids."""
        labels = self.components()
        nodes = np.flatnonzero(labels == np.argmax(np.bincount(labels)))
        return self.subgraph(nodes), nodes


def propagate(features: np.ndarray, graph: Graph, hops: int) -> np.ndarray:
    """``[X, S X, ..., S^hops X]`` (S the normalized adjacency): features that see ``hops`` steps of the graph, as in
    SIGN (Frasca et al., 2020) / SGC (Wu et al., 2019); computed once, on the graph available at the time."""
    X = np.asarray(features, dtype=np.float32)
    if X.shape[0] != graph.n:
        raise DataError(f"features have {X.shape[0]} rows for a graph of {graph.n} nodes")
    S = graph.normalized_adjacency().astype(np.float32)
    out, cur = [X], X
    for _ in range(hops):
        cur = np.asarray(S @ cur, dtype=np.float32)
        out.append(cur)
    return np.concatenate(out, axis=1)


def pca_projection(features: np.ndarray, dim: int) -> tuple[np.ndarray, np.ndarray]:
    """``(mean [d], W [d, dim])``: the top ``dim`` principal directions of ``features`` (rows = the nodes it may see,
    e.g. the training nodes of an inductive fit); ``(X - mean) @ W`` projects any rows, unseen nodes included."""
    X = np.asarray(features, dtype=np.float64)
    mean = X.mean(axis=0)
    _, _, Vt = np.linalg.svd(X - mean, full_matrices=False)
    return mean, Vt[: min(dim, Vt.shape[0])].T
