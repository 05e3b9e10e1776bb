"""Gridworld benchmark: 12 layouts x {nested-lora, nested-omm, allo, ggdo} x seeds, one harness, one budget.

    python scripts/gridworld_benchmark.py --out results/gridworld            # resumable; local processes
    python scripts/gridworld_benchmark.py --out results/gridworld --ray auto # the same sweep on a Ray cluster

Writes ``results.csv``, ``summary.json`` and ``table.md`` (mean ± std over seeds, beside the published
ALLO / GGDO numbers quoted in DESIGN.md for reference only) into ``--out``.
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # workers import this file as scripts.<name>

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
METHODS = ["nested-lora", "nested-omm", "allo", "ggdo"]
# Published (xy, k = 11, 200k steps x batch 1024, 60 seeds) — quoted for reference, not re-run here.
PUBLISHED_ALLO = dict(
    zip(LAYOUTS, [0.9996, 0.9989, 0.9994, 0.9989, 0.9984, 0.9908, 0.9912, 0.9965, 0.9990, 0.9982, 0.9917, 0.8411])
)
PUBLISHED_GGDO = dict(
    zip(LAYOUTS, [0.2959, 0.3755, 0.9993, 0.9936, 0.9331, 0.8014, 0.9906, 0.9073, 0.9980, 0.9857, 0.7617, 0.8326])
)


def run_job(job: dict[str, Any], job_dir: Path) -> dict[str, Any]:
    from envs.benchmark import GridFitConfig, fit_gridworld

    cfg = GridFitConfig(**job["config"])
    m = fit_gridworld(cfg, out=job_dir if job.get("artifacts") else None, progress=False)
    keep = (
        "layout",
        "method",
        "k",
        "n_states",
        "mean_cosine_similarity",
        "rr_mean_cosine_similarity",
        "steps",
        "wall_time_s",
        "steps_per_s",
        "time_to_0.95_s",
        "time_to_0.99_s",
        "cosine_similarity",
        "rr_cosine_similarity",
        "torch_threads",
    )
    return {"id": job["id"], "seed": cfg.seed, **{key: m[key] for key in keep}}


def summarize(results: list[dict[str, Any]], out: Path, layouts: list[str], methods: list[str]) -> None:
    with open(out / "results.csv", "w", newline="") as fh:
        cols = [
            "layout",
            "method",
            "seed",
            "k",
            "mean_cosine_similarity",
            "rr_mean_cosine_similarity",
            "steps",
            "wall_time_s",
            "steps_per_s",
            "time_to_0.95_s",
            "time_to_0.99_s",
        ]
        w = csv.DictWriter(fh, fieldnames=cols, extrasaction="ignore")
        w.writeheader()
        for r in sorted(results, key=lambda r: (r["layout"], r["method"], r["seed"])):
            w.writerow(r)
    summary: dict[str, Any] = {}
    for lay in layouts:
        for meth in methods:
            rs = [r for r in results if r["layout"] == lay and r["method"] == meth]
            if not rs:
                continue
            raw = np.array([r["mean_cosine_similarity"] for r in rs])
            rr = np.array([r["rr_mean_cosine_similarity"] for r in rs])
            summary[f"{lay}/{meth}"] = {
                "seeds": len(rs),
                "raw_mean": raw.mean(),
                "raw_std": raw.std(),
                "rr_mean": rr.mean(),
                "rr_std": rr.std(),
                "wall_time_s": float(np.mean([r["wall_time_s"] for r in rs])),
            }
    (out / "summary.json").write_text(json.dumps(summary, indent=1))
    lines = [
        "| layout | " + " | ".join(methods) + " | ALLO (published) | GGDO (published) |",
        "|---" * (len(methods) + 3) + "|",
    ]
    for lay in layouts:
        cells = []
        for meth in methods:
            s = summary.get(f"{lay}/{meth}")
            cells.append(
                "–"
                if s is None
                else f"{s['raw_mean']:.4f} ± {s['raw_std']:.4f} / {s['rr_mean']:.4f} ± {s['rr_std']:.4f}"
            )
        lines.append(
            f"| {lay} | " + " | ".join(cells) + f" | {PUBLISHED_ALLO.get(lay, '–')} | {PUBLISHED_GGDO.get(lay, '–')} |"
        )
    (out / "table.md").write_text("\n".join(lines) + "\n")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--out", default="results/gridworld")
    p.add_argument("--layouts", nargs="*", default=LAYOUTS)
    p.add_argument("--methods", nargs="*", default=METHODS)
    p.add_argument("--seeds", type=int, default=3)
    p.add_argument("--steps", type=int, default=1500)
    p.add_argument("--dim", type=int, default=11)
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--threads-per-worker", type=int, default=1)
    p.add_argument("--ray", default=None, help="Ray address ('auto' or ray://host:port); default: local processes")
    p.add_argument("--artifacts", action="store_true", help="also keep plots, TensorBoard logs and checkpoints")
    args = p.parse_args()
    from rlspectral.sweep import load_results, run_sweep

    out = Path(args.out)
    jobs = [
        {
            "id": f"{lay}__{meth}__k{args.dim}__s{seed}",
            "artifacts": args.artifacts,
            "config": {
                "layout": lay,
                "method": meth,
                "k": args.dim,
                "steps": args.steps,
                "seed": seed,
                "eval_every": 100,
            },
        }
        for seed in range(args.seeds)
        for lay in args.layouts
        for meth in args.methods
    ]
    t0 = time.time()
    done = 0
    for r in run_sweep(
        "scripts.gridworld_benchmark:run_job", jobs, out, args.workers, args.threads_per_worker, args.ray
    ):
        done += 1
        print(
            f"[{time.time() - t0:7.0f}s] {r['id']}: raw {r['mean_cosine_similarity']:.4f} "
            f"rr {r['rr_mean_cosine_similarity']:.4f} ({r['wall_time_s']:.0f}s)",
            flush=True,
        )
    results = [r for r in load_results(out) if r["id"] in {j["id"] for j in jobs}]
    summarize(results, out, args.layouts, args.methods)
    print(f"{len(results)}/{len(jobs)} runs summarized in {out}/table.md ({time.time() - t0:.0f}s this call)")


if __name__ == "__main__":
    main()
