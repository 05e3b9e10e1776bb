"""Continuous control: SAC / TD3 with a spectral exploration bonus vs SB3 defaults vs the RL Zoo's tuned SAC.

    python -m scripts.continuous_benchmark --out results/continuous                   # resumable, 2 processes
    python -m scripts.continuous_benchmark --tasks PointMaze_Medium-v3 --arms sac sac+novelty --seeds 3
    python -m scripts.continuous_benchmark --out results/continuous --summarize-only  # tables from finished runs

Arms (same env steps per task; recipes and ``arm_settings`` in ``rlspectral.agents.recipes``):

* ``sac`` / ``td3``: SB3's default hyperparameters, raw observations;
* ``sac+novelty`` / ``td3+novelty`` / ``sac+eigenpurpose``: the same agent plus the spectral bonus, eigenfunctions
  learned online from the agent's own replay (``SpectralCallback``), inputs rescaled by the Box bounds;
* ``sac+features``: SB3 defaults with the online eigenfunctions concatenated to the observation (``both``);
* ``sac-zoo``: the RL Zoo's tuned SAC (MountainCarContinuous only: gSDE, gamma 0.9999; ``ZOO_SAC_MOUNTAINCAR``).

Tasks: ``MountainCarContinuous-v0`` (the flag: evaluation return >= 90), ``PointMaze_UMaze-v3`` /
``PointMaze_Medium-v3`` (success rate; ``pip install -e '.[robotics]'``), ``Pendulum-v1`` (final return, a sanity
check that the spectral side does not hurt). Writes ``results.csv``, ``summary.json``, ``table.md`` and
``curves.png`` (evaluation return / success vs env steps, mean ± sample std over seeds) into ``--out``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from rlspectral import report
from rlspectral.agents.recipes import arm_settings, recipe
from rlspectral.plots import pyplot, save_figure
from rlspectral.sweep import finished, run_jobs, seed_range, sweep_parser

TASKS = ["MountainCarContinuous-v0", "PointMaze_Medium-v3", "Pendulum-v1"]
ARMS = ["sac", "sac+novelty", "sac-zoo"]
FLAG = 90.0  # MountainCarContinuous: an evaluation return of at least 90 means the car reached the flag


def run_job(job: dict[str, Any], job_dir: Path) -> dict[str, Any]:
    """One training run of an arm on a task (``rlspectral.agents.train``)."""
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
    def row(r: dict[str, Any]) -> dict[str, Any]:
        ev = r["evaluations"]
        best = max(e["return_mean"] for e in ev)
        return {**r, "final_return": ev[-1]["return_mean"], "final_success": ev[-1]["success_rate"],
                "best_return": best, "wall_time_s": round(r["wall_time_s"], 1)}  # fmt: skip

    rows = [row(r) for r in sorted(results, key=lambda r: (r["task"], r["arm"], r["seed"]))]
    report.write_csv(out / "results.csv", rows, ["task", "arm", "seed", "final_return", "final_success", "best_return",
                                          "wall_time_s"])  # fmt: skip
    table = []
    summary: dict[str, Any] = {}
    for (task, arm), rs in report.groups(results, task=tasks, arm=arms):
        final = [_score(task, r["evaluations"][-1]) for r in rs]
        best = [max(_score(task, e) for e in r["evaluations"]) for r in rs]
        curve = [float(np.mean([_score(task, e) for e in r["evaluations"]])) for r in rs]
        hits = [report.first_step(((e["timesteps"], e["return_mean"]) for e in r["evaluations"]), FLAG) for r in rs]
        flag = task.startswith("MountainCar")
        n_hit = sum(h is not None for h in hits)
        wall = float(np.mean([r["wall_time_s"] for r in rs]))
        (fm, fs), (bm, bs), (cm, cs) = report.mean_std(final), report.mean_std(best), report.mean_std(curve)
        summary[f"{task}/{arm}"] = {"seeds": len(rs), "final_mean": fm, "final_std": fs, "best_mean": bm,
                                    "best_std": bs, "mean_over_evals": cm, "mean_over_evals_std": cs,
                                    "flag_seeds": n_hit if flag else None, "first_flag_steps": hits,
                                    "wall_time_s": wall}  # fmt: skip
        first = ", ".join("—" if h is None else str(h) for h in hits) if flag else "n/a"
        reached = f"{n_hit}/{len(rs)}" if flag else "n/a"
        table.append([task, arm, len(rs), report.pm(final), report.pm(best), report.pm(curve), reached, first,
                      f"{wall:.0f}"])  # fmt: skip
    notes = [note for task in tasks for note in _versus_base(task, arms, summary, results)]
    header = ["task", "arm", "seeds", "final score", "best eval score", "mean score over the evals",
              "flag reached (seeds)", f"first eval ≥ {FLAG:.0f} (steps)", "s/run"]  # fmt: skip
    lines = report.markdown_table(header, table)
    report.write_json(out / "summary.json", summary)
    report.write_markdown(out / "table.md", lines + ([""] + notes if notes else []))
    _plot(results, out, tasks, arms)
    return summary


def _versus_base(task: str, arms: list[str], summary: dict[str, Any], results: list[dict[str, Any]]) -> list[str]:
    """Each `algo+extra` arm against its plain `algo` arm on the same task: difference of the per-seed mean score
    over the evaluations, and a two-sided Mann-Whitney U p-value (seeds are independent, not paired)."""
    from scipy.stats import mannwhitneyu

    def curves(arm: str) -> list[float]:
        rs = report.select(results, task=task, arm=arm)
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
    from rlspectral.agents.report import evaluation_band

    present = [t for t in tasks if report.select(results, task=t)]
    if not present:
        return
    fig, axes = pyplot().subplots(1, len(present), figsize=(4.6 * len(present), 3.6), squeeze=False)
    for ax, task in zip(axes[0], present):
        for (arm,), rs in report.groups(report.select(results, task=task), arm=arms):
            evaluation_band(ax, rs, lambda e, task=task: _score(task, e), arm)
        ax.set_title(task)
        ax.set_xlabel("environment steps")
        ax.set_ylabel("success rate" if task.startswith("PointMaze") else "evaluation return")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7)
    save_figure(fig, out / "curves.png")


def make_jobs(args: Any) -> list[dict[str, Any]]:
    """One run per (seed, task, arm); ``sac-zoo`` on MountainCarContinuous only."""
    jobs = []
    for seed in seed_range(args):
        for task in args.tasks:
            for arm in args.arms:
                if arm == "sac-zoo" and task != "MountainCarContinuous-v0":
                    continue
                steps = args.steps or recipe(arm_settings(arm, task)[0], task)["steps"]
                cfg = {"task": task, "arm": arm, "seed": seed, "steps": steps, "eval_every": args.eval_every}
                jobs.append({"id": f"{task}__{arm}__s{seed}", "config": cfg})
    return jobs


def main(argv: list[str] | None = None) -> None:
    p = sweep_parser(__doc__, "results/continuous")
    p.add_argument("--tasks", nargs="*", default=TASKS)
    p.add_argument("--arms", nargs="*", default=ARMS)
    p.add_argument("--steps", type=int, default=0, help="env steps per run (0: each task's recipe)")
    p.add_argument("--eval-every", type=int, default=0, help="0: the recipe's")
    args = p.parse_args(argv)
    out = Path(args.out)

    def describe(r: dict[str, Any]) -> str:
        e = r["evaluations"][-1]
        return f"return {e['return_mean']:.1f} success {e['success_rate']} ({r['wall_time_s']:.0f}s)"

    run_jobs("scripts.continuous_benchmark:run_job", make_jobs(args), args, describe)
    results = finished(out, keep=lambda r: r["task"] in args.tasks and r["arm"] in args.arms)  # any seeds
    summarize(results, out, args.tasks, args.arms)
    print((out / "table.md").read_text())


if __name__ == "__main__":
    main()
