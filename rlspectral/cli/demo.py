"""The README's main job: fit eigenfunctions on a gridworld, then train an agent with them beside a raw one.

1. ``rlspectral fit`` on GridRoom-4 (xy observations, k = 11) from random-walk replay -> eigenfunctions.png;
2. PPO on the goal-reaching GridRoom-4 (goal in the bottom-right room, sparse reward) with frozen spectral
   features from step 1 vs. raw xy, same recipe, seeds and steps -> learning_curves.png;
3. ``summary.json`` and ``summary.md``: eigenfunction accuracy, success rate and return per agent.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

LAYOUT = "GridRoom-4"


def run_demo(out: Path, quick: bool = False, seeds: int = 3) -> dict[str, Any]:
    from rlspectral.agents.train import train
    from rlspectral.experiments import GridFitConfig, fit_gridworld
    from rlspectral.plots import save_curves

    out.mkdir(parents=True, exist_ok=True)
    fit_steps, rl_steps, seeds = (150, 3000, 1) if quick else (1500, 30_000, seeds)
    print(f"[1/3] fitting k=11 eigenfunctions on {LAYOUT} ({fit_steps} steps) ...", flush=True)
    fit = fit_gridworld(
        # exactly the 11 modes the agent gets as features: no oversampling (GridRoom-4's 11th gap is wide)
        GridFitConfig(layout=LAYOUT, k=11, steps=fit_steps, episodes=10_000 if quick else 50_000, extra_modes=0),
        out=out / "fit",
    )
    checkpoint = str(out / "fit" / "model.pt")
    runs: dict[str, list[dict[str, Any]]] = {"raw xy": [], "spectral (frozen)": []}
    for seed in range(seeds):
        for name, features in (("raw xy", "raw"), ("spectral (frozen)", "spectral")):
            print(f"[2/3] PPO, {name}, seed {seed} ({rl_steps} steps) ...", flush=True)
            extra = {"checkpoint": checkpoint} if features == "spectral" else {}
            res = train(
                f"rlspectral/{LAYOUT}-Goal-v0", "ppo", features, "none", rl_steps, seed,
                out / "agents" / f"{features}_s{seed}", obs="xy", eval_every=max(1000, rl_steps // 15), **extra,
            )  # fmt: skip
            runs[name].append(res)
    print("[3/3] writing plots and summary ...", flush=True)
    curves, rows = {}, []
    for name, rs in runs.items():
        n = min(len(r["evaluations"]) for r in rs)
        x = np.array([e["timesteps"] for e in rs[0]["evaluations"][:n]])
        succ = np.array([[e["success_rate"] for e in r["evaluations"][:n]] for r in rs])
        curves[name] = (x, succ.mean(0), succ.std(0) if len(rs) > 1 else None)
        final = [r["final"] for r in rs]
        rows.append({
            "agent": name,
            "seeds": len(rs),
            "final_success_rate": float(np.mean([f["success_rate"] for f in final])),
            "final_return": float(np.mean([f["return_mean"] for f in final])),
            "wall_time_s": float(np.mean([r["wall_time_s"] for r in rs])),
        })
    save_curves(out / "learning_curves.png", curves, "environment steps", "success rate",
                f"PPO on {LAYOUT}-Goal (mean ± std over {seeds} seeds)")  # fmt: skip
    summary = {
        "eigenfunctions": {
            "layout": LAYOUT,
            "mean_cosine_similarity": fit["mean_cosine_similarity"],
            "rr_mean_cosine_similarity": fit["rr_mean_cosine_similarity"],
            "fit_wall_time_s": fit["wall_time_s"],
        },
        "agents": rows,
        "outputs": ["fit/eigenfunctions.png", "fit/metrics.json", "learning_curves.png", "agents/*/results.json"],
    }
    (out / "summary.json").write_text(json.dumps(summary, indent=1))
    md = [
        f"Eigenfunctions on {LAYOUT}: mean cosine {fit['mean_cosine_similarity']:.4f} "
        f"(Rayleigh-Ritz {fit['rr_mean_cosine_similarity']:.4f}) after {fit['steps']} steps, {fit['wall_time_s']:.0f}s",
        "",
        "| agent | seeds | final success rate | final return | wall time (s) |",
        "|---|---|---|---|---|",
        *[f"| {r['agent']} | {r['seeds']} | {r['final_success_rate']:.2f} | {r['final_return']:.3f} | "
          f"{r['wall_time_s']:.0f} |" for r in rows],
    ]  # fmt: skip
    (out / "summary.md").write_text("\n".join(md) + "\n")
    print("\n".join(md))
    return summary
