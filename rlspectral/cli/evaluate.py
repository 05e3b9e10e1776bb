"""``rlspectral evaluate``: run a model saved by ``rlspectral train`` on its own environment."""

from __future__ import annotations

import argparse
from pathlib import Path

from rlspectral.agents.evaluate import EVALUATION_FILE, evaluate_run


def add_evaluate_arguments(parser: argparse.ArgumentParser) -> None:
    """Flags of ``rlspectral evaluate``."""
    parser.add_argument("--model", required=True, help="output directory of rlspectral train (or its model.zip)")
    parser.add_argument("--episodes", type=int, default=10)
    parser.add_argument("--stochastic", action="store_true", help="sample actions (default: deterministic)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the evaluation env")
    parser.add_argument("--out", help=f"where to write the results (default: DIR/{EVALUATION_FILE})")


def run_evaluate(args: argparse.Namespace) -> int:
    """Run :func:`evaluate_run` from parsed flags and print one summary line; errors raise :class:`SpectralError`
    (one line on stderr and exit code 2 from ``rlspectral``)."""
    res = evaluate_run(args.model, args.episodes, not args.stochastic, args.seed, args.out)
    success = res["success_rate"]
    out = args.out or str(Path(res["run"]) / EVALUATION_FILE)
    print(
        f"{res['algo']} on {res['env']} ({res['episodes']} episodes, "
        f"{'deterministic' if res['deterministic'] else 'stochastic'}): "
        f"return {res['return_mean']:.3g} +- {res['return_std']:.2g}"
        + (f", success {success:.2f}" if success is not None else "")
        + f" -> {out}"
    )
    return 0
