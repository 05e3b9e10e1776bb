"""CPU vs GPU on three workloads, one script: steps/s, time to mean cosine 0.99, and where a step's time goes.

    python -m scripts.device_benchmark --out results/device --device cpu       # resumable; one run at a time
    python -m scripts.device_benchmark --out results/device --device cuda      # the same jobs on a GPU (~6 min, H100)
    python -m scripts.device_benchmark --out results/device --summarize-only   # the side-by-side table of both

Workloads (issue 22), every one with the library defaults of ``rlspectral fit`` (batch 8192, cosine schedule,
Rayleigh-Ritz every 100 steps, k + 3 modes learned, the top k scored):

* ``room4-k11-xy``: GridRoom-4, xy inputs (Fourier MLP 3x256), k = 11, 2500 steps (the speed table's workload);
* ``room64-k50-xy``: GridRoom-64 (1088 cells), xy, k = 50, 3000 steps (the k = 50 table's layout);
* ``room16-k11-pixels``: GridRoom-16, one pixel per cell (the CNN), k = 11, 2000 steps.

Each runs with ``dedup`` on (the default: one forward pass per distinct observation), and on a GPU also off
(every pair through the network: fixed shapes, the GPU's possibly better case), one seed. A profile job per workload
and device times the phases of a step over 30 steps after 10 warm-up steps, the device synchronized around each:
sampling pairs, the distinct-row lookup, the forward pass on the distinct rows, the rest of the moments, the backward
pass and optimizer step, and one Rayleigh-Ritz step on the output layer. ``--steps-scale`` shrinks every budget
(a smoke test).
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import numpy as np

from rlspectral import report
from rlspectral.sweep import finished, run_jobs, sweep_parser

WORKLOADS = {
    "room4-k11-xy": {"layout": "GridRoom-4", "obs": "xy", "k": 11, "steps": 2500},
    "room64-k50-xy": {"layout": "GridRoom-64", "obs": "xy", "k": 50, "steps": 3000},
    "room16-k11-pixels": {"layout": "GridRoom-16", "obs": "pixels", "k": 11, "steps": 2000},
}
PHASES = ("sample", "distinct_rows", "forward", "moments_rest", "backward_and_step", "realign")


def _config(job: dict[str, Any]):
    from rlspectral.experiments import GridFitConfig

    w = WORKLOADS[job["workload"]]
    return GridFitConfig(layout=w["layout"], obs=w["obs"], k=w["k"], steps=job["steps"], seed=job["seed"],
                         device=job["device"], dedup=job["dedup"], eval_every=max(10, job["steps"] // 50),
                         threads=job["threads"])  # fmt: skip


def run_job(job: dict[str, Any], job_dir: Path) -> dict[str, Any]:
    """A fit (its scalar metrics and curve) or, for ``kind == "profile"``, the per-phase step times."""
    from rlspectral.experiments import fit_gridworld
    from rlspectral.harness import SCALAR_KEYS

    if job["kind"] == "profile":
        return {**job, **profile(job)}
    m = fit_gridworld(_config(job), progress=False)
    keep = {k: m[k] for k in (*SCALAR_KEYS, "curve") if k != "device"}
    return {**job, **keep, "device_name": m["device"]}


def profile(job: dict[str, Any], warmup: int = 10, steps: int = 30) -> dict[str, Any]:
    """Mean seconds per phase of a default step (module doc) on the job's workload and device."""
    import torch

    from rlspectral.buffer import PairSampler
    from rlspectral.envs.problems import gridworld_problem
    from rlspectral.learner import SpectralLearner, distinct_rows

    cfg = _config(job)
    if cfg.threads:
        torch.set_num_threads(cfg.threads)
    problem = gridworld_problem(cfg.layout, cfg.obs, cfg.k, cfg.episodes, cfg.episode_length, cfg.seed)
    learned = min(problem.info["k"] + cfg.extra_modes, problem.info["n_states"])
    ff = cfg.fourier_features if cfg.obs == "xy" else 0
    lcfg = cfg.learner_config(problem.buffer.obs_shape, learned, ff, cfg.fourier_scale, dedup=cfg.dedup)
    learner = SpectralLearner(lcfg, device=cfg.device)
    sampler = PairSampler(problem.buffer, learner.operator, seed=cfg.seed + 1)
    sync = torch.cuda.synchronize if learner.device.type == "cuda" else (lambda: None)

    def clock(fn, *args):
        sync()
        t0 = time.perf_counter()
        out = fn(*args)
        sync()
        return out, time.perf_counter() - t0

    times: dict[str, list[float]] = {p: [] for p in PHASES}
    distinct: list[int] = []
    for i in range(warmup + steps):
        (x, y), t_sample = clock(sampler, cfg.batch_size)
        x, y = x.to(learner.device), y.to(learner.device)
        both = torch.cat([x, y])
        (rows, _), t_rows = clock(distinct_rows, both)
        _, t_forward = clock(learner.f, rows if cfg.dedup else both)
        _, t_moments = clock(learner.moments, x, y)  # distinct rows + forward + moments, as a step has them
        _, t_update = clock(learner.update, x, y)  # moments + loss + backward + optimizer step
        _, t_realign = clock(learner.realign)
        if i >= warmup:
            lookup = t_rows if cfg.dedup else 0.0
            for name, t in zip(PHASES, (t_sample, lookup, t_forward, t_moments - lookup - t_forward,
                                        t_update - t_moments, t_realign)):  # fmt: skip
                times[name].append(t)
            distinct.append(rows.shape[0])
    mean = {f"{p}_s": float(np.mean(v)) for p, v in times.items()}
    step = sum(mean[f"{p}_s"] for p in PHASES if p != "realign") + mean["realign_s"] / max(1, cfg.realign_every)
    return {**mean, "step_s": step, "distinct_rows": float(np.mean(distinct)), "batch_size": cfg.batch_size,
            "device_name": _device_name(learner.device)}  # fmt: skip


def _device_name(device) -> str:
    from rlspectral.harness import _device_name as name

    return name(device)


def summarize(results: list[dict[str, Any]], out: Path) -> None:
    """``table.md`` and ``summary.json``: per workload, dedup and device, steps/s, time to 0.99, final cosines, and
    the profile's phases (ms per step); a GPU row also shows its speed-up over the CPU row."""
    fits = [r for r in results if r["kind"] == "fit"]
    profiles = [r for r in results if r["kind"] == "profile"]
    rows, summary = [], {}
    for w in WORKLOADS:
        for dedup in (True, False):
            cpu = report.select(fits, workload=w, dedup=dedup, device="cpu")
            for r in sorted(report.select(fits, workload=w, dedup=dedup), key=lambda r: r["device"]):
                speedup = f"{r['steps_per_s'] / cpu[0]['steps_per_s']:.1f}x" if cpu and r["device"] != "cpu" else ""
                t99 = r["time_to_0.99_s"]
                rows.append([w, "on" if dedup else "off", r["device_name"], r["steps"],
                             f"{r['steps_per_s']:.1f}", speedup, "not reached" if t99 is None else f"{t99:.1f}",
                             f"{r['mean_cosine_similarity']:.4f}",
                             f"{r['rr_mean_cosine_similarity']:.4f}"])  # fmt: skip
                summary[f"{w}/dedup={dedup}/{r['device']}"] = {k: r[k] for k in ("steps_per_s", "time_to_0.99_s",
                                                                                 "mean_cosine_similarity")}  # fmt: skip
    header = ["workload", "dedup", "device", "steps", "steps/s", "vs CPU", "time to 0.99 (s)", "final mean cos",
              "final RR cos"]  # fmt: skip
    lines = [*report.markdown_table(header, rows), ""]
    prow = []
    for r in sorted(profiles, key=lambda r: (r["workload"], r["device"])):
        prow.append([r["workload"], r["device_name"], f"{r['distinct_rows']:.0f} / {2 * r['batch_size']}",
                     *(f"{1e3 * r[f'{p}_s']:.2f}" for p in PHASES), f"{1e3 * r['step_s']:.2f}"])  # fmt: skip
        summary[f"profile/{r['workload']}/{r['device']}"] = {p: r[f"{p}_s"] for p in PHASES}
    pheader = ["workload", "device", "distinct rows / batch rows", *(f"{p} (ms)" for p in PHASES),
               "step (ms, realign / 100)"]  # fmt: skip
    lines += report.markdown_table(pheader, prow)
    report.write_markdown(out / "table.md", lines)
    report.write_json(out / "summary.json", summary)


def main(argv: list[str] | None = None) -> None:
    p = sweep_parser(__doc__, "results/device", seeds=None, workers=None, threads="--threads", threads_default=0,
                     ray=False)  # fmt: skip
    p.add_argument("--device", default="cpu", help="cpu or cuda")
    p.add_argument("--workloads", nargs="+", default=list(WORKLOADS), choices=list(WORKLOADS))
    p.add_argument("--steps-scale", type=float, default=1.0, help="multiply every budget (0.02: smoke)")
    args = p.parse_args(argv)
    tag = args.device.replace(":", "")
    jobs = []
    for w in args.workloads:
        steps = max(20, int(WORKLOADS[w]["steps"] * args.steps_scale))
        base = {"workload": w, "device": args.device, "threads": args.threads, "seed": 0, "steps": steps}
        jobs.append({"id": f"{tag}__{w}__profile", "kind": "profile", "dedup": True, **base})
        for dedup in (True, False) if args.device != "cpu" else (True,):  # off on a CPU: ~10x slower per step
            jobs.append({"id": f"{tag}__{w}__dedup{int(dedup)}", "kind": "fit", "dedup": dedup, **base})

    def describe(r: dict[str, Any]) -> str:
        if r["kind"] == "profile":
            return " ".join(f"{ph}={1e3 * r[f'{ph}_s']:.1f}ms" for ph in PHASES)
        return f"{r['steps_per_s']:.1f} steps/s, t99={r['time_to_0.99_s']}, final {r['mean_cosine_similarity']:.4f}"

    args.workers = 1
    run_jobs("scripts.device_benchmark:run_job", jobs, args, describe)
    out = Path(args.out)
    summarize(finished(out), out)
    print((out / "table.md").read_text())


if __name__ == "__main__":
    main()
