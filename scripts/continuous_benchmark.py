"""Continuous control: SAC / TD3 with a spectral exploration bonus vs SB3 defaults vs the RL Zoo's tuned SAC.

    python scripts/continuous_benchmark.py --out results/continuous                      # resumable, 2 processes
    python scripts/continuous_benchmark.py --tasks PointMaze_Medium-v3 --arms sac sac+novelty --seeds 3

Arms (same env steps per task; recipes in ``rlspectral.agents.recipes``):

* ``sac`` / ``td3``: SB3's default hyperparameters, raw observations;
* ``sac+novelty`` / ``td3+novelty`` / ``sac+eigenpurpose``: the same agent plus the spectral bonus, eigenfunctions
  learned online from the agent's own replay (``SpectralCallback``), inputs rescaled by the Box bounds;
* ``sac+features``: SB3 defaults with the online eigenfunctions concatenated to the observation (``both``);
* ``sac-zoo``: the RL Zoo's tuned SAC (MountainCarContinuous only: gSDE, gamma 0.9999; ``ZOO_SAC_MOUNTAINCAR``).

Tasks: ``MountainCarContinuous-v0`` (the flag: evaluation return >= 90), ``PointMaze_UMaze-v3`` /
``PointMaze_Medium-v3`` (success rate; ``pip install -e '.[robotics]'``), ``Pendulum-v1`` (final return, a sanity
check that the spectral side does not hurt). Writes ``results.csv``, ``summary.json``, ``table.md`` and
``curves.png`` (evaluation return / success vs env steps, mean ± std over seeds) into ``--out``.
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

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

TASKS = ["MountainCarContinuous-v0", "PointMaze_Medium-v3", "Pendulum-v1"]
ARMS = ["sac", "sac+novelty", "sac-zoo"]
FLAG = 90.0  # MountainCarContinuous: an evaluation return of at least 90 means the car reached the flag


def arm_settings(arm: str, task: str) -> tuple[str, str, str, dict[str, Any]]:
    """``(algo, features, bonus, overrides)`` of an arm."""
    from rlspectral.agents.recipes import ZOO_SAC_MOUNTAINCAR

    if arm == "sac-zoo":
        if task != "MountainCarContinuous-v0":
            raise ValueError("sac-zoo (the RL Zoo's tuned SAC) is defined for MountainCarContinuous-v0 only")
        return "sac", "raw", "none", dict(ZOO_SAC_MOUNTAINCAR)
    algo, _, extra = arm.partition("+")
    if algo not in ("sac", "td3"):
        raise ValueError(f"unknown arm {arm!r}")
    if extra == "features":
        return algo, "both", "none", {}
    return algo, "raw", extra or "none", {}


def run_job(job: dict[str, Any], job_dir: Path) -> dict[str, Any]:
    from rlspectral.agents.train import train

    c = job["config"]
    algo, features, bonus, overrides = arm_settings(c["arm"], c["task"])
    res = train(c["task"], algo, features, bonus, c["steps"], c["seed"], job_dir, progress=False, threads=1,
                **({"eval_every": c["eval_every"]} if c.get("eval_every") else {}), **overrides)  # fmt: skip
    return {"id": job["id"], "task": c["task"], "arm": c["arm"], "seed": c["seed"], "steps": c["steps"],
            "wall_time_s": res["wall_time_s"], "evaluations": res["evaluations"]}  # fmt: skip


def _score(task: str, e: dict[str, Any]) -> float:
    """The curve a task is judged on: success rate for PointMaze, evaluation return otherwise."""
    return float(e["success_rate"] or 0.0) if task.startswith("PointMaze") else float(e["return_mean"])


def summarize(results: list[dict[str, Any]], out: Path, tasks: list[str], arms: list[str]) -> dict[str, Any]:
    with open(out / "results.csv", "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["task", "arm", "seed", "final_return", "final_success", "best_return", "wall_time_s"])
        for r in sorted(results, key=lambda r: (r["task"], r["arm"], r["seed"])):
            ev = r["evaluations"]
            w.writerow([r["task"], r["arm"], r["seed"], ev[-1]["return_mean"], ev[-1]["success_rate"],
                        max(e["return_mean"] for e in ev), round(r["wall_time_s"], 1)])  # fmt: skip
    lines = ["| task | arm | seeds | final score | best eval score | mean score over the evals | flag reached (seeds) "
             "| first eval ≥ 90 (steps) | s/run |", "|---|---|---|---|---|---|---|---|---|"]  # fmt: skip
    notes: list[str] = []
    summary: dict[str, Any] = {}
    for task in tasks:
        for arm in arms:
            rs = [r for r in results if r["task"] == task and r["arm"] == arm]
            if not rs:
                continue
            final = np.array([_score(task, r["evaluations"][-1]) for r in rs])
            best = np.array([max(_score(task, e) for e in r["evaluations"]) for r in rs])
            curve = np.array([np.mean([_score(task, e) for e in r["evaluations"]]) for r in rs])
            hits = [next((e["timesteps"] for e in r["evaluations"] if e["return_mean"] >= FLAG), None) for r in rs]
            flag = task.startswith("MountainCar")
            n_hit = sum(h is not None for h in hits)
            wall = float(np.mean([r["wall_time_s"] for r in rs]))
            summary[f"{task}/{arm}"] = {"seeds": len(rs), "final_mean": final.mean(), "final_std": final.std(),
                                        "best_mean": best.mean(), "best_std": best.std(),
                                        "mean_over_evals": curve.mean(), "mean_over_evals_std": curve.std(),
                                        "flag_seeds": n_hit if flag else None, "first_flag_steps": hits,
                                        "wall_time_s": wall}  # fmt: skip
            first = ", ".join("—" if h is None else str(h) for h in hits) if flag else "n/a"
            lines.append(f"| {task} | {arm} | {len(rs)} | {final.mean():.2f} ± {final.std():.2f} | "
                         f"{best.mean():.2f} ± {best.std():.2f} | {curve.mean():.2f} ± {curve.std():.2f} | "
                         f"{f'{n_hit}/{len(rs)}' if flag else 'n/a'} | "
                         f"{first} | {wall:.0f} |")  # fmt: skip
        notes += _versus_base(task, arms, summary, results)
    (out / "summary.json").write_text(json.dumps(summary, indent=1))
    (out / "table.md").write_text("\n".join(lines + ([""] + notes if notes else [])) + "\n")
    _plot(results, out, tasks, arms)
    return summary


def _versus_base(task: str, arms: list[str], summary: dict[str, Any], results: list[dict[str, Any]]) -> list[str]:
    """Each `algo+extra` arm against its plain `algo` arm on the same task: difference of the per-seed mean score
    over the evaluations, and a two-sided Mann-Whitney U p-value (seeds are independent, not paired)."""
    from scipy.stats import mannwhitneyu

    def curves(arm: str) -> list[float]:
        rs = [r for r in results if r["task"] == task and r["arm"] == arm]
        return [float(np.mean([_score(task, e) for e in r["evaluations"]])) for r in rs]

    notes = []
    for arm in arms:
        base = arm.split("+")[0]
        a, b = curves(arm), curves(base)
        if base == arm or len(a) < 2 or len(b) < 2:
            continue
        p = float(mannwhitneyu(a, b, alternative="two-sided").pvalue)
        d = float(np.mean(a) - np.mean(b))
        summary[f"{task}/{arm}"]["vs_base"] = {"base": base, "delta_mean_over_evals": d, "mann_whitney_p": p}
        notes.append(f"- {task}: {arm} − {base}, mean score over the evals: {d:+.3f} "
                     f"({len(a)} vs {len(b)} seeds, Mann-Whitney p = {p:.2f})")  # fmt: skip
    return notes


def _plot(results: list[dict[str, Any]], out: Path, tasks: list[str], arms: list[str]) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from rlspectral.agents.report import evaluation_band

    present = [t for t in tasks if any(r["task"] == t for r in results)]
    if not present:
        return
    fig, axes = plt.subplots(1, len(present), figsize=(4.6 * len(present), 3.6), squeeze=False)
    for ax, task in zip(axes[0], present):
        for arm in arms:
            rs = [r for r in results if r["task"] == task and r["arm"] == arm]
            if not rs:
                continue
            evaluation_band(ax, rs, lambda e, task=task: _score(task, e), arm)
        ax.set_title(task)
        ax.set_xlabel("environment steps")
        ax.set_ylabel("success rate" if task.startswith("PointMaze") else "evaluation return")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(out / "curves.png", dpi=110)
    plt.close(fig)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--out", default="results/continuous")
    p.add_argument("--tasks", nargs="*", default=TASKS)
    p.add_argument("--arms", nargs="*", default=ARMS)
    p.add_argument("--seeds", type=int, default=3)
    p.add_argument("--steps", type=int, default=0, help="env steps per run (0: each task's recipe)")
    p.add_argument("--eval-every", type=int, default=0, help="0: the recipe's")
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--ray", default=None, help="Ray address ('auto' or ray://host:port); default: local processes")
    p.add_argument("--summarize-only", action="store_true")
    args = p.parse_args()
    from rlspectral.agents.recipes import recipe

    from rlspectral.sweep import load_results, run_sweep

    out = Path(args.out)
    jobs = []
    for seed in range(args.seeds):
        for task in args.tasks:
            for arm in args.arms:
                if arm == "sac-zoo" and task != "MountainCarContinuous-v0":
                    continue
                steps = args.steps or recipe(arm_settings(arm, task)[0], task)["steps"]
                cfg = {"task": task, "arm": arm, "seed": seed, "steps": steps, "eval_every": args.eval_every}
                jobs.append({"id": f"{task}__{arm}__s{seed}", "config": cfg})
    t0 = time.time()
    for r in run_sweep("scripts.continuous_benchmark:run_job", [] if args.summarize_only else jobs, out,
                       args.workers, 1, args.ray):  # fmt: skip
        e = r["evaluations"][-1]
        print(f"[{time.time() - t0:6.0f}s] {r['id']}: return {e['return_mean']:.1f} success {e['success_rate']} "
              f"({r['wall_time_s']:.0f}s)", flush=True)  # fmt: skip
    results = [r for r in load_results(out) if r["task"] in args.tasks and r["arm"] in args.arms]
    summarize(results, out, args.tasks, args.arms)
    print((out / "table.md").read_text())


if __name__ == "__main__":
    main()
