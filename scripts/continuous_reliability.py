"""Reliability of online spectral learning beside SAC: a long run, memory and throughput, side by side.

    python -m scripts.continuous_reliability --out results/reliability                   # 200k steps, resumable
    python -m scripts.continuous_reliability --out results/reliability --summarize-only  # tables from the runs

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

from pathlib import Path
from typing import Any

import numpy as np

from rlspectral import report
from rlspectral.plots import pyplot, save_figure
from rlspectral.sweep import finished, run_jobs, sweep_parser


def run_job(job: dict[str, Any], job_dir: Path) -> dict[str, Any]:
    """One long training run of an arm with a :class:`ResourceMonitor` beside it."""
    from rlspectral.agents.monitor import ResourceMonitor
    from rlspectral.agents.recipes import arm_settings
    from rlspectral.agents.train import train

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
    header = ["arm", "env steps", "wall (s)", "steps/s (shared window)", "vs plain SAC",
              "steps/s (own run, after the first quarter)", "peak RSS (MiB)", "RSS growth after first quarter (MiB)",
              "spectral updates", "weights finite", "final eval return"]  # fmt: skip
    rows = []
    summary: dict[str, Any] = {}
    for r in sorted(results, key=lambda r: r["arm"] != "sac"):
        s = r["summary"]
        rate = shared.get(r["arm"])
        ratio = rate / shared["sac"] if base and rate is not None and shared.get("sac") else None
        final = r["evaluations"][-1]["return_mean"] if r["evaluations"] else None
        summary[r["arm"]] = {**s, "steps": r["steps"], "wall_time_s": r["wall_time_s"], "speed_vs_sac": ratio,
                             "steps_per_s_shared_window": rate, "shared_window_s": span,
                             "final_return": final}  # fmt: skip
        rows.append([r["arm"], r["steps"], f"{r['wall_time_s']:.0f}", "—" if rate is None else f"{rate:.1f}",
                     "—" if ratio is None else f"{ratio:.2f}", f"{s['steps_per_s_steady']:.1f}",
                     f"{s['peak_rss_mb']:.0f}", f"{s['rss_growth_after_first_quarter_mb']:+.1f}",
                     s.get("spectral_updates", "—"), s.get("weights_finite_throughout", "—"),
                     f"{final:.1f}"])  # fmt: skip
    lines = [f"Steps/s in the shared window: over the {span:.0f} s in which all arms ran at once (past 20k steps).",
             "", *report.markdown_table(header, rows)]  # fmt: skip
    report.write_markdown(out / "table.md", lines)
    report.write_json(out / "summary.json", summary)
    _plot(results, out / "resources.png")
    print("\n".join(lines))
    return summary


def _plot(results: list[dict[str, Any]], path: Path) -> None:
    """Three panels over env steps: resident memory, steps/s per window, the spectral arms' eigenvalues."""
    fig, axes = pyplot().subplots(1, 3, figsize=(14, 3.6))
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
    save_figure(fig, path)


def main(argv: list[str] | None = None) -> None:
    p = sweep_parser(__doc__, "results/reliability", seeds=None, ray=False)
    p.add_argument("--task", default="Pendulum-v1")
    p.add_argument("--arms", nargs="*", default=["sac+novelty", "sac"])
    p.add_argument("--steps", type=int, default=200_000)
    p.add_argument("--baseline-steps", type=int, default=None, help="env steps of plain SAC (default: --steps)")
    p.add_argument("--every", type=int, default=5000, help="env steps between two resource readings")
    p.add_argument("--eval-every", type=int, default=20_000)
    p.add_argument("--seed", type=int, default=0)
    args = p.parse_args(argv)
    jobs = [
        {
            "id": arm,
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
    run_jobs("scripts.continuous_reliability:run_job", jobs, args, lambda r: str(r["summary"]))
    results = finished(args.out)
    if results:
        summarize(results, Path(args.out))


if __name__ == "__main__":
    main()
