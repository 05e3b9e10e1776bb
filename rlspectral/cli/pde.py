"""``rlspectral fit-pde``: bound states of a Schrodinger operator (hydrogen-like or harmonic oscillator, 2D / 3D) with
the nested objectives, scored against the closed forms (:func:`rlspectral.pde.fit_pde`).

Writes ``metrics.json`` (``energies`` / ``exact_energies`` ascending, relative errors, per-shell subspace cosines,
orthogonality error, wall time), ``eigenfunctions.png`` (learned vs exact; 3D: the z = 0 slice), ``model.pt``
(``rlspectral.pde.load``) and TensorBoard scalars under ``tb/``.
"""

from __future__ import annotations

import argparse

from rlspectral.cli.common import add_run_arguments
from rlspectral.pde.fit import PDE_METHODS, PDEFitConfig, fit_pde
from rlspectral.pde.learner import ROUTES


def add_pde_arguments(p: argparse.ArgumentParser) -> None:
    d = PDEFitConfig()
    p.add_argument("--system", choices=["hydrogen", "oscillator"], default=d.system)
    p.add_argument("--dim", type=int, default=d.dim, help="2 or 3")
    p.add_argument("--charge", type=float, default=d.charge, help="hydrogen: nuclear charge Z")
    p.add_argument("--omega", type=float, nargs="+", default=None, help="oscillator: one frequency, or one per axis")
    p.add_argument(
        "--kinetic", type=float, default=d.kinetic, help="kappa of -kappa Delta (0.5; 1: NeuralSVD's -Delta)"
    )
    p.add_argument("--modes", type=int, default=d.modes, help="number of bound states k (lowest energies)")
    p.add_argument("--extra-modes", type=int, default=d.extra_modes, help="learn modes + N functions, score modes")
    p.add_argument("--method", choices=PDE_METHODS, default=d.method)
    p.add_argument("--steps", type=int, default=d.steps)
    p.add_argument("--batch-size", type=int, default=d.batch_size)
    p.add_argument("--lr", type=float, default=d.lr)
    p.add_argument("--hidden", type=int, nargs="+", default=list(d.hidden), help="hidden layer widths")
    p.add_argument("--route", choices=ROUTES, default=d.route, help="how derivatives enter the quadratic form")
    p.add_argument("--shift", type=float, default=None, help="c of the operator c - H (default: per system)")
    p.add_argument(
        "--realign-every", type=int, default=d.realign_every, help="periodic Rayleigh-Ritz steps every N (0: off)"
    )
    p.add_argument("--eval-every", type=int, default=d.eval_every, help="quadrature scores every N steps (0: end)")
    p.add_argument("--init", default="", help="start from a model.pt of an earlier fit")
    add_run_arguments(p, "runs/fit-pde", d.seed)


def run_pde(args: argparse.Namespace) -> int:
    """Fit and write outputs; a bad flag is a one-line ConfigError (exit 2 in ``rlspectral.cli.main``)."""
    import torch

    cfg = PDEFitConfig(
        system=args.system,
        dim=args.dim,
        charge=args.charge,
        omega=tuple(args.omega or ()),
        kinetic=args.kinetic,
        modes=args.modes,
        extra_modes=args.extra_modes,
        method=args.method,
        steps=args.steps,
        batch_size=args.batch_size,
        lr=args.lr,
        hidden=tuple(args.hidden),
        route=args.route,
        shift=args.shift,
        realign_every=args.realign_every,
        eval_every=args.eval_every,
        init=args.init,
        seed=args.seed,
    )
    if args.threads:
        torch.set_num_threads(args.threads)
    m = fit_pde(cfg, out=args.out, progress=not args.no_progress)
    print(
        f"{cfg.system} {cfg.dim}D {cfg.method} k={cfg.modes}: "
        f"mean relative energy error {m['mean_relative_error']:.2e}, "
        f"min shell cosine {m['min_shell_cosine']:.4f} in {m['wall_time_s']:.1f}s -> {args.out}"
    )
    return 0
