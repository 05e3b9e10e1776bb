"""Why procedurally generated layouts need episode-anchored eigenfunctions: where the learned modes vary.

    python -m scripts.exploration_layout_modes --out results/exploration_layout_modes

A uniform random policy collects episodes of a re-randomizing MiniGrid task (DoorKey-8x8: walls, door, key and
start change every episode); a learner fits the successor eigenfunctions (the MiniGrid recipe's network and
operator) on the standardized flat full-grid observations, plain and ``anchored``, for each k. For every learned
mode the script reports the share of its variance that lies *within* episodes (mean over episodes of the
within-episode variance, divided by the total variance, of the network's output; an anchored learner leaves each
episode's constant free, so its share is a lower bound on how much of the mode is about the episode's dynamics).
A function of the layout alone is
constant over an episode and has share 0: it is an eigenfunction of eigenvalue 1 of the plain successor operator,
ranked above every function of the agent's position, and useless to an episodic exploration bonus.
Writes ``summary.json`` and ``table.md``; seeds pick the data and the learner.
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


def within_share(phi: np.ndarray, episode: np.ndarray) -> np.ndarray:
    """Per column of ``phi``: mean within-episode variance / total variance."""
    ids = np.unique(episode)
    within = np.mean([phi[episode == e].var(0) for e in ids], axis=0)
    return within / np.maximum(phi.var(0), 1e-12)


def run(args: argparse.Namespace) -> dict[str, Any]:
    from rlspectral.agents.recipes import MINIGRID

    torch.set_num_threads(args.threads)
    episodes = random_policy_episodes(args.task, args.steps, 8, args.seed)
    x = np.concatenate(episodes).astype(np.float32)
    episode = np.concatenate([np.full(len(e), i) for i, e in enumerate(episodes)])
    mean, std = x.mean(0), x.std(0) + 1e-3  # what VecNormalize would give the learner
    buf = EpisodicBuffer(len(x), (x.shape[1],))
    for e in episodes:
        buf.add_episode((e - mean) / std)
    z = torch.as_tensor((x - mean) / std)
    spectral = MINIGRID["spectral"]
    out: dict[str, Any] = {"task": args.task, "steps": args.steps, "episodes": len(episodes), "seed": args.seed,
                           "updates": args.updates, "runs": []}  # fmt: skip
    for k in args.k:
        for anchored in (False, True):
            cfg = LearnerConfig(obs_shape=(x.shape[1],), k=k, hidden=tuple(spectral["hidden"]), lr=spectral["lr"],
                                operator=spectral["operator"], anchored=anchored, seed=args.seed)  # fmt: skip
            learner = SpectralLearner(cfg)
            sampler = PairSampler(buf, learner.operator, seed=args.seed, anchors=anchored)
            t0 = time.perf_counter()
            learner.fit(sampler, args.updates, batch_size=512, progress=False)
            with torch.no_grad():
                phi = learner.f(z).numpy()
            share = within_share(phi, episode)
            out["runs"].append({"k": k, "anchored": anchored, "within_share": share.tolist(),
                                "median_share": float(np.median(share)), "modes_above_0.2": int((share > 0.2).sum()),
                                "fit_s": time.perf_counter() - t0})  # fmt: skip
            print(f"k={k} anchored={anchored}: median within-episode share {np.median(share):.3f}, "
                  f"{int((share > 0.2).sum())}/{k} modes above 0.2")  # fmt: skip
    return out


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--out", default="results/exploration_layout_modes")
    p.add_argument("--task", default="MiniGrid-DoorKey-8x8-v0")
    p.add_argument("--steps", type=int, default=24_000, help="random-policy env steps (8 envs)")
    p.add_argument("--updates", type=int, default=1500)
    p.add_argument("--k", type=int, nargs="+", default=[8, 32])
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--threads", type=int, default=1)
    args = p.parse_args(argv)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    t0 = time.time()
    summary = run(args)
    summary["wall_time_s"] = time.time() - t0
    report.write_json(out / "summary.json", summary)
    rows = [[r["k"], "anchored" if r["anchored"] else "plain", f"{r['median_share']:.3f}",
             f"{r['modes_above_0.2']}/{r['k']}", " ".join(f"{s:.2f}" for s in r["within_share"][:8])]
            for r in summary["runs"]]  # fmt: skip
    title = (f"**Share of each learned mode's variance within episodes** ({args.task}, uniform random policy, "
             f"{summary['episodes']} episodes, {args.updates} updates, seed {args.seed})")  # fmt: skip
    header = ["k", "learner", "median share", "modes with share > 0.2", "first 8 modes"]
    report.write_markdown(out / "table.md", report.blocks([title, "", *report.markdown_table(header, rows)]))
    print(f"{out}/table.md ({summary['wall_time_s']:.0f}s)")


if __name__ == "__main__":
    main()
