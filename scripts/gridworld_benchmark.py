"""Gridworld benchmark: 12 layouts x {nested-lora, nested-omm, allo, ggdo} x seeds, one harness, one budget.

    python -m scripts.gridworld_benchmark --out results/gridworld                 # resumable; local processes
    python -m scripts.gridworld_benchmark --out results/gridworld_fresh --steps 5000 --first-seed 10 --seeds 5 \
        --methods nested-lora allo+published allo-tuned --ddof 1                  # final table: fresh seeds
    python -m scripts.gridworld_benchmark --out results/gridworld --ray auto      # the same sweep on a Ray cluster
    python -m scripts.gridworld_benchmark --out results/no_rr --realign-every 0   # nested objectives alone
    python -m scripts.gridworld_benchmark --out results/gridworld --summarize-only  # tables from finished runs

A method name ``<method>+published`` runs that baseline at its authors' training settings
(:func:`rlspectral.cli.fit.published_settings`: lr, constant schedule, batch 1024, raw (x, y), replay size, no
oversampling) with this sweep's seeds and pairs budget (steps x 8192 pairs: 8x the steps at batch 1024); a plain
name runs the ``rlspectral fit`` defaults. Writes
``results.csv``, ``summary.json`` and ``table.md`` (mean ± sample std over seeds, the std with ``--ddof``, beside the
published ALLO / GGDO numbers quoted in docs/benchmarks/gridworld.md for reference only) into ``--out``.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import numpy as np

from rlspectral import report
from rlspectral.baselines import PUBLISHED_SCORES
from rlspectral.experiments import GridFitConfig, fit_gridworld, published_at_pairs
from rlspectral.harness import SCALAR_KEYS
from rlspectral.plots import pyplot, save_figure
from rlspectral.sweep import finished, run_jobs, seed_range, sweep_parser

LAYOUTS = [
    "GridMaze-7",
    "GridMaze-9",
    "GridMaze-17",
    "GridMaze-19",
    "GridMaze-26",
    "GridMaze-32",
    "GridRoom-1",
    "GridRoom-4",
    "GridRoom-16",
    "GridRoom-32",
    "GridRoom-64",
    "GridRoomSym-4",
]
METHODS = ["nested-lora", "nested-omm", "allo-tuned", "ggdo"]  # allo-tuned: the settings the tables ran
# Published (xy, k = 11, 200k steps x batch 1024, 60 seeds): quoted for reference, not re-run here.
PUBLISHED_ALLO, PUBLISHED_GGDO = PUBLISHED_SCORES["allo"], PUBLISHED_SCORES["ggdo"]


def run_job(job: dict[str, Any], job_dir: Path) -> dict[str, Any]:
    variant = job.get("variant", job["config"]["method"])
    config = dict(job["config"])
    if variant.endswith("+published"):  # the authors' settings at this sweep's pairs budget (steps x batch)
        config.update(published_at_pairs(config["method"], config["steps"]))
    cfg = GridFitConfig(**config)
    m = fit_gridworld(cfg, out=job_dir if job.get("artifacts") else None, progress=False)
    keep = (*SCALAR_KEYS, "cosine_similarity", "rr_cosine_similarity")
    res = {"id": job["id"], "seed": cfg.seed, "learned_modes": m["learned_modes"], **{key: m[key] for key in keep}}
    res["method"] = variant  # the table's row label: "allo+published" is ALLO at its authors' settings
    return res


def summarize(
    results: list[dict[str, Any]], out: Path, layouts: list[str], methods: list[str], dim: int = 11, ddof: int = 1
) -> None:
    """Write results.csv, summary.json, table.md and benchmark.png; published numbers (k = 11) only at dim 11."""
    published = (PUBLISHED_ALLO, PUBLISHED_GGDO) if dim == 11 else ()  # the published scores are for k = 11
    rows = sorted(results, key=lambda r: (r["layout"], r["method"], r["seed"]))
    report.write_csv(out / "results.csv", rows, ["seed", *SCALAR_KEYS])
    summary: dict[str, Any] = {}
    for (lay, meth), rs in report.groups(results, layout=layouts, method=methods):
        raw = report.mean_std([r["mean_cosine_similarity"] for r in rs], ddof=ddof)
        rr = report.mean_std([r["rr_mean_cosine_similarity"] for r in rs], ddof=ddof)
        wall = float(np.mean([r["wall_time_s"] for r in rs]))
        summary[f"{lay}/{meth}"] = {"seeds": len(rs), "raw_mean": raw[0], "raw_std": raw[1], "rr_mean": rr[0],
                                    "rr_std": rr[1], "wall_time_s": wall}  # fmt: skip
    report.write_json(out / "summary.json", summary)
    seeds = max((v["seeds"] for v in summary.values()), default=0)

    def cell(s: dict[str, Any] | None, key: str) -> str:
        if s is None:
            return "–"
        txt = report.format_pm((s[key + "_mean"], s[key + "_std"]), ".4f")
        return txt if s["seeds"] == seeds else f"{txt} (n={s['seeds']})"

    lines = []
    std = "sample std, ddof = 1" if ddof == 1 else "population std, ddof = 0"
    for key, title in (("raw", f"Modes as learned (mean cosine, ± {std} over seeds)"),
                       ("rr", "After Rayleigh–Ritz on each method's learned subspace")):  # fmt: skip
        rows = [[lay, *(cell(summary.get(f"{lay}/{meth}"), key) for meth in methods),
                 *(pub.get(lay, "–") for pub in published)] for lay in layouts]  # fmt: skip
        header = ["layout", *methods, *(["ALLO (published)", "GGDO (published)"] if published else [])]
        lines += [f"**{title}**", "", *report.markdown_table(header, rows)]
        for base in (b for b in methods if b.startswith("allo")):
            for meth in (m for m in methods if not m.startswith("allo")):
                pairs = [(summary.get(f"{lay}/{meth}"), summary.get(f"{lay}/{base}")) for lay in layouts]
                pairs = [(a, b) for a, b in pairs if a is not None and b is not None]
                wins = sum(a[key + "_mean"] >= b[key + "_mean"] for a, b in pairs)
                lines.append(f"\n{meth} >= {base} on {wins}/{len(pairs)} layouts.")
        lines.append("")
    report.write_markdown(out / "table.md", lines)
    _plot(summary, out, layouts, methods, dim)


def _plot(summary: dict[str, Any], out: Path, layouts: list[str], methods: list[str], dim: int = 11) -> None:
    fig, axes = pyplot().subplots(1, 2, figsize=(12, 3.8), sharey=True)
    x = np.arange(len(layouts))
    w = 0.8 / len(methods)
    for ax, key, title in zip(axes, ("raw", "rr"), ("modes as learned", "after Rayleigh–Ritz")):
        for i, meth in enumerate(methods):
            m = [summary.get(f"{lay}/{meth}", {}).get(key + "_mean", np.nan) for lay in layouts]
            e = [summary.get(f"{lay}/{meth}", {}).get(key + "_std", 0.0) for lay in layouts]
            ax.bar(x + (i - (len(methods) - 1) / 2) * w, m, w, yerr=e, label=meth, capsize=2)
        if dim == 11:
            pub = [PUBLISHED_ALLO.get(lay, np.nan) for lay in layouts]
            ax.plot(x, pub, "k_", ms=14, mew=2, label="ALLO published (200k steps)")
        ax.set_xticks(x, [lay.replace("Grid", "") for lay in layouts], rotation=45, ha="right", fontsize=8)
        ax.set_title(title)
        ax.set_ylim(0, 1.02)
        ax.grid(axis="y", alpha=0.3)
    axes[0].set_ylabel(f"mean cosine similarity (k = {dim})")
    axes[1].legend(fontsize=7, loc="lower left")
    save_figure(fig, out / "benchmark.png")


def make_jobs(args: Any) -> list[dict[str, Any]]:
    """One fit per (seed, layout, method), the command line's overrides applied."""
    overrides = {"operator": args.operator, "realign_every": args.realign_every, "extra_modes": args.extra_modes,
                 "final_realign_batches": args.final_realign_batches}  # fmt: skip
    return [
        {
            "id": f"{lay}__{meth}__k{args.k}__s{seed}",
            "artifacts": args.artifacts,
            "variant": meth,
            "config": {
                "layout": lay,
                "method": meth.removesuffix("+published"),
                "k": args.k,
                "steps": args.steps,
                "seed": seed,
                "eval_every": 100,
                "device": args.device,
                **{key: v for key, v in overrides.items() if v is not None and v != ""},
            },
        }  # fmt: skip
        for seed in seed_range(args)
        for lay in args.layouts
        for meth in args.methods
    ]


def main(argv: list[str] | None = None) -> None:
    p = sweep_parser(__doc__, "results/gridworld", threads="--threads-per-worker")
    p.add_argument("--layouts", nargs="*", default=LAYOUTS)
    p.add_argument("--methods", nargs="*", default=METHODS)
    p.add_argument("--steps", type=int, default=1500)
    p.add_argument("--k", "--dim", dest="k", type=int, default=11, help="eigenfunctions scored (--dim: old name)")
    p.add_argument("--operator", default=None, help="override the fit's operator, e.g. successor:0.95 (ablations)")
    p.add_argument("--realign-every", type=int, default=None, help="override the fit's Rayleigh-Ritz step (0: off)")
    p.add_argument("--extra-modes", type=int, default=None, help="override the oversampling (learn k+N, score k)")
    p.add_argument("--final-realign-batches", type=int, default=None, help="override the last Rayleigh-Ritz batches")
    p.add_argument("--device", default="cpu", help="cpu or cuda (several workers can share one GPU)")
    p.add_argument("--artifacts", action="store_true", help="also keep plots, TensorBoard logs and checkpoints")
    p.add_argument("--ddof", type=int, default=1, choices=[0, 1], help="std over seeds: 1 sample, 0 population (old)")
    args = p.parse_args(argv)
    out = Path(args.out)
    jobs = make_jobs(args)
    t0 = time.time()
    run_jobs("scripts.gridworld_benchmark:run_job", jobs, args, lambda r: f"raw {r['mean_cosine_similarity']:.4f} "
             f"rr {r['rr_mean_cosine_similarity']:.4f} ({r['wall_time_s']:.0f}s)")  # fmt: skip
    results = finished(out, jobs)
    summarize(results, out, args.layouts, args.methods, args.k, args.ddof)
    print(f"{len(results)}/{len(jobs)} runs summarized in {out}/table.md ({time.time() - t0:.0f}s this call)")


if __name__ == "__main__":
    main()
