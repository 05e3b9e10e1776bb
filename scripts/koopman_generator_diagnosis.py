"""Why does the generator objective miss the slowest triple-well mode by -3.6 %? Measurements (issue 23).

    python -m scripts.koopman_generator_diagnosis --out results/koopman_generator_diagnosis            # resumable
    python -m scripts.koopman_generator_diagnosis --out results/koopman_generator_diagnosis --summarize-only

The 2-D triple well of scripts/koopman_benchmark.py (beta 1.3, 8000 stationary trajectories of 1000 steps, dt 0.01,
k = 7 with the constant) and its generator fit settings (MLP 2 x 128 on 32 Fourier features of scale 0.5, batch 1024,
lr 3e-3 cosine, 2000 steps, shift 12). Every row reports the implied timescales ``-1 / lambda_i`` of modes 1-5 as a
relative error against the finite-volume reference, from up to two estimators on the same functions:

* ``dirichlet``: the generator's Galerkin matrices ``M = E[psi psi^T]``, ``L = -beta^-1 E[grad psi . grad psi^T]``
  on 200,000 training states (what the generator method reports);
* ``dirichlet_1m``: the same on 1,000,000 other training states (the sampling error of the matrices);
* ``lag``: the time-lag Koopman matrix ``C00^-1 C01`` (lag 10 steps, detailed balance) on 200,000 training pairs.

Rows: ``oracle-grid`` (the reference eigenfunctions, Dirichlet form by quadrature on the grid: the reference's own
consistency), ``oracle-samples`` (the reference eigenfunctions on the training states: the sampling floor;
``-4m`` on 4,000,000 states instead of 200,000), and
generator fits varying one factor at a time: the budget (6000 steps), the shift kappa (8, 24), the batch (4096) and
the basis (Fourier scale 1.0; no Fourier features).
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import numpy as np

from rlspectral import report
from rlspectral.sweep import finished, run_jobs, seed_range, sweep_parser

SYSTEM, LAG, K, MODES, STATES, BIG = "triple-well-2d", 10, 7, 5, 200_000, 1_000_000
BASE: dict[str, Any] = dict(
    method="generator", lag=LAG, k=K, steps=2000, batch_size=1024, lr=3e-3, hidden=(128, 128), fourier_features=32,
    fourier_scale=0.5, shift=12.0,
)  # fmt: skip
VARIANTS: dict[str, dict[str, Any]] = {
    "base": {},
    "steps-6000": dict(steps=6000),
    "shift-8": dict(shift=8.0),
    "shift-24": dict(shift=24.0),
    "batch-4096": dict(batch_size=4096),
    "fourier-scale-1": dict(fourier_scale=1.0),
    "no-fourier": dict(fourier_features=0),
}


def _data() -> np.ndarray:
    from rlspectral.envs.langevin import trajectories

    return trajectories(SYSTEM, 8000, 1000, seed=0)


def _errors(values: np.ndarray, ref_ts: np.ndarray, rates: bool) -> list[float]:
    """Relative timescale errors of modes 1..MODES from generator rates or lag-10 transfer eigenvalues."""
    v = np.sort(np.real(values))[::-1][1 : MODES + 1]
    ts = -1.0 / v if rates else -LAG * 0.01 / np.log(v)
    return (ts / ref_ts - 1).tolist()


def _oracle(kind: str, states: int = STATES) -> dict[str, Any]:
    """Reference eigenfunctions (and their grid gradients) through the Dirichlet Galerkin estimator."""
    from rlspectral.envs.langevin import reference_spectrum
    from rlspectral.koopman import generator_model, koopman_model, lagged_pairs

    ref = reference_spectrum(SYSTEM, k=8)
    beta, shape = ref.system.beta, ref.shape
    phi = ref.functions[:, :K]
    grads = [np.gradient(phi.reshape(*shape, K), ax, axis=a).reshape(-1, K) for a, ax in enumerate(ref.axes)]
    ref_ts = ref.timescales()[:MODES]
    out: dict[str, Any] = {}
    if kind == "grid":
        w = ref.pi[:, None]
        M = phi.T @ (w * phi)
        L = -sum(g.T @ (w * g) for g in grads) / beta
    else:
        trajs = list(_data())
        x0, x1 = lagged_pairs(trajs, LAG, states, seed=2)
        states = np.concatenate([x0, x1])[:states].astype(np.float64)
        F = ref.evaluate(states)[:, :K]
        J = [ref.evaluate(states, g)[:, :K] for g in grads]
        M = F.T @ F / len(F)
        L = -sum(j.T @ j for j in J) / len(F) / beta
        lag = koopman_model(ref.evaluate(x0)[:, :K], ref.evaluate(x1)[:, :K], LAG * 0.01)
        out["lag_err"] = _errors(lag.values, ref_ts, rates=False)
    model = generator_model(M, L, LAG * 0.01)
    out["dirichlet_err"] = _errors(model.rates, ref_ts, rates=True)
    return out


def run_job(job: dict[str, Any], job_dir: Path) -> dict[str, Any]:
    import torch

    torch.set_num_threads(1)
    t0 = time.perf_counter()
    result: dict[str, Any] = {"id": job["id"], "variant": job["variant"], "seed": job["seed"]}
    if job["variant"].startswith("oracle"):
        result.update(_oracle(job["variant"].split("-")[1], job.get("states", STATES)))
        result["wall_time_s"] = time.perf_counter() - t0
        return result
    from rlspectral.envs.langevin import get_system, reference_spectrum
    from rlspectral.koopman import TrajFitConfig, fit_trajectories, generator_model, koopman_model, lagged_pairs

    system, ref = get_system(SYSTEM), reference_spectrum(SYSTEM, k=8)
    ref_ts = ref.timescales()[:MODES]
    cfg = TrajFitConfig(**{**BASE, **VARIANTS[job["variant"]]}, dt=system.dt, beta=system.beta, seed=job["seed"])
    trajs = list(_data())
    fit = fit_trajectories(trajs, cfg)
    x0, x1 = lagged_pairs(trajs, LAG, STATES, seed=job["seed"] + 2)
    lag = koopman_model(fit.features(x0), fit.features(x1), LAG * system.dt)
    b0, b1 = lagged_pairs(trajs, LAG, BIG // 2, seed=job["seed"] + 3)
    big = generator_model(*fit.learner.matrices(torch.from_numpy(np.concatenate([b0, b1]))), LAG * system.dt)
    result.update(
        dirichlet_err=_errors(fit.model.rates, ref_ts, rates=True),
        dirichlet_1m_err=_errors(big.rates, ref_ts, rates=True),
        lag_err=_errors(lag.values, ref_ts, rates=False),
        train_time_s=fit.stats["wall_time_s"],
        wall_time_s=time.perf_counter() - t0,
    )
    return result


def summarize(results: list[dict[str, Any]], out: Path) -> None:
    report.write_json(out / "results.json", sorted(results, key=lambda r: r["id"]))
    header = ["row", "seeds", "estimator", "mode 1 (t = 5.07)", "mode 2", "mode 3", "mode 4", "mode 5", "train s"]
    rows = []
    order = ["oracle-grid", "oracle-samples", "oracle-samples-4m", *VARIANTS]
    for (variant,), rs in report.groups(results, variant=order):
        for est in ("dirichlet", "dirichlet_1m", "lag"):
            key = f"{est}_err"
            if key not in rs[0]:
                continue
            errs = np.array([r[key] for r in rs]) * 100
            cells = [report.pm(errs[:, i], "+.2f", std_of_one=False) + " %" for i in range(MODES)]
            wall = report.pm([r.get("train_time_s", 0.0) for r in rs], ".0f", std_of_one=False)
            rows.append([variant, len(rs), est, *cells, wall])
    lines = ["# Generator objective on the triple well: relative timescale errors", "",
             "'±' is the sample std (ddof=1) over seeds.", "", *report.markdown_table(header, rows), ""]  # fmt: skip
    report.write_markdown(out / "table.md", lines)


def main(argv: list[str] | None = None) -> None:
    p = sweep_parser(__doc__, "results/koopman_generator_diagnosis", seeds=1, workers=1, threads="--threads")
    p.add_argument("--variants", nargs="*", default=list(VARIANTS), choices=list(VARIANTS))
    args = p.parse_args(argv)
    out = Path(args.out)
    jobs = [{"id": f"oracle-{kind}__s0", "variant": f"oracle-{kind}", "seed": 0} for kind in ("grid", "samples")]
    jobs.append({"id": "oracle-samples-4m__s0", "variant": "oracle-samples-4m", "seed": 0, "states": 4_000_000})
    jobs += [{"id": f"{v}__s{s}", "variant": v, "seed": s} for s in seed_range(args) for v in args.variants]

    def describe(r: dict[str, Any]) -> str:
        return f"mode-1 error {100 * r['dirichlet_err'][0]:+.2f} % (Dirichlet)"

    run_jobs("scripts.koopman_generator_diagnosis:run_job", jobs, args, describe)
    results = finished(out, jobs)
    summarize(results, out)
    print(f"{len(results)}/{len(jobs)} jobs summarized in {out}/table.md")


if __name__ == "__main__":
    main()
