"""Tables and figures of ``results/graph`` (from :mod:`scripts.graph_benchmark`): ``summary.md``, ``summary.json``,
``transductive_curves.png``, ``probe_accuracy.png``, ``heldout_cosine_per_mode.png``. "±" is the sample std (ddof=1)
over seeds."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from rlspectral.report import blocks, markdown_table, pm, write_json, write_markdown

ORDER = ("nested-lora", "nested-omm", "nested-lora-edges", "allo-published")


def _load(out: Path, part: str) -> dict[str, list[dict[str, Any]]]:
    runs: dict[str, list[dict[str, Any]]] = {}
    for path in sorted((out / part).glob("*.json")):
        m = json.loads(path.read_text())
        runs.setdefault(m["name"], []).append(m)
    return {name: runs[name] for name in sorted(runs, key=lambda n: ORDER.index(n) if n in ORDER else 99)}


def _pm(values: list[float], fmt: str = ".4f") -> str:
    return pm(values, fmt, ddof=1, std_of_one=False)


def _probe(m: dict[str, Any], dim: int, key: str = "probe") -> float | None:
    return next((r["test_accuracy"] for r in m.get(key, []) if r["dim"] == dim), None)


def summarize(out: Path) -> None:
    out = Path(out)
    title = "# Graph benchmark: Cora, largest connected component (2485 nodes)"
    note = "± = sample std over seeds (ddof = 1); times are training only, one torch thread."
    parts: list[list[str]] = [[title, "", note]]
    summary: dict[str, Any] = {}
    trans = _load(out, "transductive")
    if trans:
        rows = []
        for name, ms in trans.items():
            rows.append([
                name, len(ms), _pm([m["mean_cosine_similarity"] for m in ms]),
                _pm([m["rr_mean_cosine_similarity"] for m in ms]), _pm([min(m["cosine_similarity"]) for m in ms]),
                _pm([max(m["rr_eigenvalue_rel_error"]) for m in ms], ".1e"), _pm([m["wall_time_s"] for m in ms], ".1f"),
                _pm([m["steps_per_s"] for m in ms], ".1f"), ms[0]["steps"], ms[0]["learned_modes"],
            ])  # fmt: skip
            summary.setdefault("transductive", {})[name] = {
                "seeds": [m["config"]["seed"] for m in ms],
                "mean_cosine_similarity": [m["mean_cosine_similarity"] for m in ms],
                "wall_time_s": [m["wall_time_s"] for m in ms],
            }
        header = ["row", "seeds", "mean cos (as learned)", "mean cos (RR, exact moments)", "worst mode cos",
                  "max rel. eigenvalue error (RR)", "train time s", "steps/s", "steps", "modes learned"]  # fmt: skip
        parts.append(["## Transductive, k = 16 (a free table per node)", "", *markdown_table(header, rows)])
        _curves(out, trans)
    ind = _load(out, "inductive")
    if ind:
        rows = []
        for name, ms in ind.items():
            rows.append([
                name, len(ms), _pm([m["mean_cosine_similarity"] for m in ms]),
                _pm([m["heldout_mean_cosine_similarity"] for m in ms]), _pm([m["heldout_span_similarity"] for m in ms]),
                _pm([_probe(m, 16) for m in ms], ".3f"), _pm([_probe(m, 32) for m in ms], ".3f"),
                _pm([_probe(m, 64) for m in ms], ".3f"), _pm([_probe(m, 64, "probe_with_features") for m in ms], ".3f"),
                _pm([m["wall_time_s"] for m in ms], ".1f"),
            ])  # fmt: skip
            summary.setdefault("inductive", {})[name] = {
                "seeds": [m["config"]["seed"] for m in ms],
                "heldout_cosine_similarity_per_mode": np.mean([m["heldout_cosine_similarity"] for m in ms], 0).tolist(),
            }
        header = ["row", "seeds", "mean cos, training graph", "mean cos, held-out nodes", "span sim., held-out",
                  "probe acc, 16 modes", "32 modes", "64 modes", "64 modes + S^2 X", "train time s"]  # fmt: skip
        title = "## Inductive, k = 64 (an MLP of node features; the 915 test nodes and their edges held out)"
        parts.append([title, "", *markdown_table(header, rows)])
    ctx_path = out / "context.json"
    if ctx_path.exists():
        ctx = json.loads(ctx_path.read_text())
        by: dict[str, list[float]] = {}
        for r in ctx["rows"]:
            by.setdefault(r["name"], []).append(r["test_accuracy"])
        rows = [[name, len(v), _pm(v, ".3f")] for name, v in by.items()]
        parts.append(["## Context: probes in the same harness (logistic regression unless said)", "",
                      *markdown_table(["row", "seeds", "test accuracy"], rows)])  # fmt: skip
        summary["context"] = by
        _probe_figure(out, ind, ctx)
    if ind:
        _heldout_figure(out, ind)
    write_markdown(out / "summary.md", blocks(*parts))
    write_json(out / "summary.json", summary)


def _curves(out: Path, trans: dict[str, list[dict[str, Any]]]) -> None:
    from rlspectral.plots import pyplot, save_figure

    plt = pyplot()
    fig, ax = plt.subplots(figsize=(5, 3.4))
    for name, ms in trans.items():
        for i, m in enumerate(ms):
            c = m["curve"]
            color = f"C{list(trans).index(name)}"
            label = name if i == 0 else None
            ax.plot([r["train_time_s"] for r in c], [r["mean_cosine_similarity"] for r in c], color=color, label=label)
    ax.set_xlabel("training time (s, one thread)")
    ax.set_ylabel("mean cosine, k = 16")
    ax.set_ylim(0, 1.01)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7)
    save_figure(fig, out / "transductive_curves.png")


def _probe_figure(out: Path, ind: dict[str, list[dict[str, Any]]], ctx: dict[str, Any]) -> None:
    from rlspectral.graph.plots import save_probe_curve

    rows: dict[str, list[dict[str, Any]]] = {}
    for name, ms in ind.items():
        dims = [r["dim"] for r in ms[0]["probe"]]
        rows[f"inductive {name}"] = [
            {"dim": d, "test_accuracy": float(np.mean([_probe(m, d) for m in ms]))} for d in dims
        ]
    rows["exact spectral embedding"] = [{"dim": r["k"], "test_accuracy": r["test_accuracy"]} for r in ctx["rows"]
                                        if r["name"].startswith("exact spectral embedding, k=")]  # fmt: skip
    save_probe_curve(out / "probe_accuracy.png", rows)


def _heldout_figure(out: Path, ind: dict[str, list[dict[str, Any]]]) -> None:
    from rlspectral.plots import pyplot, save_figure

    plt = pyplot()
    fig, ax = plt.subplots(figsize=(6, 3.2))
    for name, ms in ind.items():
        per_mode = np.array([m["heldout_cosine_similarity"] for m in ms])
        ax.plot(np.arange(1, per_mode.shape[1] + 1), per_mode.mean(0), marker=".", label=name)
    ax.set_xlabel("mode")
    ax.set_ylabel("cosine on held-out nodes (mean over seeds)")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7)
    save_figure(fig, out / "heldout_cosine_per_mode.png")
