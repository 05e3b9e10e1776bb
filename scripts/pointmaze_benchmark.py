"""PointMaze: eigenfunctions of the ball's (x, y) learned from random-policy replay vs the maze's reference spectrum.

    pip install -e '.[robotics]'
    python scripts/pointmaze_benchmark.py --out results/pointmaze        # resumable; local processes (--ray ADDR)

Data: uniform-random-action episodes of ``PointMaze_UMaze-v3`` / ``PointMaze_Medium-v3`` (their own lengths, 300 /
600 steps, and random starts), positions = ``achieved_goal``. Reference: the random walk on the free space cut
into 8 x 8 sub-cells per maze cell (``envs.pointmaze.maze_reference``), top k = 8 eigenvectors; the score is the
per-mode cosine similarity at the sub-cell centres (rotation inside near-degenerate blocks), as learned and after
Rayleigh-Ritz. NestedLoRA and ALLO in the same harness (network, data, budget), several seeds.

Writes ``results.csv``, ``summary.json``, ``table.md``, and per run ``eigenfunctions.png`` (reference vs learned
over the maze) and ``metrics.json`` into ``--out``.
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

MAZES = ["PointMaze_UMaze-v3", "PointMaze_Medium-v3"]
METHODS = ["nested-lora", "allo"]
KEEP = ("layout", "method", "k", "n_states", "replay_states", "mean_cosine_similarity", "rr_mean_cosine_similarity",
        "steps", "wall_time_s", "steps_per_s")  # fmt: skip


def run_job(job: dict[str, Any], job_dir: Path) -> dict[str, Any]:
    from rlspectral.cli.fit import MazeFitConfig, fit_pointmaze

    cfg = MazeFitConfig(**job["config"])
    m = fit_pointmaze(cfg, out=job_dir, progress=False)
    return {"id": job["id"], "seed": cfg.seed, **{k: m[k] for k in KEEP},
            "cosine_similarity": m["cosine_similarity"], "rr_cosine_similarity": m["rr_cosine_similarity"]}  # fmt: skip


def rescore(out: Path) -> None:
    """Re-evaluate every saved fit (``model.pt``: weights and the refreshed moments) against the reference with
    ``REFERENCE_EXTRA`` modes past k, rewriting the final Rayleigh-Ritz scores in result.json / metrics.json (the
    as-learned scores and the training curves keep the values of their time)."""
    import torch
    from rlspectral.envs.pointmaze import maze_map, maze_reference
    from rlspectral.envs.problems import REFERENCE_EXTRA

    from rlspectral.harness import mode_cosines
    from rlspectral.learner import SpectralLearner

    refs: dict[str, Any] = {}
    for res_path in sorted(out.glob("*/result.json")):
        res = json.loads(res_path.read_text())
        model = res_path.parent / "model.pt"
        if not model.is_file():
            print(f"{res['id']}: no model.pt, kept as is")
            continue
        maze, k = res["layout"], res["k"]
        if maze not in refs:
            refs[maze] = maze_reference(*maze_map(maze), resolution=8, k=k + REFERENCE_EXTRA)
        ref = refs[maze]
        learner = SpectralLearner.load(model)
        X = torch.from_numpy(ref.points.astype(np.float32))
        before = mode_cosines(learner, X, ref.vectors[:, :k], ref.values[:k], solve=True).mean()
        # RR only: the modes as learned were scored before the final moment refresh, which the checkpoint holds
        scores = {"rr_cosine_similarity": mode_cosines(learner, X, ref.vectors, ref.values, solve=True)}
        if abs(before - res["rr_mean_cosine_similarity"]) > 1e-4:
            raise RuntimeError(
                f"{res['id']}: the saved model scores {before:.4f}, the run {res['rr_mean_cosine_similarity']}"
            )
        metrics_path = res_path.parent / "metrics.json"
        metrics = json.loads(metrics_path.read_text()) if metrics_path.is_file() else {}
        for d in (res, metrics):
            for key, cos in scores.items():
                d[key] = cos.tolist()
                d[key.replace("cosine", "mean_cosine")] = float(cos.mean())
            d["reference_extra_modes"] = REFERENCE_EXTRA
        res_path.write_text(json.dumps(res, indent=1))
        if metrics:
            metrics_path.write_text(json.dumps(metrics, indent=1))
        print(f"{res['id']}: RR {before:.3f} -> {res['rr_mean_cosine_similarity']:.3f}")


def summarize(results: list[dict[str, Any]], out: Path) -> dict[str, Any]:
    with open(out / "results.csv", "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["seed", *KEEP])
        for r in sorted(results, key=lambda r: (r["layout"], r["method"], r["seed"])):
            w.writerow([r["seed"], *(r[k] for k in KEEP)])
    summary: dict[str, Any] = {}
    lines = ["| maze | method | seeds | mean cos (raw) | mean cos (RR) | per-mode cos (RR, mean over seeds) | s/run |",
             "|---|---|---|---|---|---|---|"]  # fmt: skip
    for maze in MAZES:
        for method in METHODS:
            rs = [r for r in results if r["layout"] == maze and r["method"] == method]
            if not rs:
                continue
            raw = np.array([r["mean_cosine_similarity"] for r in rs])
            rr = np.array([r["rr_mean_cosine_similarity"] for r in rs])
            modes = np.mean([r["rr_cosine_similarity"] for r in rs], axis=0)
            wall = float(np.mean([r["wall_time_s"] for r in rs]))
            summary[f"{maze}/{method}"] = {"seeds": len(rs), "raw_mean": raw.mean(), "raw_std": raw.std(),
                                           "rr_mean": rr.mean(), "rr_std": rr.std(), "rr_modes": modes.tolist(),
                                           "wall_time_s": wall}  # fmt: skip
            per_mode = " ".join(f"{c:.2f}" for c in modes)
            lines.append(f"| {maze} | {method} | {len(rs)} | {raw.mean():.3f} ± {raw.std():.3f} | "
                         f"{rr.mean():.3f} ± {rr.std():.3f} | {per_mode} | {wall:.0f} |")  # fmt: skip
    (out / "summary.json").write_text(json.dumps(summary, indent=1))
    (out / "table.md").write_text("\n".join(lines) + "\n")
    return summary


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--out", default="results/pointmaze")
    p.add_argument("--mazes", nargs="*", default=MAZES)
    p.add_argument("--methods", nargs="*", default=METHODS)
    p.add_argument("--seeds", type=int, default=3)
    p.add_argument("--steps", type=int, default=3000)
    p.add_argument("--operator", default="successor:0.9", help="the pair distribution (the operator learned)")
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--ray", default=None, help="Ray address ('auto' or ray://host:port); default: local processes")
    p.add_argument("--summarize-only", action="store_true")
    p.add_argument("--rescore", action="store_true", help="re-evaluate the saved fits (no training), then summarize")
    args = p.parse_args()
    from rlspectral.sweep import load_results, run_sweep

    out = Path(args.out)
    jobs = [
        {
            "id": f"{maze}__{method}__s{seed}",
            "config": {"env_id": maze, "method": method, "seed": seed, "steps": args.steps, "threads": 1},
        }  # fmt: skip
        for seed in range(args.seeds)
        for maze in args.mazes
        for method in args.methods
    ]
    if args.rescore:
        rescore(out)
    t0 = time.time()
    for r in run_sweep("scripts.pointmaze_benchmark:run_job", [] if args.summarize_only or args.rescore else jobs, out,
                       args.workers, 1, args.ray):  # fmt: skip
        print(f"[{time.time() - t0:6.0f}s] {r['id']}: cos {r['mean_cosine_similarity']:.3f} "
              f"(RR {r['rr_mean_cosine_similarity']:.3f})", flush=True)  # fmt: skip
    results = load_results(out)
    summarize(results, out)
    print((out / "table.md").read_text())


if __name__ == "__main__":
    main()
