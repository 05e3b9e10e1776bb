"""Where in an episode the elliptical bonus pays, as a function of its ridge: the profile behind ``--ridge``.

    python -m scripts.exploration_bonus_profile --out results/exploration_bonus_profile \
        --run results/exploration_fresh/MiniGrid-DoorKey-8x8-v0__ppo+elliptical__500000__s10__c0.003

The elliptical bonus r_t = u_t^T (ridge I + sum_{i<t} u_i u_i^T)^{-1} u_t (E3B's, in eigenfunction space) depends on
the ridge relative to the size of u. The learned eigenfunctions are normalized to unit variance per mode, so
|u|^2 is ~k (32 in the MiniGrid recipe), while E3B's ridge of 0.1 was set for its own embedding. With ridge << |u|^2
the first ~k states of every episode span the space and take nearly all of the episode's bonus, whatever the agent
does; a ridge of the order of |u|^2 spreads it over the episode. The script takes a finished run's eigenfunctions
and VecNormalize statistics (``spectral.pt``, ``vecnormalize.pkl``; run folders keep them locally), lets a uniform
random policy play ``--episodes`` worth of env steps of the run's task and view, and reports for each ridge: the
bonus's mean / std over all steps (what survives the running-std normalization), the share of an episode's total
bonus earned in its first k steps, and the mean bonus after step 100 relative to the first k steps. Writes
``summary.json`` and ``table.md``.
"""

from __future__ import annotations

import argparse
import json
import pickle
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch

from rlspectral import report
from rlspectral.agents.environments import random_policy_episodes
from rlspectral.learner import SpectralLearner
from rlspectral.sb3.bonus import EllipticalBonus
from rlspectral.sb3.eigen_features import EigenFeatures


def profile(features: EigenFeatures, episodes: list[np.ndarray], ridge: float, k: int) -> dict[str, Any]:
    rewards = []
    for ep in episodes:
        bonus = EllipticalBonus(ridge=ridge, coef=1.0, normalize=False)
        bonus.features = features
        x = torch.as_tensor(ep, dtype=torch.float32)
        r = []
        for t in range(1, len(x)):
            r.append(bonus(x[t - 1 : t], x[t : t + 1]).item())
            bonus.observe(x[t : t + 1])
        rewards.append(np.asarray(r))
    flat = np.concatenate(rewards)
    long = [r for r in rewards if len(r) > 100]
    return {
        "ridge": ridge,
        "mean_over_std": float(flat.mean() / flat.std()),
        "share_first_k": float(np.mean([r[:k].sum() / r.sum() for r in rewards if r.sum() > 0])),
        "late_over_early": float(np.mean([r[100:].mean() / r[:k].mean() for r in long])) if long else None,
        "mean": float(flat.mean()),
    }


def run(args: argparse.Namespace) -> dict[str, Any]:
    torch.set_num_threads(args.threads)
    run_dir = Path(args.run)
    meta = json.loads((run_dir / "run.json").read_text())
    learner = SpectralLearner.load(run_dir / "spectral.pt")
    features = EigenFeatures(learner.config)
    features.load_learner(learner)
    vecnorm = pickle.loads((run_dir / "vecnormalize.pkl").read_bytes())
    task, view = meta["env"], meta.get("view") or "full"
    episodes = random_policy_episodes(task, args.steps, 8, args.seed, view=view)
    episodes = [vecnorm.normalize_obs(e) for e in episodes]
    u = features(torch.as_tensor(np.concatenate(episodes), dtype=torch.float32))
    k = learner.config.k
    rows = [profile(features, episodes, ridge, k) for ridge in args.ridges]
    return {"run": str(run_dir), "task": task, "view": view, "k": k, "episodes": len(episodes),
            "mean_sq_norm_u": float((u**2).sum(1).mean()), "ridges": rows}  # fmt: skip


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--out", default="results/exploration_bonus_profile", help="results folder")
    p.add_argument("--run", required=True, help="a finished exploration run folder (spectral.pt, vecnormalize.pkl)")
    p.add_argument("--ridges", type=float, nargs="+", default=[0.1, 1.0, 3.2, 32.0])
    p.add_argument("--steps", type=int, default=8 * 640 * 2, help="random-policy env steps (8 envs)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--threads", type=int, default=1)
    args = p.parse_args(argv)
    needed = ("run.json", "spectral.pt", "vecnormalize.pkl")
    missing = [name for name in needed if not (Path(args.run) / name).is_file()]
    if missing:
        p.error(f"--run {args.run} lacks {', '.join(missing)}: pass a finished ppo+elliptical run folder")
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    t0 = time.time()
    summary = run(args)
    summary["wall_time_s"] = time.time() - t0
    report.write_json(out / "summary.json", summary)
    title = (f"**Elliptical bonus profile by ridge** ({summary['task']}, {summary['view']} view, eigenfunctions of "
             f"`{summary['run']}`, k = {summary['k']}, E|u|^2 = {summary['mean_sq_norm_u']:.1f}; "
             f"{summary['episodes']} uniform-random-policy episodes, seed {args.seed})")  # fmt: skip
    header = ["ridge", "mean / std over steps", f"share of an episode's bonus in its first {summary['k']} steps",
              "mean bonus after step 100 / first k steps"]  # fmt: skip
    rows = [[f"{r['ridge']:g}", f"{r['mean_over_std']:.3f}", f"{r['share_first_k']:.2f}",
             "–" if r["late_over_early"] is None else f"{r['late_over_early']:.3f}"]
            for r in summary["ridges"]]  # fmt: skip
    report.write_markdown(out / "table.md", [title, "", *report.markdown_table(header, rows)])
    print(f"{out}/table.md ({summary['wall_time_s']:.0f}s)")


if __name__ == "__main__":
    main()
