"""Pictures of a graph fit: eigenvector values on a 2-D layout of the graph, and probe accuracy against k."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from rlspectral.graph.data import Graph

MAX_LAYOUT_NODES = 20_000  # larger graphs get no picture
REPULSION_SAMPLE = 256


def force_layout(graph: Graph, iters: int = 200, seed: int = 0) -> np.ndarray:
    """A Fruchterman-Reingold layout [n, 2] (attraction d^2 / k along edges, repulsion k^2 / d from every node,
    estimated each iteration from a random sample of ``REPULSION_SAMPLE`` nodes; temperature cooling linearly),
    from a seeded random start."""
    n = graph.n
    rng = np.random.default_rng(seed)
    pos = rng.uniform(-1, 1, size=(n, 2))
    kk = np.sqrt(4.0 / max(n, 1))
    u, v = graph.edges[:, 0], graph.edges[:, 1]
    for it in range(iters):
        sample = rng.choice(n, min(n, REPULSION_SAMPLE), replace=False)
        delta = pos[:, None, :] - pos[None, sample, :]
        dist = np.maximum(np.linalg.norm(delta, axis=2), 1e-3)
        disp = np.einsum("ijk,ij->ik", delta, kk**2 / dist**2) * (n / len(sample))
        e = pos[u] - pos[v]
        de = np.maximum(np.linalg.norm(e, axis=1, keepdims=True), 1e-3)
        pull = e * de / kk
        np.add.at(disp, u, -pull)
        np.add.at(disp, v, pull)
        temp = 0.1 * (1 - it / iters) + 1e-3
        length = np.maximum(np.linalg.norm(disp, axis=1, keepdims=True), 1e-9)
        pos += disp / length * np.minimum(length, temp)
    return pos


def save_graph_modes(
    path: str | Path,
    graph: Graph,
    exact: np.ndarray,
    learned: np.ndarray,
    values: np.ndarray,
    modes: int = 8,
    iters: int = 200,
    seed: int = 0,
) -> Path | None:
    """Exact (top row) and learned (bottom row) eigenvector values of the first ``modes`` modes, coloured on a force
    layout; ``None`` (no picture) above :data:`MAX_LAYOUT_NODES` nodes."""
    if graph.n > MAX_LAYOUT_NODES:
        return None
    from rlspectral.plots import pyplot, save_figure

    plt = pyplot()
    pos = force_layout(graph, iters, seed)
    m = min(modes, exact.shape[1])
    fig, axes = plt.subplots(2, m, figsize=(2.2 * m, 4.6), squeeze=False)
    segs = np.stack([pos[graph.edges[:, 0]], pos[graph.edges[:, 1]]], axis=1)
    from matplotlib.collections import LineCollection

    for j in range(m):
        for row, (name, vec) in enumerate((("exact", exact[:, j]), ("learned", learned[:, j]))):
            ax = axes[row, j]
            ax.add_collection(LineCollection(segs, colors="0.85", linewidths=0.2))
            lim = float(np.abs(vec).max()) or 1.0
            ax.scatter(pos[:, 0], pos[:, 1], c=vec, cmap="coolwarm", vmin=-lim, vmax=lim, s=3, linewidths=0)
            ax.set_xticks([])
            ax.set_yticks([])
            if j == 0:
                ax.set_ylabel(name)
            if row == 0:
                ax.set_title(f"mode {j + 1}, {values[j]:.4f}", fontsize=8)
    fig.tight_layout()
    return save_figure(fig, path)


def save_probe_curve(path: str | Path, rows: Mapping[str, Sequence[Mapping[str, Any]]]) -> Path:
    """Test accuracy of the linear probe against the number of modes it reads, one line per entry of ``rows``."""
    from rlspectral.plots import pyplot, save_figure

    plt = pyplot()
    fig, ax = plt.subplots(figsize=(4.5, 3.2))
    for name, points in rows.items():
        ax.plot([p["dim"] for p in points], [p["test_accuracy"] for p in points], marker="o", label=name)
    ax.set_xscale("log", base=2)
    ax.set_xlabel("modes read by the probe (k)")
    ax.set_ylabel("test accuracy")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7)
    fig.tight_layout()
    return save_figure(fig, path)
