"""How close the eigenfunctions learned from a uniform random policy come to the exact ones of the fixed FourRooms.

    python -m scripts.exploration_fourrooms_modes --out results/exploration_fourrooms_modes

The data and learner of the MiniGrid exploration recipe, without PPO: a uniform random policy acts in
``rlspectral/MiniGrid-FourRooms-Fixed-v0`` (8 envs, MiniGrid's 100-step episodes) from the task's fixed start
(bottom-right room: the data an agent's first rollouts give its learner) and from a uniformly random free cell and
direction (``random_start``: every room covered); the recipe's learner (``MINIGRID["spectral"]``: k = 32, MLP
128x128, successor operator lambda = 0.9, Adam 1e-3, batch 512) fits the standardized flat full-grid observations
(what VecNormalize gives the online learner). At each checkpoint the script scores the learned eigenfunctions as
functions of the agent's cell (averaged over its 4 directions) against the exact top-k eigenvectors of the layout's
4-neighbour position graph (:func:`rlspectral.agents.minigrid.position_cosine_similarity`), as learned and after the
learner's Rayleigh-Ritz solve on its running moments. The recipe makes ~6000 updates in 500k env steps (50 per 4096).

The random policy's successor operator over (cell, direction) is not the position graph's random walk (turns, a
direction in the state, walls that stop forward moves, a start-biased state distribution), so this measures how
much of the position geometry the learned modes carry, not convergence to an exact target. Whether the bonus needs
them to be exact is the ``ppo+elliptical-exact`` arm of ``scripts.exploration_benchmark`` (the same bonus in the
exact eigenvectors). Writes ``summary.json``, ``table.md`` and ``cosine.png``.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch

from rlspectral import report
from rlspectral.agents.environments import random_policy_episodes
from rlspectral.buffer import EpisodicBuffer, PairSampler
from rlspectral.learner import LearnerConfig, SpectralLearner
from rlspectral.plots import pyplot, save_figure

TASK = "rlspectral/MiniGrid-FourRooms-Fixed-v0"
STARTS = {"fixed": {}, "uniform": {"random_start": True}}


def fit_and_score(args: argparse.Namespace, start: str) -> dict[str, Any]:
    """Random-policy data from ``start``, one learner, cosine to the exact eigenvectors at each checkpoint."""
    import gymnasium as gym

    from rlspectral.agents.minigrid import position_cosine_similarity
    from rlspectral.agents.recipes import MINIGRID

    episodes = random_policy_episodes(TASK, args.steps, 8, args.seed, STARTS[start])
    x = np.concatenate(episodes).astype(np.float32)
    mean, std = x.mean(0), x.std(0) + 1e-3  # what VecNormalize would give the learner
    buf = EpisodicBuffer(len(x), (x.shape[1],))
    for e in episodes:
        buf.add_episode((e - mean) / std)
    spectral = MINIGRID["spectral"]
    cfg = LearnerConfig(obs_shape=(x.shape[1],), k=spectral["k"], hidden=tuple(spectral["hidden"]), lr=spectral["lr"],
                        operator=spectral["operator"], seed=args.seed)  # fmt: skip
    learner = SpectralLearner(cfg)
    sampler = PairSampler(buf, learner.operator, seed=args.seed)
    env = gym.make(TASK)
    env.reset(seed=0)
    curve: list[dict[str, Any]] = []
    t0, done = time.perf_counter(), 0
    for target in sorted(args.checkpoints):
        learner.fit(sampler, target - done, batch_size=MINIGRID["callback"]["batch_size"], progress=False)
        done = target
        row: dict[str, Any] = {"updates": target, "fit_s": time.perf_counter() - t0}
        for key, solve in (("", False), ("solved_", True)):

            def phi(obs: np.ndarray, solve: bool = solve) -> np.ndarray:
                z = torch.as_tensor((obs - mean) / std, dtype=torch.float32)
                return learner.eigenfunctions(z, solve=solve)[1].numpy()

            cos, m = position_cosine_similarity(phi, env, cfg.k)
            row[f"{key}cosine"], row[f"{key}cosine_per_mode"] = m, cos.tolist()
        curve.append(row)
        print(f"{start} start, {target} updates: mean cosine {row['cosine']:.3f} (solved {row['solved_cosine']:.3f})")
    env.close()
    visited = np.unique(x.round(4), axis=0).shape[0]
    return {"start": start, "episodes": len(episodes), "transitions": int(len(x)), "distinct_observations": visited,
            "curve": curve}  # fmt: skip


def run(args: argparse.Namespace) -> dict[str, Any]:
    torch.set_num_threads(args.threads)
    out: dict[str, Any] = {"task": TASK, "steps": args.steps, "seed": args.seed, "runs": []}
    for start in args.starts:
        out["runs"].append(fit_and_score(args, start))
    return out


def write_report(summary: dict[str, Any], out: Path) -> None:
    report.write_json(out / "summary.json", summary)
    lines = [f"**Online-recipe eigenfunctions of {summary['task']} from a uniform random policy** (seed "
             f"{summary['seed']}, {summary['steps']} random env steps; mean |cosine| of the k = 32 learned modes, by "
             "cell, to the exact position-graph eigenvectors)", ""]  # fmt: skip
    header = ["start", "updates", "as learned", "Rayleigh-Ritz", "modes >= 0.9 (as learned)", "fit s"]
    rows = [[r["start"], c["updates"], f"{c['cosine']:.3f}", f"{c['solved_cosine']:.3f}",
             sum(v >= 0.9 for v in c["cosine_per_mode"]), f"{c['fit_s']:.0f}"]
            for r in summary["runs"] for c in r["curve"]]  # fmt: skip
    lines += report.markdown_table(header, rows)
    lines += ["", f"Wall time {summary['wall_time_s']:.0f} s."]
    report.write_markdown(out / "table.md", lines)
    fig, ax = pyplot().subplots(figsize=(5.5, 3.6))
    for r in summary["runs"]:
        u = [c["updates"] for c in r["curve"]]
        ax.plot(u, [c["cosine"] for c in r["curve"]], "o-", label=f"{r['start']} start, as learned")
        ax.plot(u, [c["solved_cosine"] for c in r["curve"]], "s--", label=f"{r['start']} start, Rayleigh-Ritz")
    ax.set(xscale="log", xlabel="learner updates (batch 512)", ylabel="mean cosine to exact", ylim=(0, 1),
           title="FourRooms (fixed), random-policy data")  # fmt: skip
    ax.legend(fontsize=7)
    save_figure(fig, out / "cosine.png")


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--out", default="results/exploration_fourrooms_modes", help="results folder")
    p.add_argument("--steps", type=int, default=100_000, help="random-policy env steps per start (8 envs)")
    p.add_argument("--checkpoints", type=int, nargs="+", default=[250, 500, 1000, 2000, 4000, 6000])
    p.add_argument("--starts", nargs="+", choices=list(STARTS), default=list(STARTS))
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--threads", type=int, default=1)
    args = p.parse_args(argv)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    t0 = time.time()
    summary = run(args)
    summary["wall_time_s"] = time.time() - t0
    write_report(summary, out)
    print(f"{out}/table.md ({summary['wall_time_s']:.0f}s)")


if __name__ == "__main__":
    main()
