"""Speed on this machine: GridRoom-4, xy, k = 11 — time to 0.95 / 0.99 mean cosine and steps/s, side by side.

    python -m scripts.speed_benchmark --out results/speed     # resumable; runs one job at a time, all threads
    python -m scripts.speed_benchmark --out results/speed_gpu --device cuda     # the same on a GPU
    python -m scripts.speed_benchmark --out results/speed --summarize-only      # the table from finished runs

Every method runs with the library defaults (dedup forward passes, batch 8192, Fourier-feature MLP 3x256,
cosine schedule), ALLO at its authors' training settings (``allo+published``: batch 1024, so 8x the steps for
the same pairs, evaluated every 8x the steps), plus one "straightforward" NestedLoRA configuration (batch 1024,
plain MLP 3x256, lr 1e-3, no dedup) as the reference the speed-up is measured against. Training time excludes
evaluation.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from rlspectral import report
from rlspectral.experiments import GridFitConfig, published_at_pairs
from rlspectral.plots import pyplot, save_figure, seed_band, seed_curves
from rlspectral.sweep import finished, run_jobs, seed_range, sweep_parser

METHODS = ["nested-lora", "nested-omm", "allo-tuned", "ggdo"]  # allo-tuned: the settings the tables ran
STRAIGHTFORWARD = {
    "batch_size": 1024,
    "fourier_features": 0,
    "lr": 1e-3,
    "dedup": False,
    "realign_every": 0,
    "extra_modes": 0,
}


def run_job(job: dict[str, Any], job_dir: Path) -> dict[str, Any]:
    """One gridworld fit, its learning curve kept (no files)."""
    from rlspectral.experiments import fit_gridworld
    from rlspectral.harness import SCALAR_KEYS

    m = fit_gridworld(GridFitConfig(**job["config"]), progress=False)
    keep = (*SCALAR_KEYS, "curve")
    return {"id": job["id"], "variant": job["variant"], "seed": job["config"]["seed"], **{k: m[k] for k in keep}}


def summarize(results: list[dict[str, Any]], out: Path, layout: str) -> dict[str, Any]:
    """``table.md``, ``summary.json`` and ``speed.png``: per method and variant, steps/s, the time to 0.95 / 0.99 mean
    cosine (as learned and after Rayleigh-Ritz; over the seeds that got there), that Rayleigh-Ritz time as a ratio
    to NestedLoRA's as-learned time on the same seed (mean ± sample std over the seeds where both got there) and the
    final scores."""

    def time_to(rs: list[dict[str, Any]], key: str) -> tuple[str, float | None]:
        v = [r[key] for r in rs]
        hit = [x for x in v if x is not None]
        if not hit:
            return "not reached", None
        txt = report.format_pm(report.mean_std(hit), ".1f")
        return (txt if len(hit) == len(v) else f"{txt} ({len(hit)}/{len(v)} seeds)"), float(np.mean(hit))

    ref = {r["seed"]: r for r in report.select(results, method="nested-lora", variant="default")}

    def ratio(rs: list[dict[str, Any]], key: str, ref_key: str) -> str:
        """``key`` over NestedLoRA's ``ref_key`` (as learned), per seed where both were reached."""
        v = [r[key] / ref[r["seed"]][ref_key] for r in rs if r["seed"] in ref and r[key] and ref[r["seed"]][ref_key]]
        return f"{report.pm(v, '.1f')}× ({len(v)}/{len(rs)})" if v else "–"

    rows = []
    summary = {}
    for variant, methods in (("default", METHODS), ("published", ["allo"]), ("straightforward", ["nested-lora"])):
        for m in methods:
            rs = report.select(results, method=m, variant=variant)
            if not rs:
                continue
            sps = [r["steps_per_s"] for r in rs]
            fin = [r["mean_cosine_similarity"] for r in rs]
            rr = [r["rr_mean_cosine_similarity"] for r in rs]
            t95, t99 = time_to(rs, "time_to_0.95_s"), time_to(rs, "time_to_0.99_s")
            r95, r99 = time_to(rs, "rr_time_to_0.95_s"), time_to(rs, "rr_time_to_0.99_s")
            summary[f"{m}/{variant}"] = {
                "seeds": len(rs),
                "steps_per_s": np.mean(sps),
                "time_to_0.95_s": t95[1],
                "time_to_0.99_s": t99[1],
                "rr_time_to_0.95_s": r95[1],
                "rr_time_to_0.99_s": r99[1],
                "final": np.mean(fin),
                "final_rr": np.mean(rr),
            }
            rows.append([m, f"{variant} ({len(rs)} seeds)", report.pm(sps, ".1f"), t95[0], t99[0], r95[0], r99[0],
                         ratio(rs, "rr_time_to_0.95_s", "time_to_0.95_s"),
                         ratio(rs, "rr_time_to_0.99_s", "time_to_0.99_s"),
                         report.pm(fin, ".4f"), report.pm(rr, ".4f")])  # fmt: skip
    devices = sorted({r.get("device", "cpu (not recorded)") for r in results})
    header = ["method", "variant", "steps/s", "time to 0.95 (s)", "time to 0.99 (s)", "RR: time to 0.95 (s)",
              "RR: time to 0.99 (s)", "RR 0.95 ÷ NestedLoRA's 0.95", "RR 0.99 ÷ NestedLoRA's 0.99", "final mean cos",
              "final RR cos"]  # fmt: skip
    report.write_markdown(out / "table.md", [f"Device: {', '.join(devices)}\n", *report.markdown_table(header, rows)])
    report.write_json(out / "summary.json", summary)
    _plot(results, summary, out / "speed.png", f"{layout}, xy, k = 11 on {', '.join(devices)}")
    return summary


def main(argv: list[str] | None = None) -> None:
    p = sweep_parser(__doc__, "results/speed", workers=None, threads="--threads", threads_default=2, ray=False)
    p.add_argument("--layout", default="GridRoom-4")
    p.add_argument("--steps", type=int, default=2500)
    p.add_argument("--baseline-steps", type=int, default=3000)
    p.add_argument("--device", default="cpu", help="cpu or cuda (the straightforward baseline runs there too)")
    args = p.parse_args(argv)
    base = {"layout": args.layout, "k": 11, "eval_every": 50, "device": args.device, "threads": args.threads}
    jobs = [
        {"id": f"{m}__s{s}", "variant": "default", "config": {**base, "method": m, "steps": args.steps, "seed": s}}
        for s in seed_range(args)
        for m in METHODS
    ]
    published = published_at_pairs("allo", args.steps)  # the same pairs, and the same pairs between evaluations
    scale = published["steps"] // args.steps
    allo = {**base, "method": "allo", **published, "eval_every": base["eval_every"] * scale}
    jobs += [
        {"id": f"allo+published__s{s}", "variant": "published", "config": {**allo, "seed": s}} for s in seed_range(args)
    ]
    straightforward = {**base, "method": "nested-lora", "steps": args.baseline_steps, "seed": args.first_seed,
                       "eval_every": 100}  # fmt: skip
    jobs.append({"id": f"nested-lora-straightforward__s{args.first_seed}", "variant": "straightforward",
                 "config": {**straightforward, **STRAIGHTFORWARD}})  # fmt: skip

    def describe(r: dict[str, Any]) -> str:
        return (f"{r['mean_cosine_similarity']:.4f} t95={r['time_to_0.95_s']} t99={r['time_to_0.99_s']} "
                f"{r['steps_per_s']:.1f} steps/s")  # fmt: skip

    run_jobs("scripts.speed_benchmark:run_job", jobs, args, describe)
    out = Path(args.out)
    summarize(finished(out), out, args.layout)
    print((out / "table.md").read_text())


def _plot(results: list[dict[str, Any]], summary: dict[str, Any], path: Path, layout: str) -> None:
    """Two panels, modes as learned | after Rayleigh-Ritz: mean cosine vs training time, mean ± sample
    std over seeds."""
    fig, axes = pyplot().subplots(1, 2, figsize=(11, 3.8), sharey=True)
    for ax, key, title in zip(axes, ("mean_cosine_similarity", "rr_mean_cosine_similarity"),
                              ("modes as learned", "after Rayleigh-Ritz (running moments)")):  # fmt: skip
        for name in summary:
            m, variant = name.split("/")
            rs = report.select(results, method=m, variant=variant)
            curves = [([c["train_time_s"] for c in r["curve"]], [c[key] for c in r["curve"]]) for r in rs]
            style = ":" if variant == "straightforward" else "-"
            seed_band(ax, *seed_curves(curves, "mean"), f"{m} ({variant})", fmt=style)
        ax.axhline(0.99, color="k", lw=0.6, ls="--")
        ax.set_title(title)
        ax.set_xlabel("training time (s)")
        ax.set_ylim(0, 1.02)
        ax.grid(alpha=0.3)
    axes[0].set_ylabel("mean cosine similarity")
    axes[1].legend(fontsize=7, loc="lower right")
    fig.suptitle(layout, fontsize=10)
    save_figure(fig, path)


if __name__ == "__main__":
    main()
