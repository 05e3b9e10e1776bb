"""Speed on this machine: GridRoom-4, xy, k = 11 — time to 0.95 / 0.99 mean cosine and steps/s, side by side.

    python scripts/speed_benchmark.py --out results/speed     # resumable; runs one job at a time, all threads
    python scripts/speed_benchmark.py --out results/speed_gpu --device cuda     # the same on a GPU

Every method runs with the library defaults (dedup forward passes, batch 8192, Fourier-feature MLP 3x256,
cosine schedule), plus one "straightforward" NestedLoRA configuration (batch 1024, plain MLP 3x256,
lr 1e-3, no dedup) as the reference the speed-up is measured against. Training time excludes evaluation.
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

METHODS = ["nested-lora", "nested-omm", "allo", "ggdo"]
STRAIGHTFORWARD = {
    "batch_size": 1024,
    "fourier_features": 0,
    "lr": 1e-3,
    "dedup": False,
    "realign_every": 0,
    "extra_modes": 0,
}


def run_job(job: dict[str, Any], job_dir: Path) -> dict[str, Any]:
    from rlspectral.cli.fit import GridFitConfig, fit_gridworld
    from rlspectral.harness import SCALAR_KEYS

    m = fit_gridworld(GridFitConfig(**job["config"]), progress=False)
    keep = (*SCALAR_KEYS, "curve")
    return {"id": job["id"], "variant": job["variant"], "seed": job["config"]["seed"], **{k: m[k] for k in keep}}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--out", default="results/speed")
    p.add_argument("--layout", default="GridRoom-4")
    p.add_argument("--seeds", type=int, default=3)
    p.add_argument("--steps", type=int, default=2500)
    p.add_argument("--baseline-steps", type=int, default=3000)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--device", default="cpu", help="cpu or cuda (the straightforward baseline runs there too)")
    args = p.parse_args()
    from rlspectral.sweep import load_results, run_sweep

    base = {"layout": args.layout, "k": 11, "eval_every": 50, "device": args.device}
    jobs = [
        {
            "id": f"{m}__s{s}",
            "variant": "default",
            "config": {**base, "method": m, "steps": args.steps, "seed": s, "threads": args.threads},
        }
        for s in range(args.seeds)
        for m in METHODS
    ] + [
        {
            "id": "nested-lora-straightforward__s0",
            "variant": "straightforward",
            "config": {
                **base,
                "method": "nested-lora",
                "steps": args.baseline_steps,
                "seed": 0,
                "threads": args.threads,
                "eval_every": 100,
                **STRAIGHTFORWARD,
            },
        }
    ]
    t0 = time.time()
    for r in run_sweep("scripts.speed_benchmark:run_job", jobs, args.out, workers=1, threads_per_worker=args.threads):
        print(
            f"[{time.time() - t0:6.0f}s] {r['id']}: {r['mean_cosine_similarity']:.4f} "
            f"t95={r['time_to_0.95_s']} t99={r['time_to_0.99_s']} {r['steps_per_s']:.1f} steps/s",
            flush=True,
        )
    results = load_results(args.out)
    rows = [
        "| method | variant | steps/s | time to 0.95 (s) | time to 0.99 (s) | RR: time to 0.95 (s) | "
        "RR: time to 0.99 (s) | final mean cos | final RR cos |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    summary = {}
    for variant, methods in (("default", METHODS), ("straightforward", ["nested-lora"])):
        for m in methods:
            rs = [r for r in results if r["method"] == m and r["variant"] == variant]
            if not rs:
                continue

            def stat(key, rs=rs):
                v = [r[key] for r in rs]
                hit = [x for x in v if x is not None]
                if not hit:
                    return "not reached", None
                txt = f"{np.mean(hit):.1f} ± {np.std(hit):.1f}"
                return (txt if len(hit) == len(v) else f"{txt} ({len(hit)}/{len(v)} seeds)"), float(np.mean(hit))

            sps = np.array([r["steps_per_s"] for r in rs])
            fin = np.array([r["mean_cosine_similarity"] for r in rs])
            rr = np.array([r["rr_mean_cosine_similarity"] for r in rs])
            t95, t99 = stat("time_to_0.95_s"), stat("time_to_0.99_s")
            r95, r99 = stat("rr_time_to_0.95_s"), stat("rr_time_to_0.99_s")
            summary[f"{m}/{variant}"] = {
                "seeds": len(rs),
                "steps_per_s": sps.mean(),
                "time_to_0.95_s": t95[1],
                "time_to_0.99_s": t99[1],
                "rr_time_to_0.95_s": r95[1],
                "rr_time_to_0.99_s": r99[1],
                "final": fin.mean(),
                "final_rr": rr.mean(),
            }
            rows.append(
                f"| {m} | {variant} ({len(rs)} seeds) | {sps.mean():.1f} ± {sps.std():.1f} | {t95[0]} | "
                f"{t99[0]} | {r95[0]} | {r99[0]} | {fin.mean():.4f} ± {fin.std():.4f} | "
                f"{rr.mean():.4f} ± {rr.std():.4f} |"
            )
    out = Path(args.out)
    devices = sorted({r.get("device", "cpu (not recorded)") for r in results})
    rows.insert(0, f"Device: {', '.join(devices)}\n")
    (out / "table.md").write_text("\n".join(rows) + "\n")
    (out / "summary.json").write_text(json.dumps(summary, indent=1))
    _plot(results, summary, out / "speed.png", f"{args.layout}, xy, k = 11 on {', '.join(devices)}")
    print((out / "table.md").read_text())


def _plot(results: list[dict[str, Any]], summary: dict[str, Any], path: Path, layout: str) -> None:
    """Two panels, modes as learned | after Rayleigh-Ritz: mean cosine vs training time, mean ± std over seeds."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from rlspectral.plots import seed_band

    fig, axes = plt.subplots(1, 2, figsize=(11, 3.8), sharey=True)
    for ax, key, title in zip(axes, ("mean_cosine_similarity", "rr_mean_cosine_similarity"),
                              ("modes as learned", "after Rayleigh-Ritz (running moments)")):  # fmt: skip
        for name in summary:
            m, variant = name.split("/")
            rs = [r for r in results if r["method"] == m and r["variant"] == variant]
            n = min(len(r["curve"]) for r in rs)
            t = np.mean([[c["train_time_s"] for c in r["curve"][:n]] for r in rs], 0)
            v = np.array([[c[key] for c in r["curve"][:n]] for r in rs])
            style = ":" if variant == "straightforward" else "-"
            seed_band(ax, t, v, f"{m} ({variant})", fmt=style)
        ax.axhline(0.99, color="k", lw=0.6, ls="--")
        ax.set_title(title)
        ax.set_xlabel("training time (s)")
        ax.set_ylim(0, 1.02)
        ax.grid(alpha=0.3)
    axes[0].set_ylabel("mean cosine similarity")
    axes[1].legend(fontsize=7, loc="lower right")
    fig.suptitle(layout, fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


if __name__ == "__main__":
    main()
