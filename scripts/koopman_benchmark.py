"""Koopman / Langevin benchmark: NestedLoRA (SVD, EVD), generator (Dirichlet form), VAMPnet, DPNet; one harness.

    python -m scripts.koopman_benchmark --out results/koopman                   # resumable; 2 local processes
    python -m scripts.koopman_benchmark --out results/koopman --ray auto        # the same sweep on a Ray cluster
    python -m scripts.koopman_benchmark --out results/koopman --summarize-only  # tables from finished jobs

Systems (``rlspectral.envs.langevin``): an asymmetric 1-D double well and the 2-D triple well, overdamped Langevin,
Euler-Maruyama with sub-stepping, stationary starts. Every method sees the same training trajectories, network
(MLP 2x128 on 32 random Fourier features), batch, steps and learning-rate schedule; seeds change the network
initialization and the batches. All eigenvalues come from the same post-processing (Koopman matrix on the
learned functions, whitening + small dense solve; the generator's from its Galerkin matrices).

Metrics against the finite-volume reference: relative error of the implied timescales ``t_i = -tau / ln mu_i``
of the top non-trivial modes, L2(rho) cosine of the eigenfunctions (reference grid, weights pi), VAMP-2 / VAMP-E
on held-out trajectories, and the error of ``E[h(x_{t + n tau}) | x_t]`` (h = coordinates) for n = 1..50
against Monte Carlo. An "oracle" row applies the same estimator to the reference eigenfunctions: the floor
the finite data sets. Writes results.json / results.csv / table.md and PNG plots into ``--out``.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import numpy as np

from rlspectral import report
from rlspectral.plots import pyplot, save_figure
from rlspectral.sweep import finished, run_jobs, seed_range, sweep_parser

# Per system: data, lag (saved steps), k (with the constant mode), modes scored, training steps.
SYSTEMS: dict[str, dict[str, Any]] = {
    "double-well-1d": dict(n_traj=2000, length=1000, test_traj=500, lag=10, k=4, modes=3, steps=1000),
    "triple-well-2d": dict(n_traj=8000, length=1000, test_traj=1000, lag=10, k=7, modes=5, steps=2000),
}
COMMON: dict[str, Any] = dict(
    batch_size=1024, lr=3e-3, hidden=(128, 128), fourier_features=32, fourier_scale=0.5, shift=12.0
)
METHODS: dict[str, tuple[str, bool]] = {  # name -> (TrajFitConfig.method, svd)
    "lora-svd": ("nested-lora", True),
    "lora-evd": ("nested-lora", False),
    "generator": ("generator", False),
    "vampnet": ("vampnet", True),
    "dpnet": ("dpnet", True),
}
HORIZONS = np.arange(1, 51)  # prediction horizons, in lags (--horizon: 1 .. H)
MC = dict(points=16, paths=1000, substeps=20)  # --mc-paths: paths per start point
BLOCK_TOL = 0.02  # transfer eigenvalues closer than this form one block for the cosine (2-D: modes 5 and 6)
TRAIN_SEED, TEST_SEED = 0, 1000


def _horizons(job: dict[str, Any]) -> np.ndarray:
    """Prediction horizons 1 .. H lags of a job (H = ``horizon``, default 50)."""
    return np.arange(1, (job.get("horizon") or len(HORIZONS)) + 1)


def _observable(x: np.ndarray) -> np.ndarray:
    return np.asarray(x, dtype=np.float64)


def _data(name: str, cache: str | None, test: bool = False) -> np.ndarray:
    from rlspectral.envs.langevin import trajectories

    s = SYSTEMS[name]
    n = s["test_traj"] if test else s["n_traj"]
    return trajectories(name, n, s["length"], seed=TEST_SEED if test else TRAIN_SEED, cache_dir=cache)


def _mc(job: dict[str, Any], job_dir: Path) -> dict[str, Any]:
    """Start points from rho and the Monte Carlo truth E[h(x_{n tau}) | x_0] with its standard error."""
    from rlspectral.envs.langevin import get_system, monte_carlo_expectation, reference_spectrum

    t0 = time.perf_counter()
    name = job["system"]
    system, s = get_system(name), SYSTEMS[name]
    ref = reference_spectrum(name, k=8)
    x0 = ref.sample(MC["points"], np.random.default_rng(7))
    steps = s["lag"] * _horizons(job)
    paths = job.get("mc_paths") or MC["paths"]
    mc, err = monte_carlo_expectation(system, x0, _observable, steps, paths, substeps=MC["substeps"], seed=11)
    h = _observable(ref.centers)
    std = np.sqrt((ref.pi[:, None] * (h - ref.pi @ h) ** 2).sum(0))
    np.savez(job_dir / "mc.npz", x0=x0, mc=mc, err=err, std=std)
    noise = float(np.sqrt(np.mean((err / std) ** 2)))
    return {"id": job["id"], "kind": "mc", "system": name, "mc_noise": noise, "time_s": time.perf_counter() - t0}


def _oracle_fit(name: str, cache: str | None):
    """A TrajFit whose features are the reference eigenfunctions (interpolated), fed to the same estimator."""
    from rlspectral.envs.langevin import reference_spectrum
    from rlspectral.koopman import TrajFit, TrajFitConfig, covariances, koopman_model, lagged_pairs

    s = SYSTEMS[name]
    ref = reference_spectrum(name, k=8)

    class OracleFit(TrajFit):
        def features(self, x: np.ndarray, which: str = "f", batch: int = 0) -> np.ndarray:
            return ref.evaluate(np.asarray(x, dtype=np.float64))[:, : s["k"]]

    cfg = TrajFitConfig(method="nested-lora", lag=s["lag"], dt=ref.system.dt, k=s["k"])
    fit = OracleFit(cfg, None, None, np.zeros(ref.system.dim), np.ones(ref.system.dim))  # type: ignore[arg-type]
    x0, x1 = lagged_pairs(list(_data(name, cache)), s["lag"], 200_000, seed=2)
    F0, F1 = fit.features(x0), fit.features(x1)
    fit.model = koopman_model(F0, F1, s["lag"] * ref.system.dt)
    fit.states, fit.basis, fit.train_cov = x0, F0, covariances(F0, F1)
    return fit


def _evaluate(fit, name: str, cache: str | None, mc_path: Path, horizons: np.ndarray = HORIZONS) -> dict[str, Any]:
    """Timescales, cosines, held-out VAMP scores and prediction errors of one fitted model."""
    from rlspectral.envs.langevin import reference_spectrum
    from rlspectral.koopman import lagged_pairs
    from rlspectral.metrics import cosine_similarity

    s = SYSTEMS[name]
    ref = reference_spectrum(name, k=8)
    k, m = s["k"], s["modes"]
    lag_time = s["lag"] * ref.system.dt
    ts = fit.model.timescales()[1 : m + 1]
    ref_ts = ref.timescales()[:m]
    ref_mu = ref.transfer_values(lag_time)
    phi = fit.eigenfunctions(ref.centers)[:, :k]
    w = np.sqrt(ref.pi)[:, None]
    cos, _ = cosine_similarity(phi[:, 1:k] * w, ref.functions[:, 1:k] * w, ref_mu[1:k], tol=BLOCK_TOL)
    x0, x1 = lagged_pairs(list(_data(name, cache, test=True)), s["lag"], 200_000, seed=3)
    scores = fit.scores(x0, x1)
    mc = np.load(mc_path)
    b = fit.project(_observable)
    pred = np.stack([fit.predict(mc["x0"], b, int(n)) for n in horizons], axis=1)
    err_n = np.sqrt(np.mean(((pred - mc["mc"]) / mc["std"]) ** 2, axis=(0, 2)))
    return {
        "timescales": ts.tolist(),
        "ref_timescales": ref_ts.tolist(),
        "timescale_rel_err": (ts / ref_ts - 1).tolist(),
        "mean_abs_timescale_err": float(np.mean(np.abs(ts / ref_ts - 1))),
        "max_abs_timescale_err": float(np.max(np.abs(ts / ref_ts - 1))),
        "transfer_values": np.real(fit.model.values[: m + 1]).tolist(),
        "ref_transfer_values": ref_mu[: m + 1].tolist(),
        "cosine": cos[:m].tolist(),
        "mean_cosine": float(cos[:m].mean()),
        "min_cosine": float(cos[:m].min()),
        "vamp2_test": scores["vamp2"],
        "vamp_e_test": scores["vamp_e"],
        "ref_vamp2": float(np.sum(ref_mu[:k] ** 2)),
        "pred_err_by_n": err_n.tolist(),
        "pred_err_mean": float(np.sqrt(np.mean(err_n**2))),
        "pred_err_n50": float(err_n[49]),
        "pred_err_last": float(err_n[-1]),
    }


def _plot_values(fit, name: str) -> dict[str, np.ndarray]:
    """Learned eigenfunctions (signs matched to the reference) on a plotting grid."""
    from rlspectral.envs.langevin import reference_spectrum

    ref = reference_spectrum(name, k=8)
    axes = [np.linspace(lo, hi, 120 if ref.system.dim == 1 else 90) for lo, hi in ref.system.bounds]
    pts = np.stack(np.meshgrid(*axes, indexing="ij"), -1).reshape(-1, ref.system.dim)
    learned = fit.eigenfunctions(pts)[:, : SYSTEMS[name]["k"]]
    true = ref.evaluate(pts)[:, : learned.shape[1]]
    dens = ref.evaluate(pts, ref.pi[:, None])[:, 0]
    learned = learned * np.sign(np.sum(dens[:, None] * learned * true, axis=0) + 1e-30)
    return {"points": pts, "learned": learned, "true": true, "density": dens}


def run_job(job: dict[str, Any], job_dir: Path) -> dict[str, Any]:
    """One sweep job: ``data`` (simulate and cache), ``mc`` (Monte Carlo truth), ``fit`` or ``oracle``."""
    import torch

    torch.set_num_threads(1)
    name, cache = job["system"], job.get("cache")
    if job["kind"] == "data":
        t0 = time.perf_counter()
        shape = _data(name, cache, test=job["test"]).shape
        return {
            "id": job["id"],
            "kind": "data",
            "system": name,
            "shape": list(shape),
            "time_s": time.perf_counter() - t0,
        }
    if job["kind"] == "mc":
        return _mc(job, job_dir)
    mc_path = Path(job["mc_dir"]) / "mc.npz"
    if job["kind"] == "oracle":
        t0 = time.perf_counter()
        fit = _oracle_fit(name, cache)
        stats: dict[str, Any] = {"wall_time_s": time.perf_counter() - t0}
        method, seed = "oracle", 0
    else:
        from rlspectral.envs.langevin import get_system
        from rlspectral.koopman import TrajFitConfig, fit_trajectories

        s, system = SYSTEMS[name], get_system(name)
        meth, svd = METHODS[job["method"]]
        cfg = TrajFitConfig(
            method=meth,
            svd=svd,
            lag=s["lag"],
            dt=system.dt,
            k=s["k"],
            steps=job.get("steps") or s["steps"],
            beta=system.beta,
            seed=job["seed"],
            **COMMON,
        )
        fit = fit_trajectories(_data(name, cache), cfg)
        stats = {
            key: v for key, v in fit.stats.items() if key in ("wall_time_s", "post_time_s", "steps", "steps_per_s")
        }
        method, seed = job["method"], job["seed"]
    result = {"id": job["id"], "kind": "fit", "system": name, "method": method, "seed": seed, **stats}
    result.update(_evaluate(fit, name, cache, mc_path, _horizons(job)))
    if seed == 0:
        np.savez_compressed(job_dir / "eigenfunctions.npz", **_plot_values(fit, name))
    return result


# ----------------------------------------------------------------------------------------------- summary
TABLE = ["method", "seeds", "mean abs rel. timescale err", "max", "per-mode rel. err (mean)", "mean cos", "min cos",
         "VAMP-2 test", "VAMP-E test", "pred. err (n ≤ 50)", "pred. err (n = 50)", "train s"]  # fmt: skip


def _table(fits: list[dict[str, Any]]) -> list[str]:
    """The header; with ``--horizon H > 50`` the first prediction column is the mean over n <= H, plus n = H."""
    H = max((len(r["pred_err_by_n"]) for r in fits), default=len(HORIZONS))
    if H == len(HORIZONS):
        return TABLE
    head = [c.replace("n ≤ 50", f"n ≤ {H}") for c in TABLE]
    return [*head[:-1], f"pred. err (n = {H})", head[-1]]


def _row(method: str, rs: list[dict[str, Any]]) -> list[Any]:
    """A method's table row: mean ± sample std over seeds (a single run without the ±)."""

    def col(key: str, fmt: str = ".4f") -> str:
        return report.pm([r[key] for r in rs], fmt, std_of_one=False)

    per_mode = " ".join(f"{v:+.3f}" for v in np.mean([r["timescale_rel_err"] for r in rs], axis=0))
    long = [col("pred_err_last")] if len(rs[0]["pred_err_by_n"]) > len(HORIZONS) else []
    return [method, len(rs), col("mean_abs_timescale_err"), col("max_abs_timescale_err"), per_mode,
            col("mean_cosine"), col("min_cosine"), col("vamp2_test", ".3f"), col("vamp_e_test", ".3f"),
            col("pred_err_mean"), col("pred_err_n50"), *long, col("wall_time_s", ".0f")]  # fmt: skip


def summarize(results: list[dict[str, Any]], out: Path, systems: list[str], methods: list[str]) -> None:
    fits = [r for r in results if r.get("kind") == "fit"]
    mcs = {r["system"]: r for r in results if r.get("kind") == "mc"}
    report.write_json(out / "results.json", sorted(fits, key=lambda r: r["id"]))
    cols = [
        "system",
        "method",
        "seed",
        "mean_abs_timescale_err",
        "max_abs_timescale_err",
        "mean_cosine",
        "min_cosine",
        "vamp2_test",
        "vamp_e_test",
        "pred_err_mean",
        "pred_err_n50",
        "wall_time_s",
    ]
    rows = [{**r, "timescale_rel_err": " ".join(f"{v:+.4f}" for v in r["timescale_rel_err"]),
             "cosine": " ".join(f"{v:.5f}" for v in r["cosine"])}
            for r in sorted(fits, key=lambda r: (r["system"], r["method"], r["seed"]))]  # fmt: skip
    report.write_csv(out / "results.csv", rows, cols + ["timescale_rel_err", "cosine"])
    from rlspectral.envs.langevin import reference_spectrum

    lines = ["# Koopman / Langevin benchmark", ""]
    for name in systems:
        s = SYSTEMS[name]
        ref = reference_spectrum(name, k=8)
        lines += [
            f"## {name} (beta = {ref.system.beta}, tau = {s['lag']} steps = {s['lag'] * ref.system.dt:g}, "
            f"k = {s['k']} with the constant, {s['modes']} non-trivial modes scored)",
            "",
            "reference timescales t_i = -1/lambda_i: " + ", ".join(f"{t:.4f}" for t in ref.timescales()[: s["modes"]]),
            "",
            f"Monte Carlo standard error of the prediction truth (RMS / std h, a floor for the prediction error): "
            f"{mcs[name]['mc_noise']:.4f}"
            if name in mcs
            else "",
            "",
            *report.markdown_table(
                _table(fits),
                [_row(m, rs) for (_, m), rs in report.groups(fits, system=[name], method=["oracle", *methods])],
            ),
            "",
        ]
    report.write_markdown(out / "table.md", lines)
    _plots(fits, out, systems, methods)


def _plots(fits: list[dict[str, Any]], out: Path, systems: list[str], methods: list[str]) -> None:
    plt = pyplot()
    colors = dict(zip(["oracle", *METHODS], plt.rcParams["axes.prop_cycle"].by_key()["color"]))
    # Timescale errors and prediction errors per system.
    fig, axes = plt.subplots(2, len(systems), figsize=(5.5 * len(systems), 7), squeeze=False)
    for j, name in enumerate(systems):
        ax, bx = axes[0, j], axes[1, j]
        for i, meth in enumerate(["oracle", *methods]):
            rs = report.select(fits, system=name, method=meth)
            if not rs:
                continue
            e = 100 * np.array([r["timescale_rel_err"] for r in rs])
            modes = np.arange(1, e.shape[1] + 1) + 0.1 * (i - len(methods) / 2)
            ax.errorbar(
                modes,
                e.mean(0),
                yerr=e.std(0, ddof=1) if len(e) > 1 else None,
                fmt="o",
                label=meth,
                color=colors[meth],
                capsize=2,
            )
            p = np.array([r["pred_err_by_n"] for r in rs])
            bx.plot(np.arange(1, p.shape[1] + 1), p.mean(0), label=meth, color=colors[meth])
        ax.axhspan(-3, 3, color="0.9", zorder=0)
        ax.axhline(0, color="k", lw=0.5)
        ax.set_xlabel("mode i")
        ax.set_ylabel("timescale rel. error (%)")
        ax.set_title(name)
        ax.legend(fontsize=7)
        bx.set_xlabel("horizon n (lags)")
        bx.set_ylabel("pred. error / std(h)")
        bx.set_yscale("log")
        bx.legend(fontsize=7)
    save_figure(fig, out / "timescales.png")
    # Prediction error vs horizon (time units), mean ± sample std over seeds.
    fig, axes = plt.subplots(1, len(systems), figsize=(6 * len(systems), 4.2), squeeze=False)
    for ax, name in zip(axes[0], systems):
        tau = SYSTEMS[name]["lag"] * 0.01
        for meth in ["oracle", *methods]:
            rs = report.select(fits, system=name, method=meth)
            if rs:
                p = np.array([r["pred_err_by_n"] for r in rs])
                t = tau * np.arange(1, p.shape[1] + 1)
                ax.plot(t, p.mean(0), label=f"{meth} ({len(rs)})", color=colors[meth], lw=1.2)
                if len(p) > 1:
                    sd = p.std(0, ddof=1)
                    ax.fill_between(t, p.mean(0) - sd, p.mean(0) + sd, color=colors[meth], alpha=0.15)
        ax.set_xlabel("horizon (time units)")
        ax.set_ylabel("RMS error of E[x_t | x_0] / std")
        ax.set_title(f"{name}: prediction error vs horizon")
        ax.legend(fontsize=7)
    save_figure(fig, out / "prediction_horizon.png")
    # Eigenfunctions, seed 0: reference and each method.
    for name in systems:
        rows = {}
        for meth in ["oracle", *methods]:
            path = out / f"{name}__{meth}__s0" / "eigenfunctions.npz"
            if path.exists():
                rows[meth] = np.load(path)
        if not rows:
            continue
        first = next(iter(rows.values()))
        m = SYSTEMS[name]["modes"]
        pts, dens = first["points"], first["density"]
        if pts.shape[1] == 1:
            fig, axs = plt.subplots(1, m, figsize=(3.6 * m, 3.0), squeeze=False)
            for i in range(m):
                ax = axs[0, i]
                ax.fill_between(pts[:, 0], 0, dens / dens.max() * np.abs(first["true"][:, i + 1]).max(), color="0.9")
                ax.plot(pts[:, 0], first["true"][:, i + 1], "k", lw=2.5, label="reference")
                seen = dens / dens.max() > 1e-3  # learned functions are only defined where the data live
                for meth, d in rows.items():
                    if meth != "oracle":
                        y = np.where(seen, d["learned"][:, i + 1], np.nan)
                        ax.plot(pts[:, 0], y, lw=1, label=meth, color=colors[meth])
                ax.set_title(f"mode {i + 1}")
            axs[0, 0].legend(fontsize=7)
        else:
            n0 = int(round(np.sqrt(len(pts))))
            mask = (dens / dens.max() < 1e-3).reshape(n0, n0)
            names = ["reference"] + [meth for meth in rows if meth != "oracle"]
            fig, axs = plt.subplots(len(names), m, figsize=(2.0 * m, 2.0 * len(names)), squeeze=False)
            for r_i, meth in enumerate(names):
                for i in range(m):
                    v = (first["true"] if meth == "reference" else rows[meth]["learned"])[:, i + 1].reshape(n0, n0)
                    vmax = np.abs(np.where(mask, 0, first["true"][:, i + 1].reshape(n0, n0))).max()
                    ax = axs[r_i, i]
                    ax.imshow(np.ma.array(v, mask=mask).T, origin="lower", cmap="RdBu_r", vmin=-vmax, vmax=vmax)
                    ax.set_xticks([])
                    ax.set_yticks([])
                    if i == 0:
                        ax.set_ylabel(meth, fontsize=8)
                    if r_i == 0:
                        ax.set_title(f"mode {i + 1}", fontsize=8)
        save_figure(fig, out / f"eigenfunctions_{name}.png", dpi=100)


def make_jobs(args: Any) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The preparation jobs (simulate and cache the data, the Monte Carlo truth) and the fits that need them."""
    out, base = Path(args.out), {"cache": args.cache, "horizon": args.horizon, "mc_paths": args.mc_paths}
    prep = [{**base, "id": f"data__{n}__train", "kind": "data", "system": n, "test": False} for n in args.systems]
    prep += [{**base, "id": f"data__{n}__test", "kind": "data", "system": n, "test": True} for n in args.systems]
    prep += [{**base, "id": f"mc__{n}", "kind": "mc", "system": n} for n in args.systems]
    prep.sort(key=lambda j: j["system"] != "triple-well-2d")  # the slowest first
    fits = [
        {**base, "id": f"{n}__oracle__s0", "kind": "oracle", "system": n, "mc_dir": str(out / f"mc__{n}")}
        for n in args.systems
    ]
    fits += [
        {**base, "id": f"{n}__{meth}__s{seed}", "kind": "fit", "system": n, "method": meth, "seed": seed,
         "steps": args.steps, "mc_dir": str(out / f"mc__{n}")}
        for seed in seed_range(args)
        for n in sorted(args.systems, key=lambda n: n != "triple-well-2d")
        for meth in args.methods
    ]  # fmt: skip
    return prep, fits


def main(argv: list[str] | None = None) -> None:
    p = sweep_parser(__doc__, "results/koopman")
    p.add_argument("--systems", nargs="*", default=list(SYSTEMS), choices=list(SYSTEMS))
    p.add_argument("--methods", nargs="*", default=list(METHODS), choices=list(METHODS))
    p.add_argument("--steps", type=int, default=0, help="training steps (0: the per-system default)")
    p.add_argument("--horizon", type=int, default=50, help="prediction horizons 1..H lags (H >= 50)")
    p.add_argument("--mc-paths", type=int, default=MC["paths"], help="Monte Carlo paths per start point")
    p.add_argument("--cache", default=None, help="trajectory cache (default ~/.cache/rlspectral/langevin)")
    args = p.parse_args(argv)
    if args.horizon < 50:
        p.error(f"--horizon {args.horizon}: pass at least 50 lags (the tables report n = 50)")
    out = Path(args.out)
    prep, fits = make_jobs(args)
    t0 = time.time()

    def describe(r: dict[str, Any]) -> str:
        return f"{r['mean_abs_timescale_err']:.4f} ts err, cos {r['mean_cosine']:.4f}" if r["kind"] == "fit" else "done"

    target = "scripts.koopman_benchmark:run_job"
    for jobs in (prep, fits):  # fits need the cached data and Monte Carlo truth
        run_jobs(target, jobs, args, describe)
    results = finished(out, prep + fits)
    summarize(results, out, args.systems, args.methods)
    print(f"{len(results)}/{len(prep + fits)} jobs summarized in {out}/table.md ({time.time() - t0:.0f}s this call)")


if __name__ == "__main__":
    main()
