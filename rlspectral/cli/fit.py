"""``rlspectral fit``: a gridworld fit (:func:`rlspectral.experiments.fit_gridworld`) from the command line."""

from __future__ import annotations

import argparse

from rlspectral.cli.common import add_run_arguments
from rlspectral.experiments import GridFitConfig, fit_gridworld, published_settings


def _layout_from(args: argparse.Namespace) -> str:
    if args.layout:
        return args.layout
    env = args.env
    if env.startswith("rlspectral/"):
        env = env[len("rlspectral/") :]
    env = env[:-3] if env.endswith("-v0") else env
    return env.removesuffix("-Goal")  # a Goal variant has its layout's spectrum (the goal does not change P)


def add_fit_arguments(p: argparse.ArgumentParser) -> None:
    from rlspectral.objectives import METHODS

    d = GridFitConfig()
    src = p.add_mutually_exclusive_group()
    src.add_argument("--env", default="rlspectral/GridRoom-4-v0", help="registered gridworld id or layout name")
    src.add_argument("--layout", help="path to a text layout file (X or # = wall)")
    p.add_argument("--obs", choices=["xy", "onehot", "pixels"], default=d.obs)
    p.add_argument("--method", choices=METHODS, default=d.method)
    p.add_argument("--k", type=int, default=d.k, help="number of eigenfunctions k (the top k are scored)")
    p.add_argument("--dim", dest="k", type=int, default=argparse.SUPPRESS, help=argparse.SUPPRESS)  # the old --k
    p.add_argument("--steps", type=int, default=d.steps)
    p.add_argument(
        "--batch-size", type=int, default=d.batch_size,
        help="pairs per step; under torchrun --nproc-per-node N the N processes draw batch-size / N each",
    )  # fmt: skip
    p.add_argument("--lr", type=float, default=d.lr)
    p.add_argument("--operator", default=d.operator, help="transition | lazy | successor[:lambda] | time-lag[:tau]")
    p.add_argument("--episodes", type=int, default=d.episodes, help="random-walk episodes of replay")
    p.add_argument("--episode-length", type=int, default=d.episode_length)
    p.add_argument(
        "--realign-every", type=int, default=d.realign_every,
        help="nested methods: Rayleigh-Ritz step on the output layer every N steps and at the end (0: off)",
    )  # fmt: skip
    p.add_argument(
        "--final-realign-batches", type=int, default=d.final_realign_batches,
        help="with --realign-every: the last Rayleigh-Ritz step solves on N fresh batches (0: the running average)",
    )  # fmt: skip
    p.add_argument(
        "--no-dedup", action="store_true", help="every pair through the network (default: each distinct state once)"
    )
    p.add_argument("--extra-modes", type=int, default=d.extra_modes, help="learn k + N modes, score the top k")
    p.add_argument("--schedule", choices=["cosine", "constant"], default=d.schedule, help="learning-rate schedule")
    p.add_argument("--fourier-features", type=int, default=d.fourier_features, help="xy inputs; 0: raw (x, y)")
    p.add_argument(
        "--preset", choices=["published"],
        help="allo / ggdo: the authors' training settings (rlspectral.baselines.PUBLISHED, docs/baselines.md) in "
        "place of the flags above; --steps, --seed and --k stay yours",
    )  # fmt: skip
    p.add_argument(
        "--device", default="cpu",
        help="cpu, cuda or cuda:N (pairs are sampled on the CPU); under torchrun each process takes cuda:LOCAL_RANK",
    )  # fmt: skip
    add_run_arguments(p, "runs/fit", d.seed)


def run_fit(args: argparse.Namespace) -> int:
    """Run ``rlspectral fit``; the flags are :class:`GridFitConfig` fields, checked by it (a bad one is a one-line
    :class:`~rlspectral.errors.ConfigError`, which the command line reports under the flag's name)."""
    fields = dict(
        layout=_layout_from(args),
        obs=args.obs,
        method=args.method,
        k=args.k,
        steps=args.steps,
        batch_size=args.batch_size,
        lr=args.lr,
        operator=args.operator,
        episodes=args.episodes,
        episode_length=args.episode_length,
        seed=args.seed,
        realign_every=args.realign_every,
        extra_modes=args.extra_modes,
        final_realign_batches=args.final_realign_batches,
        threads=args.threads,
        device=args.device,
        eval_every=max(1, min(100, args.steps // 10)),
        schedule=args.schedule,
        fourier_features=args.fourier_features,
        dedup=not args.no_dedup,
    )
    if args.preset == "published":
        fields.update(published_settings(args.method))
    cfg = GridFitConfig(**fields)
    m = fit_gridworld(cfg, out=args.out, progress=not args.no_progress)
    from rlspectral.distributed import is_main, world

    if not is_main():
        return 0  # under torchrun rank 0 reports and writes
    procs = world()[1]
    print(
        f"{cfg.layout} {cfg.method} k={m['k']}: mean cosine {m['mean_cosine_similarity']:.4f} "
        f"(Rayleigh-Ritz {m['rr_mean_cosine_similarity']:.4f}) in {m['wall_time_s']:.1f}s "
        f"({m['steps_per_s']:.0f} steps/s{f', {procs} processes' if procs > 1 else ''}) -> {args.out}"
    )
    return 0
