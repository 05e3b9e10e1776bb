"""The ``rlspectral`` command line: ``fit`` (gridworld eigenfunctions), ``fit-traj`` (Koopman eigenfunctions of a
trajectory file), ``train`` (an SB3 agent), ``demo``."""

from __future__ import annotations

import argparse
import json
import sys
import warnings
from pathlib import Path

from rlspectral.errors import SpectralError


class OneLineParser(argparse.ArgumentParser):
    """argparse that reports a bad argument in one line and exits with code 2."""

    def error(self, message: str):  # type: ignore[override]
        sys.stderr.write(f"{self.prog}: error: {message} (see --help)\n")
        sys.exit(2)


def _layout_from(args: argparse.Namespace) -> str:
    if args.layout:
        return args.layout
    env = args.env
    if env.startswith("rlspectral/"):
        env = env[len("rlspectral/") :]
    return env[:-3] if env.endswith("-v0") else env


def add_fit_arguments(p: argparse.ArgumentParser) -> None:
    from envs.benchmark import GridFitConfig
    from rlspectral.objectives import METHODS

    d = GridFitConfig()
    src = p.add_mutually_exclusive_group()
    src.add_argument("--env", default="rlspectral/GridRoom-4-v0", help="registered gridworld id or layout name")
    src.add_argument("--layout", help="path to a text layout file (X or # = wall)")
    p.add_argument("--obs", choices=["xy", "onehot", "pixels"], default=d.obs)
    p.add_argument("--method", choices=METHODS, default=d.method)
    p.add_argument("--dim", type=int, default=d.k, help="number of eigenfunctions k")
    p.add_argument("--steps", type=int, default=d.steps)
    p.add_argument("--batch-size", type=int, default=d.batch_size)
    p.add_argument("--lr", type=float, default=d.lr)
    p.add_argument("--operator", default=d.operator, help="transition | lazy | successor[:lambda]")
    p.add_argument("--episodes", type=int, default=d.episodes, help="random-walk episodes of replay")
    p.add_argument("--episode-length", type=int, default=d.episode_length)
    p.add_argument("--seed", type=int, default=d.seed)
    p.add_argument(
        "--realign-every", type=int, default=d.realign_every,
        help="nested methods: Rayleigh-Ritz step on the output layer every N steps and at the end (0: off)",
    )  # fmt: skip
    p.add_argument("--extra-modes", type=int, default=d.extra_modes, help="learn k + N modes, score the top k")
    p.add_argument("--threads", type=int, default=0, help="torch threads (0: torch's default)")
    p.add_argument("--device", default="cpu", help="cpu, cuda or cuda:N (pairs are sampled on the CPU)")
    p.add_argument("--out", default="runs/fit", help="output directory")
    p.add_argument("--no-progress", action="store_true")


def run_fit(args: argparse.Namespace) -> int:
    from envs.benchmark import GridFitConfig, fit_gridworld
    from rlspectral.operators import make_operator

    for name in ("dim", "steps", "batch_size", "episodes", "episode_length"):
        if getattr(args, name) < 1:
            raise SpectralError(f"--{name.replace('_', '-')} must be >= 1, got {getattr(args, name)}")
    for name in ("realign_every", "extra_modes"):
        if getattr(args, name) < 0:
            raise SpectralError(f"--{name.replace('_', '-')} must be >= 0, got {getattr(args, name)}")
    if args.lr <= 0:
        raise SpectralError(f"--lr must be > 0, got {args.lr}")
    try:
        make_operator(args.operator)
    except ValueError as e:
        raise SpectralError(str(e)) from None
    _check_device(args.device)
    cfg = GridFitConfig(
        layout=_layout_from(args),
        obs=args.obs,
        method=args.method,
        k=args.dim,
        steps=args.steps,
        batch_size=args.batch_size,
        lr=args.lr,
        operator=args.operator,
        episodes=args.episodes,
        episode_length=args.episode_length,
        seed=args.seed,
        realign_every=args.realign_every,
        extra_modes=args.extra_modes,
        threads=args.threads,
        device=args.device,
        eval_every=max(1, min(100, args.steps // 10)),
    )
    m = fit_gridworld(cfg, out=args.out, progress=not args.no_progress)
    print(
        f"{cfg.layout} {cfg.method} k={m['k']}: mean cosine {m['mean_cosine_similarity']:.4f} "
        f"(Rayleigh-Ritz {m['rr_mean_cosine_similarity']:.4f}) in {m['wall_time_s']:.1f}s "
        f"({m['steps_per_s']:.0f} steps/s) -> {args.out}"
    )
    return 0


def _check_device(device: str) -> None:
    """A one-line error for a device torch cannot use here."""
    import torch

    try:
        dev = torch.device(device)
    except (RuntimeError, ValueError):
        raise SpectralError(f"--device {device!r} is not a torch device: use cpu, cuda or cuda:N") from None
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise SpectralError(f"--device {device}: this torch build sees no CUDA GPU; use --device cpu")
    if dev.type not in ("cpu", "cuda"):
        raise SpectralError(f"--device {device}: only cpu and cuda are supported")


def build_parser() -> argparse.ArgumentParser:
    parser = OneLineParser(prog="rlspectral", description=__doc__)
    sub = parser.add_subparsers(dest="command", parser_class=OneLineParser)
    fit = sub.add_parser("fit", help="learn gridworld eigenfunctions from random-walk replay and score them")
    add_fit_arguments(fit)
    try:
        from agents.train import add_train_arguments

        add_train_arguments(sub.add_parser("train", help="train an SB3 agent with spectral features / bonuses"))
    except ImportError:  # pragma: no cover - agents not installed
        pass
    from rlspectral.koopman_cli import add_traj_arguments

    add_traj_arguments(sub.add_parser("fit-traj", help="Koopman eigenfunctions from a trajectory file (.npy/.npz)"))
    demo = sub.add_parser("demo", help="the whole story on a built-in default, in a few minutes")
    demo.add_argument("--out", default="runs/demo")
    demo.add_argument("--quick", action="store_true", help="a smaller budget (for smoke tests)")
    demo.add_argument("--threads", type=int, default=0, help="torch threads (0: torch's default)")
    return parser


def run_demo(args: argparse.Namespace) -> int:
    from rlspectral.demo import run_demo as demo

    if args.threads:
        import torch

        torch.set_num_threads(args.threads)
    summary = demo(Path(args.out), quick=args.quick)
    print(json.dumps(summary, indent=1))
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 2
    warnings.filterwarnings("ignore", category=UserWarning, module="gymnasium")
    try:
        if args.command == "fit":
            return run_fit(args)
        if args.command == "fit-traj":
            from rlspectral.koopman_cli import run_traj

            return run_traj(args)
        if args.command == "train":
            from agents.train import run_train

            return run_train(args)
        return run_demo(args)
    except SpectralError as e:
        sys.stderr.write(f"rlspectral {args.command}: error: {e}\n")
        return 2


if __name__ == "__main__":
    sys.exit(main())
