"""PointMaze: eigenfunctions of the ball's (x, y) learned from random-policy replay vs the maze's reference spectrum.

    pip install -e '.[robotics]'
    python -m scripts.pointmaze_benchmark --out results/pointmaze                   # resumable; local processes
    python -m scripts.pointmaze_benchmark --out results/pointmaze --rescore         # re-evaluate the saved fits
    python -m scripts.pointmaze_benchmark --out results/pointmaze --summarize-only  # the table from finished runs

Data: uniform-random-action episodes of ``PointMaze_UMaze-v3`` / ``PointMaze_Medium-v3`` (their own lengths, 300 /
600 steps, and random starts), positions = ``achieved_goal``. Reference: the random walk on the free space cut
into 8 x 8 sub-cells per maze cell (``envs.pointmaze.maze_reference``), top k = 8 eigenvectors; the score is the
per-mode cosine similarity at the sub-cell centres (rotation inside near-degenerate blocks), as learned and after
Rayleigh-Ritz. NestedLoRA and ALLO in the same harness (network, data, budget), several seeds.

Writes ``results.csv``, ``summary.json``, ``table.md``, and per run ``eigenfunctions.png`` (reference vs learned
over the maze) and ``metrics.json`` into ``--out``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from rlspectral import report
from rlspectral.sweep import finished, run_jobs, seed_range, sweep_parser

MAZES = ["PointMaze_UMaze-v3", "PointMaze_Medium-v3"]
METHODS = ["nested-lora", "allo-tuned"]
KEEP = ("layout", "method", "k", "n_states", "replay_states", "mean_cosine_similarity", "rr_mean_cosine_similarity",
        "steps", "wall_time_s", "steps_per_s")  # fmt: skip


def run_job(job: dict[str, Any], job_dir: Path) -> dict[str, Any]:
    """One fit on a maze's random-policy replay, scored against the reference."""
    from rlspectral.experiments import MazeFitConfig, fit_pointmaze

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
    report.write_csv(
        out / "results.csv", sorted(results, key=lambda r: (r["layout"], r["method"], r["seed"])), ["seed", *KEEP]
    )
    summary: dict[str, Any] = {}
    rows = []
    for (maze, method), rs in report.groups(results, layout=MAZES, method=METHODS):
        raw = [r["mean_cosine_similarity"] for r in rs]
        rr = [r["rr_mean_cosine_similarity"] for r in rs]
        modes = np.mean([r["rr_cosine_similarity"] for r in rs], axis=0)
        wall = float(np.mean([r["wall_time_s"] for r in rs]))
        (raw_mean, raw_std), (rr_mean, rr_std) = report.mean_std(raw), report.mean_std(rr)
        summary[f"{maze}/{method}"] = {"seeds": len(rs), "raw_mean": raw_mean, "raw_std": raw_std, "rr_mean": rr_mean,
                                       "rr_std": rr_std, "rr_modes": modes.tolist(), "wall_time_s": wall}  # fmt: skip
        per_mode = " ".join(f"{c:.2f}" for c in modes)
        rows.append([maze, method, len(rs), report.pm(raw, ".3f"), report.pm(rr, ".3f"), per_mode, f"{wall:.0f}"])
    header = [
        "maze",
        "method",
        "seeds",
        "mean cos (raw)",
        "mean cos (RR)",
        "per-mode cos (RR, mean over seeds)",
        "s/run",
    ]
    report.write_json(out / "summary.json", summary)
    report.write_markdown(out / "table.md", report.markdown_table(header, rows))
    return summary


def main(argv: list[str] | None = None) -> None:
    p = sweep_parser(__doc__, "results/pointmaze")
    p.add_argument("--mazes", nargs="*", default=MAZES)
    p.add_argument("--methods", nargs="*", default=METHODS)
    p.add_argument("--steps", type=int, default=3000)
    p.add_argument("--operator", default="successor:0.9", help="the pair distribution (the operator learned)")
    p.add_argument("--rescore", action="store_true", help="re-evaluate the saved fits (no training), then summarize")
    args = p.parse_args(argv)
    out = Path(args.out)
    jobs = [
        {"id": f"{maze}__{method}__s{seed}",
         "config": {"env_id": maze, "method": method, "seed": seed, "steps": args.steps, "threads": 1,
                    "operator": args.operator}}
        for seed in seed_range(args)
        for maze in args.mazes
        for method in args.methods
    ]  # fmt: skip
    if args.rescore:
        rescore(out)
        args.summarize_only = True
    run_jobs("scripts.pointmaze_benchmark:run_job", jobs, args,
             lambda r: f"cos {r['mean_cosine_similarity']:.3f} (RR {r['rr_mean_cosine_similarity']:.3f})")  # fmt: skip
    summarize(finished(out), out)
    print((out / "table.md").read_text())


if __name__ == "__main__":
    main()
