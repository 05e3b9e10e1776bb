"""The README's main job: fit eigenfunctions on a gridworld, then train an agent with them beside a raw one.

For each seed s (independent: the fit, the replay and the agent all use seed s):

1. ``rlspectral fit`` on GridRoom-4 (xy observations, k = 11) from random-walk replay -> ``fit/s<s>/``;
2. PPO on the goal-reaching GridRoom-4 (goal in the bottom-right room, sparse reward) with the frozen
   eigenfunctions of fit s vs. raw xy, same recipe and steps -> ``agents/``, ``learning_curves.png``;
3. ``summary.json`` and ``summary.md``: eigenfunction accuracy, success rate and return per agent, as the mean and
   the sample standard deviation (ddof = 1) over the seeds.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import numpy as np

from rlspectral.errors import ConfigError

LAYOUT = "GridRoom-4"


def _mean_std(values: list[float]) -> tuple[float, float | None]:
    """Mean and sample std (ddof = 1; None for a single value)."""
    a = np.asarray(values, dtype=float)
    return float(a.mean()), (float(a.std(ddof=1)) if a.size > 1 else None)


def _pm(mean: float, std: float | None, fmt: str = ".2f") -> str:
    return f"{mean:{fmt}}" if std is None else f"{mean:{fmt}} ± {std:{fmt}}"


def run_demo(out: Path, quick: bool = False, seeds: int = 5) -> dict[str, Any]:
    from rlspectral.agents.train import train
    from rlspectral.experiments import GridFitConfig, fit_gridworld
    from rlspectral.plots import save_curves

    if seeds < 1:
        raise ConfigError.invalid("seeds", seeds, "pass the number of independent seeds, >= 1")
    out.mkdir(parents=True, exist_ok=True)
    fit_steps, rl_steps, seeds = (150, 3000, 1) if quick else (1500, 30_000, seeds)
    fits: list[dict[str, Any]] = []
    runs: dict[str, list[dict[str, Any]]] = {"raw xy": [], "spectral (frozen)": []}
    for seed in range(seeds):
        print(f"[1/3] seed {seed}: fitting k=11 eigenfunctions on {LAYOUT} ({fit_steps} steps) ...", flush=True)
        fit_dir = out / "fit" / f"s{seed}"
        fits.append(fit_gridworld(
            # exactly the 11 modes the agent gets as features: no oversampling (GridRoom-4's 11th gap is wide)
            GridFitConfig(layout=LAYOUT, k=11, steps=fit_steps, episodes=10_000 if quick else 50_000, extra_modes=0,
                          seed=seed),
            out=fit_dir,
        ))  # fmt: skip
        for name, features in (("raw xy", "raw"), ("spectral (frozen)", "spectral")):
            print(f"[2/3] seed {seed}: PPO, {name} ({rl_steps} steps) ...", flush=True)
            extra = {"checkpoint": str(fit_dir / "model.pt")} if features == "spectral" else {}
            res = train(
                f"rlspectral/{LAYOUT}-Goal-v0", "ppo", features, "none", rl_steps, seed,
                out / "agents" / f"{features}_s{seed}", obs="xy", eval_every=max(1000, rl_steps // 15), **extra,
            )  # fmt: skip
            runs[name].append(res)
    shutil.copyfile(out / "fit" / "s0" / "eigenfunctions.png", out / "eigenfunctions.png")
    print("[3/3] writing plots and summary ...", flush=True)
    curves, rows = {}, []
    for name, rs in runs.items():
        n = min(len(r["evaluations"]) for r in rs)
        x = np.array([e["timesteps"] for e in rs[0]["evaluations"][:n]])
        succ = np.array([[e["success_rate"] for e in r["evaluations"][:n]] for r in rs])
        curves[name] = (x, succ.mean(0), succ.std(0, ddof=1) if len(rs) > 1 else None)
        final = [r["final"] for r in rs]
        success, success_std = _mean_std([f["success_rate"] for f in final])
        ret, ret_std = _mean_std([f["return_mean"] for f in final])
        rows.append({
            "agent": name,
            "seeds": len(rs),
            "final_success_rate": success,
            "final_success_rate_std": success_std,
            "final_success_rate_per_seed": [f["success_rate"] for f in final],
            "final_return": ret,
            "final_return_std": ret_std,
            "wall_time_s": float(np.mean([r["wall_time_s"] for r in rs])),
        })  # fmt: skip
    save_curves(out / "learning_curves.png", curves, "environment steps", "success rate",
                f"PPO, {LAYOUT}-Goal: mean ± sample std, {seeds} seeds", bounds=(0, 1))  # fmt: skip
    cos, cos_std = _mean_std([f["mean_cosine_similarity"] for f in fits])
    rr, rr_std = _mean_std([f["rr_mean_cosine_similarity"] for f in fits])
    summary = {
        "eigenfunctions": {
            "layout": LAYOUT,
            "seeds": seeds,
            "mean_cosine_similarity": cos,
            "mean_cosine_similarity_std": cos_std,
            "mean_cosine_similarity_per_seed": [f["mean_cosine_similarity"] for f in fits],
            "rr_mean_cosine_similarity": rr,
            "rr_mean_cosine_similarity_std": rr_std,
            "fit_wall_time_s": float(np.mean([f["wall_time_s"] for f in fits])),
        },
        "agents": rows,
        "std": "sample standard deviation over seeds (ddof = 1)",
        "outputs": ["eigenfunctions.png", "fit/s*/metrics.json", "learning_curves.png", "agents/*/results.json"],
    }
    (out / "summary.json").write_text(json.dumps(summary, indent=1))
    md = [
        f"Eigenfunctions on {LAYOUT} ({seeds} fits, one per seed, {fit_steps} steps each, "
        f"{summary['eigenfunctions']['fit_wall_time_s']:.0f} s a fit): mean cosine {_pm(cos, cos_std, '.4f')} "
        f"as learned (Rayleigh-Ritz on fresh batches {_pm(rr, rr_std, '.4f')})",
        "",
        f"PPO, {rl_steps} steps, {seeds} seeds; ± is the sample std over seeds (ddof = 1)",
        "",
        "| agent | seeds | final success rate | final return | wall time per run (s) |",
        "|---|---|---|---|---|",
        *[f"| {r['agent']} | {r['seeds']} | {_pm(r['final_success_rate'], r['final_success_rate_std'])} | "
          f"{_pm(r['final_return'], r['final_return_std'], '.3f')} | {r['wall_time_s']:.0f} |" for r in rows],
    ]  # fmt: skip
    (out / "summary.md").write_text("\n".join(md) + "\n")
    print("\n".join(md))
    return summary
