"""Graph operators: the random walk on a graph's nodes learned from its edges (docs/design.md, "Graph operators")."""

from rlspectral.graph.data import Graph, propagate
from rlspectral.graph.fit import GraphData, GraphFitConfig, exact_realign, fit_graph
from rlspectral.graph.probe import probe_accuracy
from rlspectral.graph.sampler import EdgeSampler
from rlspectral.graph.spectrum import exact_graph_moments, graph_cosines, graph_eigenpairs

__all__ = [
    "EdgeSampler",
    "Graph",
    "GraphData",
    "GraphFitConfig",
    "exact_graph_moments",
    "exact_realign",
    "fit_graph",
    "graph_cosines",
    "graph_eigenpairs",
    "probe_accuracy",
    "propagate",
]
