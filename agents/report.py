"""What a training run leaves behind: ``run.json`` (how to rebuild its env), ``results.json`` and a learning-curve
PNG (matplotlib, Agg backend)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

RUN_FILE = "run.json"
RESULTS_FILE = "results.json"


def write_results(path: Path, results: dict[str, Any]) -> Path:
    """``results`` as indented JSON (what JSON does not know, as text)."""
    from rlspectral.report import write_json

    return write_json(path, results, default=str)


def plot_learning_curve(path: Path, history: list[dict[str, Any]], title: str) -> Path:
    """Evaluation return (mean +- std) against env steps; success rate on a second axis when reported."""
    import numpy as np

    from rlspectral.plots import pyplot

    plt = pyplot()
    t = np.array([h["timesteps"] for h in history], dtype=float)
    mean = np.array([h["return_mean"] for h in history], dtype=float)
    std = np.array([h["return_std"] for h in history], dtype=float)
    fig, ax = plt.subplots(figsize=(6, 3.6), dpi=120)
    ax.plot(t, mean, marker="o", ms=3, color="C0", label="return")
    ax.fill_between(t, mean - std, mean + std, color="C0", alpha=0.2)
    ax.set_xlabel("environment steps")
    ax.set_ylabel("evaluation return", color="C0")
    success = [h["success_rate"] for h in history]
    if any(s is not None for s in success):
        ax2 = ax.twinx()
        ax2.plot(t, [np.nan if s is None else s for s in success], marker="s", ms=3, color="C1")
        ax2.set_ylim(-0.05, 1.05)
        ax2.set_ylabel("success rate", color="C1")
    ax.set_title(title, fontsize=9)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return path


def evaluation_band(
    ax,
    runs: list[dict[str, Any]],
    score: Callable[[dict[str, Any]], float],
    label: str,
    bounds: tuple[float, float] | None = None,
) -> None:
    """Mean ± std over seeds of ``score(evaluation)`` vs env steps, for runs with an ``evaluations`` list (cut
    to the shortest run)."""
    from rlspectral.plots import seed_band, seed_curves

    curves = [([e["timesteps"] for e in r["evaluations"]], [score(e) for e in r["evaluations"]]) for r in runs]
    seed_band(ax, *seed_curves(curves, "first"), f"{label} (n={len(runs)})", bounds=bounds)
