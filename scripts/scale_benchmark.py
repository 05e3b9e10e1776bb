"""Data-parallel scaling on this machine: steps/s and time to mean cosine 0.99 vs processes (1, 2, 4) on GridRoom-4,
xy, k = 11 (the speed table's workload, scripts/speed_benchmark.py), every run launched exactly as a user would:

    python -m torch.distributed.run --standalone --nproc-per-node N -m rlspectral.cli fit --threads T ...

    python -m scripts.scale_benchmark --out results/scale                   # resumable, one run at a time
    python -m scripts.scale_benchmark --out results/scale --summarize-only  # table + plot from finished runs

Rows: ``default`` is the library default (one forward pass per distinct cell of a batch of 8192 pairs, Fourier MLP
3x256, 1000 steps, cosine schedule, Rayleigh-Ritz every 100 steps; the speed table's 0.99 comes at ~650 steps);
``no-dedup`` sends all 8192 pairs through the network (the same fit with ``dedup`` off: a step bound by arithmetic
on the batch), 100 steps, steps/s only. The load average of the machine at the start and end of each run is kept
(other work shares the cores: it decides how much CPU each process gets). The
global batch stays 8192: N processes draw 8192 / N pairs each. Every (processes, threads) point runs ``--seeds``
seeds. A probe (``--probe``, run under torchrun by the benchmark itself) times gloo all-reduces of the moment and
gradient sizes of the default network, the communication each data-parallel step adds.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

from rlspectral import report
from rlspectral.plots import pyplot, save_figure
from rlspectral.sweep import finished, run_jobs, sweep_parser

POINTS = [(1, 1), (1, 2), (2, 1), (4, 1)]  # (processes, torch threads per process); the machine has 2 cores
VARIANTS = {"default": {"steps": 1000, "eval_every": 50}, "no-dedup": {"steps": 100, "eval_every": 50}}


def torchrun(processes: int) -> list[str]:
    return [sys.executable, "-m", "torch.distributed.run", "--standalone", f"--nproc-per-node={processes}"]


def run_job(job: dict[str, Any], job_dir: Path) -> dict[str, Any]:
    """One ``rlspectral fit`` under torchrun (or the all-reduce probe); its metrics (no files kept)."""
    env = {**os.environ, "OMP_NUM_THREADS": str(job["threads"])}
    tmp = Path(tempfile.mkdtemp(prefix="scale_"))
    try:
        if job["variant"] == "probe":
            cmd = [*torchrun(job["processes"]), "-m", "scripts.scale_benchmark", "--probe", str(tmp / "probe.json")]
        else:
            cmd = [*torchrun(job["processes"]), "-m", "rlspectral.cli", "fit", "--env", job["layout"], "--k", "11",
                   "--seed", str(job["seed"]), "--steps", str(job["steps"]), "--threads", str(job["threads"]),
                   "--out", str(tmp / "fit"), "--no-progress"]  # fmt: skip
            if job["variant"] == "no-dedup":
                cmd.append("--no-dedup")
        load = os.getloadavg()[0]
        t0 = time.perf_counter()
        res = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=Path(__file__).resolve().parents[1])
        wall = time.perf_counter() - t0
        job = {**job, "load_avg_1min": [load, os.getloadavg()[0]]}
        if res.returncode != 0:
            raise RuntimeError(f"{job['id']}: {' '.join(cmd)} failed:\n{res.stderr[-3000:]}")
        if job["variant"] == "probe":
            return {**job, **json.loads((tmp / "probe.json").read_text()), "command_wall_s": wall}
        from rlspectral.harness import SCALAR_KEYS

        m = json.loads((tmp / "fit" / "metrics.json").read_text())
        keep = {k: m[k] for k in (*SCALAR_KEYS, "curve", "processes")}
        return {**job, **keep, "command_wall_s": wall}
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def probe(path: str, repeats: int = 200) -> None:
    """Under torchrun: mean seconds of a gloo all-reduce of the default fit's moments (3 x 2 chunks of 14 x 14)
    and of its gradients (the parameters of the Fourier MLP 3x256 with 14 outputs), written to ``path`` by rank 0."""
    import torch

    from rlspectral import distributed
    from rlspectral.networks import EigenNetwork, NetworkConfig

    distributed.init_from_environment("cpu")
    net = EigenNetwork(NetworkConfig(obs_shape=(2,), k=14, hidden=(256, 256, 256), fourier_features=64))
    sizes = {"moments": 2 * 2 * 14 * 14, "gradients": sum(p.numel() for p in net.parameters())}
    out: dict[str, Any] = {"floats": sizes}
    for name, n in sizes.items():
        x = torch.ones(n)
        for _ in range(10):
            torch.distributed.all_reduce(x)
        torch.distributed.barrier()
        t0 = time.perf_counter()
        for _ in range(repeats):
            torch.distributed.all_reduce(x)
        out[f"{name}_allreduce_s"] = (time.perf_counter() - t0) / repeats
    if distributed.is_main():
        Path(path).write_text(json.dumps(out))
    distributed.close()


def summarize(results: list[dict[str, Any]], out: Path) -> dict[str, Any]:
    """``table.md``, ``summary.json`` and ``scale.png`` from finished runs (mean ± sample std over seeds)."""
    rows, summary = [], {}
    for variant in VARIANTS:
        for procs, threads in POINTS:
            rs = report.select(results, variant=variant, processes=procs, threads=threads)
            if not rs:
                continue
            sps = [r["steps_per_s"] for r in rs]
            t99 = [r["time_to_0.99_s"] for r in rs]
            hit = [t for t in t99 if t is not None]
            t99_txt = report.pm(hit, ".1f", ddof=1, std_of_one=False) if hit else "not reached"
            if hit and len(hit) < len(t99):
                t99_txt += f" ({len(hit)}/{len(t99)} seeds)"
            if variant == "no-dedup":
                t99_txt = "– (steps/s only)"
            fin = [r["mean_cosine_similarity"] for r in rs]
            summary[f"{variant}/{procs}x{threads}"] = {
                "seeds": len(rs), "steps_per_s": float(np.mean(sps)), "time_to_0.99_s": float(np.mean(hit)) if hit
                else None, "final": float(np.mean(fin)), "command_wall_s": float(np.mean([r["command_wall_s"] for r
                in rs])),
            }  # fmt: skip
            rows.append([variant, procs, threads, len(rs), report.pm(sps, ".1f", ddof=1, std_of_one=False), t99_txt,
                         report.pm(fin, ".4f", ddof=1, std_of_one=False),
                         report.pm([r["command_wall_s"] for r in rs], ".0f", ddof=1, std_of_one=False),
                         report.pm([float(np.mean(r["load_avg_1min"])) for r in rs], ".1f", ddof=1,
                                   std_of_one=False)])  # fmt: skip
    header = ["variant", "processes", "threads each", "seeds", "steps/s", "time to 0.99 (s)", "final mean cos",
              "command wall (s)", "load avg (1 min)"]  # fmt: skip
    lines = [*report.markdown_table(header, rows)]
    for r in report.select(results, variant="probe"):
        lines.append(
            f"\nAll-reduce probe ({r['processes']} processes, gloo): moments {r['floats']['moments']} floats "
            f"{1e3 * r['moments_allreduce_s']:.2f} ms, gradients {r['floats']['gradients']} floats "
            f"{1e3 * r['gradients_allreduce_s']:.2f} ms per all-reduce"
        )
        summary[f"probe/{r['processes']}"] = {k: r[k] for k in ("moments_allreduce_s", "gradients_allreduce_s")}
    devices = sorted({r.get("device", "") for r in results if r.get("device")})
    report.write_markdown(out / "table.md", [f"Device: {', '.join(devices)}\n", *lines])
    report.write_json(out / "summary.json", summary)
    _plot(summary, out / "scale.png")
    return summary


def _plot(summary: dict[str, Any], path: Path) -> None:
    """Steps/s and time to 0.99 vs processes (1 thread each); the 1-process 2-thread point as a separate marker."""
    fig, axes = pyplot().subplots(1, 2, figsize=(10, 3.6))
    for variant, style, color in (("default", "o-", "C0"), ("no-dedup", "s--", "C2")):
        pts = [(p, summary[f"{variant}/{p}x1"]) for p in (1, 2, 4) if f"{variant}/{p}x1" in summary]
        if not pts:
            continue
        axes[0].plot(
            [p for p, _ in pts],
            [s["steps_per_s"] for _, s in pts],
            style,
            color=color,
            label=f"{variant}, 1 thread each",
        )
        two = summary.get(f"{variant}/1x2")
        if two:
            axes[0].plot(
                [1],
                [two["steps_per_s"]],
                style[0],
                color=color,
                mfc="none",
                ms=10,
                label=f"{variant}, 1 process x 2 threads",
            )
        t = [(p, s["time_to_0.99_s"]) for p, s in pts if s["time_to_0.99_s"] is not None]
        if t and variant == "default":
            axes[1].plot([p for p, _ in t], [v for _, v in t], style, color=color, label=f"{variant}, 1 thread each")
            if two and two["time_to_0.99_s"] is not None:
                axes[1].plot(
                    [1],
                    [two["time_to_0.99_s"]],
                    style[0],
                    color=color,
                    mfc="none",
                    ms=10,
                    label="1 process x 2 threads",
                )
    axes[0].set_yscale("log")
    axes[1].set_yscale("log")
    for ax, ylabel in zip(axes, ("steps/s (log)", "training time to mean cosine 0.99 (s, log)")):
        ax.set_xlabel("processes (torchrun, gloo)")
        ax.set_ylabel(ylabel)
        ax.set_xticks([1, 2, 4])
        ax.grid(alpha=0.3)
        if ax.get_legend_handles_labels()[0]:
            ax.legend(fontsize=7)
    fig.suptitle("GridRoom-4, xy, k = 11, global batch 8192: data-parallel on a 2-core CPU", fontsize=10)
    save_figure(fig, path)


def main(argv: list[str] | None = None) -> None:
    if argv is None and len(sys.argv) == 3 and sys.argv[1] == "--probe":
        return probe(sys.argv[2])
    p = sweep_parser(__doc__, "results/scale", seeds=2, workers=None, ray=False)
    p.add_argument("--layout", default="GridRoom-4")
    p.add_argument("--steps", type=int, default=VARIANTS["default"]["steps"], help="default variant's steps")
    p.add_argument(
        "--points",
        nargs="+",
        default=[f"{n}x{t}" for n, t in POINTS],
        choices=[f"{n}x{t}" for n, t in POINTS],
        help="processes x threads to run (all by default)",
    )
    args = p.parse_args(argv)
    points = [(n, t) for n, t in POINTS if f"{n}x{t}" in args.points]
    steps = {"default": args.steps, "no-dedup": min(args.steps, VARIANTS["no-dedup"]["steps"])}
    jobs = [
        {"id": f"{variant}__p{procs}t{threads}__s{seed}", "variant": variant, "layout": args.layout,
         "processes": procs, "threads": threads, "seed": seed, **VARIANTS[variant], "steps": steps[variant]}
        for variant in VARIANTS
        for seed in range(args.seeds if variant == "default" else 1)
        for procs, threads in points
    ]  # fmt: skip
    jobs += [{"id": f"probe__p{n}", "variant": "probe", "processes": n, "threads": 1} for n in (2, 4)]

    def describe(r: dict[str, Any]) -> str:
        if r["variant"] == "probe":
            return f"moments {r['moments_allreduce_s'] * 1e3:.2f} ms, grads {r['gradients_allreduce_s'] * 1e3:.2f} ms"
        return f"{r['steps_per_s']:.1f} steps/s, t99={r['time_to_0.99_s']}, final {r['mean_cosine_similarity']:.4f}"

    args.workers, args.threads = 1, 0  # one run at a time; each run sets its own threads
    run_jobs("scripts.scale_benchmark:run_job", jobs, args, describe)
    out = Path(args.out)
    summarize(finished(out), out)
    print((out / "table.md").read_text())


if __name__ == "__main__":
    main()
