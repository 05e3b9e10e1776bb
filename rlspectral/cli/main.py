"""The ``rlspectral`` command line: ``fit`` (gridworld eigenfunctions), ``fit-traj`` (Koopman eigenfunctions of a
trajectory file), ``fit-graph`` (eigenfunctions of a graph's random walk), ``fit-pde`` (Schrodinger bound states),
``train`` (an SB3 agent), ``evaluate`` (a trained agent on its own environment), ``demo``."""

from __future__ import annotations

import argparse
import json
import sys
import warnings
from pathlib import Path

from rlspectral.cli.evaluate import add_evaluate_arguments, run_evaluate
from rlspectral.cli.fit import add_fit_arguments, run_fit
from rlspectral.cli.train import add_train_arguments, run_train
from rlspectral.errors import SpectralError, command_line_message


class OneLineParser(argparse.ArgumentParser):
    """argparse that reports a bad argument in one line and exits with code 2."""

    def error(self, message: str):  # type: ignore[override]
        sys.stderr.write(f"{self.prog}: error: {message} (see --help)\n")
        sys.exit(2)


def build_parser() -> argparse.ArgumentParser:
    parser = OneLineParser(prog="rlspectral", description=__doc__)
    sub = parser.add_subparsers(dest="command", parser_class=OneLineParser)
    fit = sub.add_parser("fit", help="learn gridworld eigenfunctions from random-walk replay and score them")
    add_fit_arguments(fit)
    add_train_arguments(sub.add_parser("train", help="train an SB3 agent with spectral features / bonuses"))
    add_evaluate_arguments(sub.add_parser("evaluate", help="run a model saved by train on its own environment"))
    from rlspectral.cli.traj import add_traj_arguments

    add_traj_arguments(sub.add_parser("fit-traj", help="Koopman eigenfunctions from a trajectory file (.npy/.npz)"))
    from rlspectral.cli.pde import add_pde_arguments

    add_pde_arguments(sub.add_parser("fit-pde", help="bound states of a Schrodinger operator (hydrogen, oscillator)"))

    from rlspectral.cli.graph import add_graph_arguments

    add_graph_arguments(sub.add_parser("fit-graph", help="eigenfunctions of a graph's random walk from its edges"))

    demo = sub.add_parser("demo", help="the whole story on a built-in default, in a few minutes")
    demo.add_argument("--out", default="runs/demo")
    demo.add_argument("--quick", action="store_true", help="a smaller budget (for smoke tests)")
    demo.add_argument("--threads", type=int, default=0, help="torch threads (0: torch's default)")
    demo.add_argument("--seeds", type=int, default=5, help="independent seeds, each with its own fit (default 5)")
    return parser


def run_demo(args: argparse.Namespace) -> int:
    from rlspectral.cli.demo import run_demo as demo

    if args.threads:
        import torch

        torch.set_num_threads(args.threads)
    summary = demo(Path(args.out), quick=args.quick, seeds=args.seeds)
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
        if args.command in ("fit", "fit-traj"):  # under torchrun: join the process group (rlspectral.distributed)
            from rlspectral import distributed

            device = distributed.init_from_environment(getattr(args, "device", "cpu"))
            if hasattr(args, "device"):
                args.device = device
        if args.command == "fit":
            return run_fit(args)
        if args.command == "fit-traj":
            from rlspectral.cli.traj import run_traj

            return run_traj(args)
        if args.command == "fit-pde":
            from rlspectral.cli.pde import run_pde

            return run_pde(args)
        if args.command == "fit-graph":
            from rlspectral.cli.graph import run_graph

            return run_graph(args)
        if args.command == "train":
            return run_train(args)
        if args.command == "evaluate":
            return run_evaluate(args)
        return run_demo(args)
    except SpectralError as e:  # a ConfigError about a field names the flag behind it (--batch-size, not batch_size)
        sys.stderr.write(f"rlspectral {args.command}: error: {command_line_message(e, vars(args))}\n")
        return 2
    finally:
        if "torch.distributed" in sys.modules:
            from rlspectral import distributed

            distributed.close()


if __name__ == "__main__":
    sys.exit(main())
