"""PNG plots: eigenfunctions on a grid, learning curves, mean ± std bands over seeds (matplotlib, Agg backend)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Literal

import numpy as np


def pyplot():
    """``matplotlib.pyplot`` on the Agg backend (files only, no display)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def eigenfunction_figure(rows: Mapping[str, Sequence[np.ndarray]], titles: Sequence[str] | None = None):
    """A figure with one row per entry of ``rows`` (e.g. {"learned": [...], "exact": [...]}), each a list of
    2-D images (NaN = wall), sharing a symmetric colour scale per image column."""
    plt = pyplot()
    names = list(rows)
    k = len(rows[names[0]])
    fig, axes = plt.subplots(len(names), k, figsize=(1.6 * k, 1.7 * len(names)), squeeze=False)
    for j in range(k):
        vmax = max(float(np.nanmax(np.abs(rows[n][j]))) for n in names) or 1.0
        for i, n in enumerate(names):
            ax = axes[i, j]
            ax.imshow(rows[n][j], cmap="RdBu_r", vmin=-vmax, vmax=vmax)
            ax.set_xticks([])
            ax.set_yticks([])
            if j == 0:
                ax.set_ylabel(n)
            if i == 0 and titles is not None:
                ax.set_title(titles[j], fontsize=8)
    fig.tight_layout()
    return fig


def save_eigenfunctions(
    path: str | Path, rows: Mapping[str, Sequence[np.ndarray]], titles: Sequence[str] | None = None
):
    plt = pyplot()
    fig = eigenfunction_figure(rows, titles)
    fig.savefig(path, dpi=110)
    plt.close(fig)


def save_figure(fig, path: str | Path, dpi: int = 110) -> Path:
    """Lay out ``fig``, write it to ``path`` and close it."""
    fig.tight_layout()
    fig.savefig(path, dpi=dpi)
    pyplot().close(fig)
    return Path(path)


def save_curves(
    path: str | Path,
    curves: Mapping[str, tuple[np.ndarray, np.ndarray, np.ndarray | None]],
    xlabel: str,
    ylabel: str,
    title: str = "",
    bounds: tuple[float, float] | None = None,
):
    """Curves ``name -> (x, mean, spread or None)``; the spread is drawn as a band mean ± spread, clipped to
    ``bounds`` (e.g. (0, 1) for a success rate)."""
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(5.5, 3.6))
    for name, (x, mean, spread) in curves.items():
        ax.plot(x, mean, label=name)
        if spread is not None:
            lo, hi = mean - spread, mean + spread
            if bounds is not None:
                lo, hi = np.clip(lo, *bounds), np.clip(hi, *bounds)
            ax.fill_between(x, lo, hi, alpha=0.2)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    if title:
        ax.set_title(title)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def seed_band(
    ax,
    x: np.ndarray,
    runs: np.ndarray,
    label: str,
    fmt: str = "-",
    alpha: float = 0.15,
    bounds: tuple[float, float] | None = None,
    ddof: int = 1,
) -> None:
    """Plot the mean over seeds of ``runs`` ``[seeds, points]`` against ``x`` with a ±1 std band (``ddof`` degrees of
    freedom, the sample std by default, no band for one seed; clipped to ``bounds``, e.g. (0, 1) for a success
    rate)."""
    mean = runs.mean(0)
    std = runs.std(0, ddof=ddof) if runs.shape[0] > ddof else np.zeros_like(mean)
    lo, hi = mean - std, mean + std
    if bounds is not None:
        lo, hi = np.clip(lo, *bounds), np.clip(hi, *bounds)
    ax.plot(x, mean, fmt, label=label)
    ax.fill_between(x, lo, hi, alpha=alpha)


def seed_curves(
    curves: Sequence[tuple[Sequence[float], Sequence[float]]], align: Literal["first", "mean", "union"] = "first"
) -> tuple[np.ndarray, np.ndarray]:
    """``(x, runs [seeds, points])`` from one ``(x, y)`` curve per seed, for :func:`seed_band`: cut to the shortest
    curve with the first curve's x (``first``) or the mean x (``mean``), or interpolated on the union of the x
    (``union``, for curves recorded at different steps)."""
    if align == "union":
        xs = [np.asarray(x, dtype=float) for x, _ in curves]
        grid = np.unique(np.concatenate(xs))
        return grid, np.stack([np.interp(grid, x, np.asarray(y, dtype=float)) for x, (_, y) in zip(xs, curves)])
    n = min(len(x) for x, _ in curves)
    runs = np.array([list(y)[:n] for _, y in curves])
    if align == "mean":
        return np.mean([list(x)[:n] for x, _ in curves], 0), runs
    return np.array(list(curves[0][0])[:n]), runs
