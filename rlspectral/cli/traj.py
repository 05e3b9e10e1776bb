"""``rlspectral fit-traj``: learn Koopman / transfer-operator eigenfunctions from a trajectory file.

Trajectory files:

* ``.npy``: one trajectory ``[T, d]`` (a 1-D array ``[T]`` is one scalar trajectory) or several of equal length
  ``[n_traj, T, d]``;
* ``.npz``: the same array under the key ``trajectories`` (or ``x``).

States are consecutive in time, ``--dt`` apart. Pairs (x_t, x_{t+lag}) never cross trajectories. A share of the
trajectories (or, for a single one, its last part) is held out for VAMP-2 / VAMP-E; with ``--validate-every``
(early stopping) or ``--estimator svd-rank`` its first half is the validation data and the second half the test.
Writes ``metrics.json`` (transfer eigenvalues, implied timescales of the non-constant modes in units of ``--dt``,
singular values, VAMP scores), TensorBoard logs under ``tb/``, ``eigenfunctions.npz`` (the learned eigenfunctions
at every state of the file, shaped like the input with d replaced by k) and ``model.pt``, the fitted model:
``rlspectral.koopman.load("model.pt")`` gives a :class:`~rlspectral.koopman.KoopmanFitModel` whose
``eigenfunctions(x)`` / ``timescales()`` are the fit's on new states (networks, input standardization, Koopman or
generator matrix, beta, shift, lag and dt are all in the file).
"""

from __future__ import annotations

import argparse
import json
import zipfile
from pathlib import Path

import numpy as np

from rlspectral.cli.common import add_run_arguments
from rlspectral.errors import SpectralError
from rlspectral.koopman import ESTIMATORS, TRAJ_METHODS, TrajFitConfig, fit_trajectories, lagged_pairs

KEYS = ("trajectories", "x")


def load_trajectories(path: str | Path) -> np.ndarray:
    """The file's trajectories as float32 ``[n_traj, T, d]``; any problem is one :class:`SpectralError` line."""
    path = Path(path)
    if not path.is_file():
        raise SpectralError(f"{path}: trajectory file not found")
    if path.suffix not in (".npy", ".npz"):
        raise SpectralError(f"{path}: expected a .npy or .npz trajectory file, not {path.suffix or 'no suffix'!r}")
    try:
        data = np.load(path, allow_pickle=False)
        if isinstance(data, np.lib.npyio.NpzFile):
            with data:
                key = next((k for k in KEYS if k in data.files), None)
                if key is None:
                    found = ", ".join(data.files) or "none"
                    raise SpectralError(f"{path}: no 'trajectories' or 'x' array in the .npz (found: {found})")
                arr = data[key]
        else:
            arr = data
    except SpectralError:
        raise
    except (OSError, ValueError, EOFError, zipfile.BadZipFile) as e:
        first = str(e).strip().splitlines()[0][:160] if str(e).strip() else type(e).__name__
        raise SpectralError(f"{path}: not a readable numpy file ({first})") from None
    if not np.issubdtype(arr.dtype, np.number) or np.issubdtype(arr.dtype, np.complexfloating):
        raise SpectralError(f"{path}: trajectories must hold real numbers, not dtype {arr.dtype}")
    if arr.ndim == 1:
        arr = arr[None, :, None]
    elif arr.ndim == 2:
        arr = arr[None]
    elif arr.ndim != 3:
        raise SpectralError(f"{path}: expected shape [T, d] or [n_traj, T, d], got {list(arr.shape)}")
    if arr.size == 0:
        raise SpectralError(f"{path}: the trajectory array is empty (shape {list(arr.shape)})")
    if not np.all(np.isfinite(arr)):
        raise SpectralError(f"{path}: trajectories contain NaN or inf")
    return arr.astype(np.float32)


def split_holdout(trajs: np.ndarray, holdout: float, lag: int) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """Hold out the last ``holdout`` share of the trajectories, or of the time axis for a single trajectory."""
    n, T = trajs.shape[:2]
    if holdout <= 0:
        return list(trajs), []
    if n >= 2:
        cut = min(n - 1, max(1, int(round(n * holdout))))
        return list(trajs[: n - cut]), list(trajs[n - cut :])
    cut = int(T * (1 - holdout))
    if cut <= lag or T - cut <= lag:
        return list(trajs), []
    return [trajs[0, :cut]], [trajs[0, cut:]]


def add_traj_arguments(p: argparse.ArgumentParser) -> None:
    d = TrajFitConfig()
    p.add_argument("path", help="trajectory file: .npy [T, d] or [n_traj, T, d]; .npz with key 'trajectories' or 'x'")
    p.add_argument("--lag", type=int, required=True, help="lag tau in saved steps")
    p.add_argument("--method", choices=TRAJ_METHODS, default=d.method)
    p.add_argument("--evd", action="store_true", help="one network, reversible (self-adjoint) moments")
    p.add_argument("--k", type=int, default=d.k, help="number of functions k, including the constant")
    p.add_argument("--dim", dest="k", type=int, default=argparse.SUPPRESS, help=argparse.SUPPRESS)  # old name
    p.add_argument("--steps", type=int, default=d.steps)
    p.add_argument("--batch-size", type=int, default=d.batch_size)
    p.add_argument("--lr", type=float, default=d.lr)
    p.add_argument("--dt", type=float, default=d.dt, help="time between saved states (timescale unit)")
    p.add_argument("--beta", type=float, default=d.beta, help="generator: inverse temperature, noise sqrt(2/beta)")
    p.add_argument(
        "--shift", type=float, default=d.shift, help="generator: s of shift I + L, above -lambda of the modes wanted"
    )
    p.add_argument("--kappa", dest="shift", type=float, default=argparse.SUPPRESS, help=argparse.SUPPRESS)  # old name
    p.add_argument("--irreversible", action="store_true", help="general Koopman matrix (no detailed balance)")
    p.add_argument(
        "--estimator",
        choices=ESTIMATORS,
        default=d.estimator,
        help="Koopman matrix: galerkin (C00^-1 C01 on f), svd (truncated SVD of f, g: non-reversible dynamics) or "
        "svd-rank (that SVD at the rank with the best held-out VAMP-E)",
    )
    p.add_argument("--holdout", type=float, default=0.2, help="share of the data held out for VAMP scores")
    p.add_argument(
        "--validate-every",
        type=int,
        default=d.validate_every,
        metavar="N",
        help="early stopping: score held-out VAMP-E every N steps and keep the best networks (0: off)",
    )
    add_run_arguments(p, "runs/fit-traj", d.seed)


def run_traj(args: argparse.Namespace) -> int:
    """Fit, score and write outputs (module doc); raises SpectralError (ConfigError for a bad flag) on bad input."""
    import torch

    cfg = TrajFitConfig(
        method=args.method,
        svd=not args.evd,
        lag=args.lag,
        dt=args.dt,
        k=args.k,
        steps=args.steps,
        batch_size=args.batch_size,
        lr=args.lr,
        beta=args.beta,
        shift=args.shift,
        reversible=not args.irreversible,
        estimator=args.estimator,
        standardize=True,
        seed=args.seed,
        holdout=args.holdout,
        validate_every=args.validate_every,
        threads=args.threads,
    )
    trajs = load_trajectories(args.path)
    if trajs.shape[1] <= args.lag:
        raise SpectralError(f"{args.path}: trajectories have {trajs.shape[1]} states, not more than --lag {args.lag}")
    if args.threads:
        torch.set_num_threads(args.threads)
    train, test = split_holdout(trajs, cfg.holdout, cfg.lag)
    valid = None
    if cfg.validate_every or cfg.estimator == "svd-rank":  # the held-out part: first half validation, second test
        if not test:
            raise SpectralError(
                f"{args.path}: --validate-every / --estimator svd-rank need held-out data and --holdout "
                f"{cfg.holdout} leaves none longer than --lag {cfg.lag}; raise --holdout or pass more trajectories"
            )
        valid, test = split_holdout(np.stack(test), 0.5, cfg.lag)  # too short to halve: all of it validates
    from rlspectral.distributed import is_main

    fit = fit_trajectories(
        train, cfg, progress=not args.no_progress, valid=valid, log_dir=Path(args.out) / "tb" if is_main() else None
    )

    if not is_main():
        return 0  # under torchrun rank 0 scores and writes
    model = fit.fetch_model()
    metrics: dict = {
        "file": str(args.path),
        "shape": list(trajs.shape),
        "transfer_eigenvalues": np.real(model.values).tolist(),
        "implied_timescales": model.timescales()[1:].tolist(),  # modes 1..k-1 (mode 0 is the constant)
        **fit.stats,
        "config": cfg.to_dict(),
    }
    if model.rates is not None:
        metrics["generator_eigenvalues"] = np.real(model.rates).tolist()
    if test:
        metrics.update({f"{key}_test": v for key, v in model.scores(*lagged_pairs(test, args.lag, 200_000)).items()})
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "metrics.json").write_text(json.dumps(metrics, indent=1))
    phi = model.eigenfunctions(trajs.reshape(-1, trajs.shape[-1])).reshape(*trajs.shape[:2], -1)
    np.savez_compressed(
        out / "eigenfunctions.npz", eigenfunctions=phi.astype(np.float32), values=metrics["transfer_eigenvalues"]
    )
    model.save(out / "model.pt")
    ts = ", ".join(f"{t:.4g}" for t in metrics["implied_timescales"][:3])
    vamp = f", VAMP-2 (held out) {metrics['vamp2_test']:.4f}" if test else ""
    if "best_step" in fit.stats:
        vamp += f", networks of step {fit.stats['best_step']} (best held-out VAMP-E)"
    print(f"{args.method} k={args.k} lag={args.lag}: timescales {ts}{vamp} -> {out}")
    return 0
