"""``rlspectral train``: an SB3 agent from a recipe (:mod:`rlspectral.agents.recipes`); flags override the recipe."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from rlspectral.agents.train import ALGO_NAMES, BONUS_NAMES, FEATURES
from rlspectral.errors import SpectralError, command_line_message


def add_train_arguments(parser: argparse.ArgumentParser) -> None:
    """Flags of ``rlspectral train``; those left out take the recipe's value."""
    parser.add_argument("--env", required=True, help="gymnasium id, e.g. rlspectral/GridRoom-4-Goal-v0, Pendulum-v1")
    parser.add_argument("--algo", choices=ALGO_NAMES, default="ppo")
    parser.add_argument(
        "--features", choices=FEATURES, default="raw", help="policy input: raw obs, eigenfunctions, both"
    )
    parser.add_argument("--bonus", choices=["none", *BONUS_NAMES], default="none", help="intrinsic reward")
    parser.add_argument("--steps", type=int, help="environment steps (default: the recipe's)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", default="runs/train", help="output directory")
    parser.add_argument("--mode", choices=["frozen", "finetune"], help="spectral features: frozen or finetuned by RL")
    parser.add_argument("--checkpoint", help="pretrained SpectralLearner checkpoint (default: learn online)")
    parser.add_argument("--obs", choices=["xy", "onehot", "pixels"], help="gridworld observation type")
    parser.add_argument("--bonus-coef", type=float, help="intrinsic reward coefficient")
    parser.add_argument("--n-envs", type=int, help="parallel environments")
    parser.add_argument("--eval-every", type=int, help="env steps between evaluations (default: the recipe's)")
    parser.add_argument("--view", choices=["full", "egocentric"], help="MiniGrid observation (default: the recipe's)")
    parser.add_argument("--threads", type=int, default=0, help="torch threads (0: torch's default)")
    parser.add_argument("--no-progress", action="store_true")


def run_train(args: argparse.Namespace) -> int:
    """Run ``train`` from parsed flags; a bad env, space or flag is one line on stderr and exit code 2."""
    overrides: dict[str, Any] = {"progress": not args.no_progress}
    for name in ("mode", "checkpoint", "obs", "n_envs", "threads", "eval_every", "view"):
        if getattr(args, name, None) is not None:
            overrides[name] = getattr(args, name)
    if args.bonus_coef is not None:
        overrides["bonus_kwargs"] = {"coef": args.bonus_coef}
    from rlspectral.agents.train import train

    try:
        res = train(args.env, args.algo, args.features, args.bonus, args.steps, args.seed, args.out, **overrides)
    except SpectralError as e:
        sys.stderr.write(f"rlspectral train: error: {command_line_message(e, vars(args))}\n")
        return 2
    if res.get("spectral_updates") == 0:
        schedule = res["config"].get("callback", {})
        sys.stderr.write(
            f"rlspectral train: warning: the spectral features were never trained (0 updates in {res['steps']} "
            f"steps, learning_starts={schedule.get('learning_starts')}): the agent ran on an untrained network; "
            "raise --steps\n"
        )
    final = res["final"] or {}
    success = final.get("success_rate")
    ret = final.get("return_mean", float("nan"))
    print(
        f"{args.algo} on {args.env} ({args.features}, bonus {args.bonus}): return {ret:.3g}"
        + (f", success {success:.2f}" if success is not None else "")
        + f" after {res['steps']} steps in {res['wall_time_s']:.0f}s -> {args.out}"
    )
    return 0
