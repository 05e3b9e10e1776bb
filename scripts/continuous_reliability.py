"""Reliability of online spectral learning beside SAC: a long run, memory and throughput, side by side.

    python scripts/continuous_reliability.py --out results/reliability                      # 200k steps, resumable
    python scripts/continuous_reliability.py --out results/reliability --summarize-only

One long run per spectral arm (default ``sac+novelty``: eigenfunctions learned online from the agent's own
replay, 50 updates of batch 1024 every 1000 env steps, and the novelty bonus computed at every SAC update) and
plain SAC for comparison, on ``Pendulum-v1`` with the library's SAC recipe. Every ``--every`` env steps
:class:`rlspectral.agents.monitor.ResourceMonitor` records resident memory, the peak, steps/s over the window, and the
learner's eigenvalues and whether its weights are finite. The spectral learner raises on a NaN/inf loss, so a run
that finishes did not diverge. ``--baseline-steps`` shortens the plain-SAC run (its throughput is flat).

Writes ``<arm>/resources.csv`` (as the run goes), ``summary.json``, ``table.md`` and ``resources.png``.
The steps/s ratio is taken over the wall-clock window in which all arms ran at once (the default: one process
per arm, started together), so both see the same machine load.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def run_job(job: dict[str, Any], job_dir: Path) -> dict[str, Any]:
    from rlspectral.agents.monitor import ResourceMonitor
    from rlspectral.agents.train import train

    from scripts.continuous_benchmark import arm_settings

    c = job["config"]
    algo, features, bonus, overrides = arm_settings(c["arm"], c["task"])
    csv_path = job_dir / "resources.csv"
    csv_path.unlink(missing_ok=True)  # a restarted job starts its log afresh
    monitor = ResourceMonitor(every=c["every"], path=csv_path)
    res = train(c["task"], algo, features, bonus, c["steps"], c["seed"], job_dir, progress=False, threads=1,
                eval_every=c["eval_every"], callbacks=[monitor], **overrides)  # fmt: skip
    return {"id": job["id"], "task": c["task"], "arm": c["arm"], "seed": c["seed"], "steps": c["steps"],
            "wall_time_s": res["wall_time_s"], "evaluations": res["evaluations"], "resources": monitor.history,
            "summary": monitor.summary(), "spectral": res.get("spectral")}  # fmt: skip


def shared_window_rates(results: list[dict[str, Any]], warmup: int) -> tuple[dict[str, float], float]:
    """Each arm's env steps/s over the wall-clock interval in which all arms ran at once (past ``warmup`` steps),
    so that the arms are compared under the same machine load; and that interval's length in seconds. The
    monitor's clock is ``time.perf_counter`` (CLOCK_MONOTONIC on Linux), common to the processes of a machine."""
    tracks = {r["arm"]: [(x["wall_s"], x["timesteps"]) for x in r["resources"] if x["timesteps"] >= warmup]
              for r in results}  # fmt: skip
    if any(len(t) < 2 for t in tracks.values()):
        return {}, 0.0
    t0, t1 = max(t[0][0] for t in tracks.values()), min(t[-1][0] for t in tracks.values())
    if t1 <= t0:
        return {}, 0.0
    rates = {}
    for arm, t in tracks.items():
        w, n = np.array(t).T
        rates[arm] = float((np.interp(t1, w, n) - np.interp(t0, w, n)) / (t1 - t0))
    return rates, float(t1 - t0)


def summarize(results: list[dict[str, Any]], out: Path) -> dict[str, Any]:
    base = next((r for r in results if r["arm"] == "sac"), None)
    shared, span = shared_window_rates(results, warmup=20_000)
    lines = [f"Steps/s in the shared window: over the {span:.0f} s in which all arms ran at once (past 20k steps).",
             "", "| arm | env steps | wall (s) | steps/s (shared window) | vs plain SAC | steps/s (own run, after the "
             "first quarter) | peak RSS (MiB) | RSS growth after first quarter (MiB) | spectral updates "
             "| weights finite | final eval return |", "|---|---|---|---|---|---|---|---|---|---|---|"]  # fmt: skip
    summary: dict[str, Any] = {}
    for r in sorted(results, key=lambda r: r["arm"] != "sac"):
        s = r["summary"]
        rate = shared.get(r["arm"])
        ratio = rate / shared["sac"] if base and rate is not None and shared.get("sac") else None
        final = r["evaluations"][-1]["return_mean"] if r["evaluations"] else None
        summary[r["arm"]] = {**s, "steps": r["steps"], "wall_time_s": r["wall_time_s"], "speed_vs_sac": ratio,
                             "steps_per_s_shared_window": rate, "shared_window_s": span,
                             "final_return": final}  # fmt: skip
        lines.append(
            f"| {r['arm']} | {r['steps']} | {r['wall_time_s']:.0f} | {'—' if rate is None else f'{rate:.1f}'} | "
            f"{'—' if ratio is None else f'{ratio:.2f}'} | {s['steps_per_s_steady']:.1f} | {s['peak_rss_mb']:.0f} | "
            f"{s['rss_growth_after_first_quarter_mb']:+.1f} | {s.get('spectral_updates', '—')} | "
            f"{s.get('weights_finite_throughout', '—')} | {final:.1f} |"
        )
    (out / "table.md").write_text("\n".join(lines) + "\n")
    (out / "summary.json").write_text(json.dumps(summary, indent=1))
    _plot(results, out / "resources.png")
    print("\n".join(lines))
    return summary


def _plot(results: list[dict[str, Any]], path: Path) -> None:
    """Three panels over env steps: resident memory, steps/s per window, the spectral arms' eigenvalues."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 3, figsize=(14, 3.6))
    for r in results:
        rows = [x for x in r["resources"] if x["timesteps"] > 0]
        t = np.array([x["timesteps"] for x in rows]) / 1000
        axes[0].plot(t, [x["rss_mb"] for x in rows], label=r["arm"])
        axes[1].plot(t, [x["steps_per_s"] for x in rows], label=r["arm"])
        if rows and "eigenvalues" in rows[-1]:
            ev = np.array([x["eigenvalues"] for x in rows])
            for i in range(ev.shape[1]):
                axes[2].plot(t, ev[:, i], lw=0.9, label=r["arm"] if i == 0 else None)
    for ax, title in zip(axes, ("resident memory (MiB)", "env steps/s (per window)", "learned eigenvalues")):
        ax.set_title(title)
        ax.set_xlabel("env steps (k)")
        ax.grid(alpha=0.3)
    axes[0].legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--out", default="results/reliability")
    p.add_argument("--task", default="Pendulum-v1")
    p.add_argument("--arms", nargs="*", default=["sac+novelty", "sac"])
    p.add_argument("--steps", type=int, default=200_000)
    p.add_argument("--baseline-steps", type=int, default=None, help="env steps of plain SAC (default: --steps)")
    p.add_argument("--every", type=int, default=5000, help="env steps between two resource readings")
    p.add_argument("--eval-every", type=int, default=20_000)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--summarize-only", action="store_true")
    args = p.parse_args()
    from rlspectral.sweep import load_results, run_sweep

    out = Path(args.out)
    jobs = [
        {
            "id": f"{arm}",
            "config": {
                "task": args.task,
                "arm": arm,
                "seed": args.seed,
                "every": args.every,
                "eval_every": args.eval_every,
                "steps": args.baseline_steps if arm == "sac" and args.baseline_steps else args.steps,
            },
        }  # fmt: skip
        for arm in args.arms
    ]
    t0 = time.time()
    for r in run_sweep("scripts.continuous_reliability:run_job", [] if args.summarize_only else jobs, out,
                       args.workers, 1):  # fmt: skip
        print(f"[{time.time() - t0:6.0f}s] {r['id']}: {r['summary']}", flush=True)
    results = load_results(out)
    if results:
        summarize(results, out)


if __name__ == "__main__":
    main()
