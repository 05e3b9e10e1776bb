"""Noisy logistic map benchmark: a non-reversible transfer operator with an exact spectrum (issue 23).

    python -m scripts.koopman_logistic --out results/koopman_logistic                  # resumable, 5 seeds
    python -m scripts.koopman_logistic --out results/koopman_logistic --summarize-only # tables and plots
    python -m scripts.koopman_logistic --out results/koopman_logistic_paired \
        --paired results/koopman_logistic results/koopman_logistic_rank_dev           # lora-svd vs each, per seed
    python -m scripts.koopman_logistic --out results/koopman_logistic_pseudospectra \
        --pseudospectra results/koopman_logistic results/koopman_logistic_rank_dev    # pseudospectra, backward errors
    python -m scripts.koopman_logistic --out results/koopman_logistic_fresh_es --first-seed 30 --seeds 10 \
        --methods lora-svd vampnet dpnet --validate-every 250                        # early stopping on held-out VAMP-E

System (``rlspectral.envs.logistic``): ``x' = 4 x (1 - x) + xi (mod 1)``, ``xi ~ cos^20(pi xi)``; its transfer
operator has rank 21 and exact complex eigenvalues, singular values and conditional expectations. Data as in Jeong,
Ryu et al. (NeurIPS 2025, github.com/MinchanJeong/NeuralKoopmanSVD, experiments/configs/synthetic_logistic.py): one
trajectory of 50,000 samples, lag 1, 20 modes; a seed changes the training trajectory, the network initialization
and the batches; a separate 50,000-step trajectory is held out. The network sees the point on the circle
``(cos 2 pi x, sin 2 pi x)`` (their "sinusoidal" embedding, simplified), then 32 random Fourier features and an MLP
2 x 128: the same network, batch, steps and data for every method.

Methods: NestedLoRA SVD (two networks), VAMPnet and DPNet (rlspectral.objectives, same learner), deeptime's
VAMPNet (external peer, ``pip install 'rlspectral[koopman-peers]'``; its defaults: Adam, lr 5e-4, VAMP-2 with mean
removal, two lobes = the same network without the constant output, to which the constant is appended), and an
"oracle" row: the exact 21-function bases of K's range (f) and co-range (g) through the same estimators and data,
the floor that 50,000 samples set.

Metrics (every method through the same post-processing, rlspectral.koopman.estimators): singular values of the
whitened cross-covariance vs exact; eigenvalues of three Koopman matrices on the learned functions, the Galerkin
``C00^-1 C01`` on f, the truncated SVD of (f, g) (``svd_koopman_model``) and ``svd-rank``, the same truncated to the
rank that maximizes VAMP-E on a separate 10,000-step validation trajectory (``select_rank``; the same rule for every
method and the oracle; the data that picks one integer is not used otherwise): directed Hausdorff distance from the
learned to the exact eigenvalues (the paper's metric) and, for each of the 5 leading non-trivial exact eigenvalues,
the distance to the nearest learned one; held-out VAMP-2 / VAMP-E; the error of ``E[g(x_{t+n}) | x_t]`` for
g = cos 2 pi x, sin 2 pi x, x and n = 1..20 at 256 held-out start points against the exact conditional expectation
(RMS over starts and observables, / std of g under pi). The svd model is also built with exact moments
(``NoisyLogisticMap.population_moments``): only the cross-covariance exact (``svd-exact-C01``), every moment exact
(``svd-exact``, the learned functions' own eigenvalue error); eigenvalues only, scored by ``--pseudospectra``.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import numpy as np

from rlspectral import report
from rlspectral.plots import pyplot, save_figure
from rlspectral.sweep import finished, run_jobs, seed_range, sweep_parser

N_NOISE, K, SAMPLES, TEST_SEED = 20, 20, 50_000, 10_000
VALID, VALID_SEED = 10_000, 20_000  # validation trajectory of seed VALID_SEED + seed: picks the svd-rank truncation
STEPS = 2000
COMMON: dict[str, Any] = dict(
    lag=1, k=K, batch_size=1024, lr=1e-3, hidden=(128, 128), fourier_features=32, fourier_scale=1.0,
    eval_pairs=SAMPLES, reversible=False,
)  # fmt: skip
METHODS: dict[str, str] = {  # name -> TrajFitConfig.method ("" = not an rlspectral objective)
    "lora-svd": "nested-lora",
    "vampnet": "vampnet",
    "dpnet": "dpnet",
    "deeptime-vampnet": "",
}
ESTIMATORS = ("galerkin", "svd", "svd-rank")
# The svd model with exact moments in place of sample ones (NoisyLogisticMap.population_moments): only the
# cross-covariance C01 exact, then every moment exact (what the learned functions alone allow; no sampling noise).
EXACT = ("svd-exact-C01", "svd-exact")
HORIZON, STARTS, LEADING = 20, 256, 5


def _system():
    from rlspectral.envs.logistic import NoisyLogisticMap

    return NoisyLogisticMap(N=N_NOISE)


def embed(x: np.ndarray) -> np.ndarray:
    """States on [0, 1) -> points on the circle ``[n, 2]`` (float32), what every network reads."""
    x = np.asarray(x, dtype=np.float64).reshape(-1)
    return np.stack([np.cos(2 * np.pi * x), np.sin(2 * np.pi * x)], axis=1).astype(np.float32)


def observables(x: np.ndarray) -> np.ndarray:
    x = np.asarray(x, dtype=np.float64).reshape(-1)
    return np.stack([np.cos(2 * np.pi * x), np.sin(2 * np.pi * x), x], axis=1)


def data(seed: int, samples: int = SAMPLES) -> np.ndarray:
    """The 1-D trajectory ``[samples + 1]`` of a seed (training), of TEST_SEED (held out) or of VALID_SEED + seed."""
    return _system().trajectories(1, samples, seed=seed)[0, :, 0]


def exact_bases(system) -> tuple[Any, Any]:
    """The oracle: real bases of K's range ``cos / sin(2 pi k F(x))`` and co-range ``cos / sin(2 pi k y) / pi(y)``."""
    ks = np.arange(system.N // 2 + 1)

    def trig(t: np.ndarray) -> np.ndarray:
        return np.concatenate([np.cos(2 * np.pi * ks * t[:, None]), np.sin(2 * np.pi * ks[1:] * t[:, None])], axis=1)

    def f(x: np.ndarray) -> np.ndarray:
        return trig(system.logistic(np.asarray(x, dtype=np.float64).reshape(-1)))

    def g(y: np.ndarray) -> np.ndarray:
        y = np.asarray(y, dtype=np.float64).reshape(-1)
        return trig(y) / system.stationary_density(y)[:, None]

    return f, g


def deeptime_vampnet(x0: np.ndarray, x1: np.ndarray, seed: int, steps: int) -> tuple[Any, Any, float]:
    """deeptime's VAMPNet (its defaults) on the shared network, batch and steps: ``(f, g, train seconds)``."""
    import torch

    from rlspectral.errors import MissingDependencyError
    from rlspectral.networks import EigenNetwork, NetworkConfig
    from rlspectral.seeding import seeded

    try:
        from deeptime.decomposition.deep import VAMPNet
    except ImportError:
        raise MissingDependencyError("deeptime is not installed: pip install 'rlspectral[koopman-peers]'") from None
    net = dict(hidden=COMMON["hidden"], fourier_features=COMMON["fourier_features"], fourier_scale=1.0)
    with seeded(seed):
        lobe = EigenNetwork(NetworkConfig((2,), K - 1, **net))
        lobe_t = EigenNetwork(NetworkConfig((2,), K - 1, **net))
    model = VAMPNet(lobe, lobe_t, device="cpu")
    z0, z1 = torch.from_numpy(embed(x0)), torch.from_numpy(embed(x1))
    gen = torch.Generator().manual_seed(seed + 1)
    t0 = time.perf_counter()
    for _ in range(steps):
        idx = torch.randint(0, len(z0), (COMMON["batch_size"],), generator=gen)
        model.partial_fit((z0[idx], z1[idx]))
    wall = time.perf_counter() - t0
    lobe.eval()
    lobe_t.eval()

    def features(net: torch.nn.Module):
        def run(x: np.ndarray) -> np.ndarray:
            with torch.no_grad():
                out = net(torch.from_numpy(embed(x))).double().numpy()
            return np.concatenate([np.ones((len(out), 1)), out], axis=1)

        return run

    return features(lobe), features(lobe_t), wall


def evaluate(f, g, train: np.ndarray, test: np.ndarray, valid: np.ndarray) -> dict[str, Any]:
    """Every metric of one pair of feature maps ``f, g: [n] states -> [n, k]`` (module doc); ``valid`` only picks
    the rank of the ``svd-rank`` model."""
    from rlspectral.koopman import (
        covariances,
        koopman_model,
        select_rank,
        singular_values,
        svd_koopman_from_moments,
        svd_koopman_model,
        vamp2_score,
        vamp_e_score,
    )

    system = _system()
    exact_mu, exact_sv = system.eigenvalues, system.singular_values
    x0, x1 = train[:-1], train[1:]
    F0, F1, G0, G1 = f(x0), f(x1), g(x0), g(x1)
    cov = covariances(F0, G1)
    k = F0.shape[1]
    sv = singular_values(*cov)[:K]
    out: dict[str, Any] = {
        "singular_values": sv.tolist(),
        "sv_abs_err": np.abs(sv - exact_sv[: len(sv)]).tolist(),
        "sv_mean_abs_err": float(np.mean(np.abs(sv - exact_sv[: len(sv)])[1:])),
    }
    t0, t1 = test[:-1], test[1:]
    test_cov = covariances(f(t0), g(t1))
    out.update(vamp2_test=vamp2_score(*test_cov), vamp_e_test=vamp_e_score(cov, test_cov))
    starts = test[np.random.default_rng(5).choice(len(test), STARTS, replace=False)]
    truth = system.conditional_expectation(observables, starts, HORIZON)  # [starts, n, obs]
    _, std = system.moments(observables)
    fs = f(starts)
    h = observables(x0)
    models = {
        "galerkin": koopman_model(F0, F1, 1.0, reversible=False),
        "svd": svd_koopman_model(F0, G1, F1, G0, 1.0),
    }
    rank = select_rank(cov, covariances(f(valid[:-1]), g(valid[1:])))
    models["svd-rank"] = svd_koopman_model(F0, G1, F1, G0, 1.0, rank=rank)
    exact_cov, exact_gf = system.population_moments(f, g)
    F, G = np.concatenate([F0, F1]), np.concatenate([G0, G1])
    models["svd-exact-C01"] = svd_koopman_from_moments((cov[0], exact_cov[1], cov[2]), G.T @ F / len(F), 1.0)
    models["svd-exact"] = svd_koopman_from_moments(exact_cov, exact_gf, 1.0)
    for name, model in models.items():
        mu = np.asarray(model.values, dtype=np.complex128)
        dist = np.abs(mu[:, None] - exact_mu[None, :])
        lead = dist[:, 1 : LEADING + 1].min(0)
        out[name] = {
            "eigenvalues_re": mu.real.tolist(),
            "eigenvalues_im": mu.imag.tolist(),
            "hausdorff": float(dist.min(1).max()),
            "leading_err": lead.tolist(),
            "leading_mean_err": float(lead.mean()),
            "rank": len(mu),
        }
        if name in EXACT:  # eigenvalues only: a prediction would read its projection from samples again
            continue
        b = model.project(G0 if model.readout == "g" else F0, h)
        pred = np.stack([model.predict(fs, b, n) for n in range(1, HORIZON + 1)], axis=1)
        err_n = np.sqrt(np.mean(((pred - truth) / std) ** 2, axis=(0, 2)))
        out[name].update(pred_err_by_n=err_n.tolist(), pred_err_mean=float(np.sqrt(np.mean(err_n**2))))
    out["k"] = k
    return out


def run_job(job: dict[str, Any], job_dir: Path) -> dict[str, Any]:
    """One fit (or the oracle) and its scores."""
    import torch

    torch.set_num_threads(1)
    seed, method = job["seed"], job["method"]
    train, test, valid = data(seed), data(TEST_SEED), data(VALID_SEED + seed, VALID)
    steps = job.get("steps") or STEPS
    stopped: dict[str, Any] = {}  # early stopping's record (rlspectral methods with validate_every)
    if method == "oracle":
        f, g = exact_bases(_system())
        wall = 0.0
    elif method == "deeptime-vampnet":
        f, g, wall = deeptime_vampnet(train[:-1], train[1:], seed, steps)
    else:
        from rlspectral.koopman import TrajFitConfig, fit_trajectories

        every = job.get("validate_every", 0)
        cfg = TrajFitConfig(method=METHODS[method], svd=True, steps=steps, seed=seed, validate_every=every, **COMMON)
        fit = fit_trajectories(embed(train), cfg, valid=embed(valid) if every else None)
        wall = fit.stats["wall_time_s"]
        stopped = {key: fit.stats[key] for key in ("best_step", "vamp_e_valid") if key in fit.stats}

        def f(x: np.ndarray) -> np.ndarray:
            return fit.features(embed(x))

        def g(x: np.ndarray) -> np.ndarray:
            return fit.features(embed(x), "g")

    result = {"id": job["id"], "method": method, "seed": seed, "steps": steps, "wall_time_s": wall}
    result.update(stopped)
    result.update(evaluate(f, g, train, test, valid))
    return result


# ----------------------------------------------------------------------------------------------- summary
TABLE = ["method", "seeds", "estimator", "modes", "Hausdorff (learned -> exact)", "Hausdorff - oracle's (same data)",
         "leading-5 eig. err (mean)",
         "err at -0.193±0.191i", "pred. err (n ≤ 20)", "pred. err n = 1", "pred. err n = 20",
         "sing. val. err (mean, modes 2-20)", "VAMP-2 test", "VAMP-E test", "train s"]  # fmt: skip


def _estimators(fits: list[dict[str, Any]]) -> list[str]:
    """The estimators every fit has (result folders written before ``svd-rank`` existed lack it)."""
    return [e for e in ESTIMATORS if all(e in r for r in fits)]


def _rows(fits: list[dict[str, Any]], methods: list[str]) -> list[list[Any]]:
    rows = []
    oracle = {r["seed"]: r for r in report.select(fits, method="oracle")}
    for (meth,), rs in report.groups(fits, method=["oracle", *methods]):
        for est in _estimators(fits):

            def col(key: str, fmt: str = ".4f", est: str = est, rs: list = rs) -> str:
                return report.pm([r[est][key] for r in rs], fmt, std_of_one=False)

            pair = report.pm([r[est]["leading_err"][0] for r in rs], ".4f", std_of_one=False)
            excess = [r[est]["hausdorff"] - oracle[r["seed"]][est]["hausdorff"] for r in rs if r["seed"] in oracle]
            rows.append([
                meth, len(rs), est, report.pm([r[est].get("rank", r["k"]) for r in rs], ".1f", std_of_one=False),
                col("hausdorff"), report.pm(excess, ".4f", std_of_one=False),
                col("leading_mean_err"), pair, col("pred_err_mean"),
                report.pm([r[est]["pred_err_by_n"][0] for r in rs], ".4f", std_of_one=False),
                report.pm([r[est]["pred_err_by_n"][-1] for r in rs], ".4f", std_of_one=False),
                report.pm([r["sv_mean_abs_err"] for r in rs], ".4f", std_of_one=False),
                report.pm([r["vamp2_test"] for r in rs], ".3f", std_of_one=False),
                report.pm([r["vamp_e_test"] for r in rs], ".3f", std_of_one=False),
                report.pm([r["wall_time_s"] for r in rs], ".0f", std_of_one=False),
            ])  # fmt: skip
    return rows


def summarize(fits: list[dict[str, Any]], out: Path, methods: list[str]) -> None:
    system = _system()
    report.write_json(out / "results.json", sorted(fits, key=lambda r: r["id"]))
    cols = ["method", "seed", "steps", "sv_mean_abs_err", "vamp2_test", "vamp_e_test", "wall_time_s"]
    flat = []
    for r in sorted(fits, key=lambda r: (r["method"], r["seed"])):
        row = {c: r[c] for c in cols}
        for est in _estimators(fits):
            row.update({f"{est}_{key}": r[est][key] for key in ("hausdorff", "leading_mean_err", "pred_err_mean")})
        flat.append(row)
    est_cols = [f"{e}_{key}" for e in _estimators(fits) for key in ("hausdorff", "leading_mean_err", "pred_err_mean")]
    report.write_csv(out / "results.csv", flat, cols + est_cols)
    mu, sv = system.eigenvalues, system.singular_values
    steps = "/".join(str(s) for s in sorted({r["steps"] for r in fits if r["method"] != "oracle"})) or STEPS
    lines = [
        "# Noisy logistic map (N = 20): learned vs exact spectrum",
        "",
        f"{SAMPLES} training samples (one trajectory per seed), lag 1, k = {K} functions (with the constant), "
        f"{steps} steps of batch {COMMON['batch_size']}; '±' is the sample std (ddof=1) over seeds.",
        "",
        "exact eigenvalues (leading): " + ", ".join(f"{z.real:+.4f}{z.imag:+.4f}i" for z in mu[: LEADING + 1]),
        "",
        "exact singular values: " + ", ".join(f"{s:.4f}" for s in sv[:K]),
        "",
        *report.markdown_table(TABLE, _rows(fits, methods)),
        "",
    ]
    report.write_markdown(out / "table.md", lines)
    _plots(fits, out, methods)


def _plots(fits: list[dict[str, Any]], out: Path, methods: list[str]) -> None:
    plt = pyplot()
    system = _system()
    names = ["oracle", *methods]
    colors = dict(zip(names, plt.rcParams["axes.prop_cycle"].by_key()["color"]))
    mu = system.eigenvalues
    ests = _estimators(fits)
    fig, axes = plt.subplots(1, len(ests), figsize=(5.5 * len(ests), 6.2), squeeze=False)
    for ax, est in zip(axes[0], ests):
        for meth in names:
            rs = report.select(fits, method=meth)
            if rs:
                re = np.concatenate([r[est]["eigenvalues_re"] for r in rs])
                im = np.concatenate([r[est]["eigenvalues_im"] for r in rs])
                ax.scatter(re, im, s=10, alpha=0.5, color=colors[meth], label=f"{meth} ({len(rs)} seeds)")
        ax.scatter(mu.real, mu.imag, s=90, facecolors="none", edgecolors="k", lw=1.5, label="exact")
        ax.set_xlim(-0.4, 0.4)
        ax.set_ylim(-0.35, 0.35)
        ax.set_aspect("equal")
        ax.set_title(f"eigenvalues (all seeds; the eigenvalue 1 is off the plot), {est} estimator", fontsize=9)
        ax.legend(fontsize=7, loc="upper center", bbox_to_anchor=(0.5, -0.08), ncol=3)
    save_figure(fig, out / "eigenvalues.png")
    fig, axes = plt.subplots(1, len(ests) + 1, figsize=(5 * len(ests) + 5, 4.2))
    n = np.arange(1, HORIZON + 1)
    for ax, est in zip(axes, ests):
        for meth in names:
            rs = report.select(fits, method=meth)
            if rs:
                e = np.array([r[est]["pred_err_by_n"] for r in rs])
                ax.plot(n, e.mean(0), color=colors[meth], label=meth)
                if len(e) > 1:
                    sd = e.std(0, ddof=1)
                    ax.fill_between(n, e.mean(0) - sd, e.mean(0) + sd, color=colors[meth], alpha=0.2)
        ax.set_yscale("log")
        ax.set_xlabel("horizon n (steps)")
        ax.set_ylabel("RMS error of E[g(x_n) | x_0] / std g")
        ax.set_title(f"prediction, {est} estimator")
        ax.legend(fontsize=7)
    ax = axes[-1]
    sv = system.singular_values[:K]
    ax.plot(np.arange(1, K + 1), sv, "ko-", label="exact", ms=4)
    for meth in names:
        rs = report.select(fits, method=meth)
        if rs:
            s = np.array([r["singular_values"] for r in rs])
            ax.plot(np.arange(1, s.shape[1] + 1), s.mean(0), ".", color=colors[meth], label=meth)
    ax.set_yscale("log")
    ax.set_xlabel("mode i")
    ax.set_title("singular values")
    ax.legend(fontsize=7)
    save_figure(fig, out / "prediction_singular_values.png")


PAIRED = {"Hausdorff": "hausdorff", "leading-5 eig. err": "leading_mean_err", "pred. err (n ≤ 20)": "pred_err_mean"}


def load_fits(folders: list[str]) -> dict[tuple[str, int, int], dict[str, Any]]:
    """Every finished run of ``folders`` by (method, seed, steps); a key that two folders repeat keeps the first."""
    fits: dict[tuple[str, int, int], dict[str, Any]] = {}
    for folder in folders:
        for path in sorted(Path(folder).glob("*/result.json")):
            r = json.loads(path.read_text())
            fits.setdefault((r["method"], r["seed"], r["steps"]), r)
    return fits


def paired_rows(fits: dict[tuple[str, int, int], dict[str, Any]], metrics: dict[str, str], estimator: str) -> list:
    """lora-svd against every other method, paired by (seed, training steps): a run is compared only with the other
    method's run on the same data and budget (the oracle row of a folder carries that folder's steps; runs without
    ``estimator``, written before it existed, are left out). Mean of the
    paired difference, its sample std, how often lora-svd is lower, and the two-sided Wilcoxon signed-rank p."""
    from scipy.stats import wilcoxon

    ref = {(seed, steps): r for (meth, seed, steps), r in fits.items() if meth == "lora-svd" and estimator in r}
    rows = []
    for other in ["oracle", *[m for m in METHODS if m != "lora-svd"]]:
        pairs = sorted(
            (seed, steps) for (meth, seed, steps), r in fits.items()
            if meth == other and (seed, steps) in ref and estimator in r
        )  # fmt: skip
        if len(pairs) < 2:
            continue
        for label, key in metrics.items():
            a = np.array([ref[sk][estimator][key] for sk in pairs])
            b = np.array([fits[(other, *sk)][estimator][key] for sk in pairs])
            d = a - b
            p = float(wilcoxon(a, b).pvalue) if np.any(d != 0) else 1.0
            diff = f"{d.mean():+.4f} ± {d.std(ddof=1):.4f}"
            lower = f"{int((d < 0).sum())}/{len(pairs)}"
            rows.append([other, label, len(pairs), f"{a.mean():.4f}", f"{b.mean():.4f}", diff, lower, f"{p:.3f}"])
    return rows


PAIRED_HEADER = ["vs", "metric", "pairs (seed, steps)", "lora-svd", "other", "lora - other", "lora lower", "p"]


def paired(folders: list[str], out: Path, estimator: str = "svd") -> None:
    """NestedLoRA SVD against every other method, pooled over ``folders`` (:func:`paired_rows`). Writes
    ``paired.md``."""
    lines = [
        f"# NestedLoRA SVD vs each method, paired by seed ({estimator} estimator)",
        "",
        "Folders: " + ", ".join(folders) + ". '±' is the sample std (ddof=1) of the per-seed difference; p: two-sided "
        "Wilcoxon signed-rank test.",
        "",
        *report.markdown_table(PAIRED_HEADER, paired_rows(load_fits(folders), PAIRED, estimator)),
        "",
    ]
    report.write_markdown(out / "paired.md", lines)


# ----------------------------------------------------------------------------------------------- pseudospectra
SAMPLE_SIZES, NOISE_DRAWS, ORACLE_SEEDS = (10_000, 50_000, 200_000, 1_000_000), 200, (0, 1, 2)
BACKWARD = {"max backward error": "backward_max", "mean backward error": "backward_mean"}
PSEUDO_PAIRED = {**BACKWARD, "Hausdorff": "hausdorff", "leading-5 eig. err": "leading_mean_err",
                 "pred. err (n ≤ 20)": "pred_err_mean"}  # fmt: skip


def _hausdorff(learned: np.ndarray, exact: np.ndarray) -> float:
    return float(np.abs(np.asarray(learned)[:, None] - exact[None, :]).min(1).max())


def pseudospectra(folders: list[str], out: Path) -> None:
    """How far sampling noise can move this operator's eigenvalues, and a conditioning-aware eigenvalue error for
    every stored run (results/koopman_logistic_pseudospectra/PLAN.md):

    1. the eps-pseudospectrum of K on L2(pi) (``operator_matrix``) for eps = n^-1/2: how far from the spectrum it
       reaches, the directed Hausdorff distance that complex Gaussian perturbations of entry std n^-1/2 cause in the
       range compression, and the oracle (exact bases, Galerkin and svd estimators) on fresh trajectories of n
       samples (seeds ORACLE_SEEDS), n in SAMPLE_SIZES;
    2. per stored run and estimator (``svd-rank`` where the run has it), the backward error
       ``beta(z) = sigma_min(z I - K)`` of each learned eigenvalue (``rlspectral.metrics.eigenvalue_backward_error``):
       max (the smallest eps whose pseudospectrum holds the learned spectrum) and mean; paired by seed against
       lora-svd;
    3. ``pseudospectra.png``: contours of beta with the exact and the learned eigenvalues (svd estimator).
    Writes ``pseudospectra.json``, ``backward_errors.csv``, ``pseudospectra.md`` and the figure into ``out``."""
    from rlspectral.koopman import koopman_model, svd_koopman_model
    from rlspectral.metrics import eigenvalue_backward_error

    system = _system()
    mu, M = system.eigenvalues, system.operator_matrix
    t0 = time.time()
    # 1. the operator alone, then the oracle at growing n
    xs, ys = np.linspace(-0.7, 1.1, 361), np.linspace(-0.6, 0.6, 241)
    Z = xs[None, :] + 1j * ys[:, None]
    beta_grid = eigenvalue_backward_error(M, Z, zero_part=True)
    dist_grid = np.abs(Z[..., None] - mu).min(-1)
    R = system.range_matrix
    rng = np.random.default_rng(0)
    f, g = exact_bases(system)
    scale_rows = []
    for n in SAMPLE_SIZES:
        eps = n**-0.5
        noise = [
            _hausdorff(np.linalg.eigvals(R + eps * (rng.standard_normal(R.shape) + 1j * rng.standard_normal(R.shape))
                                         / np.sqrt(2)), mu)
            for _ in range(NOISE_DRAWS)
        ]  # fmt: skip
        oracle: dict[str, list[float]] = {"galerkin": [], "svd": []}
        for seed in ORACLE_SEEDS:
            x = data(seed, n)
            F0, F1, G0, G1 = f(x[:-1]), f(x[1:]), g(x[:-1]), g(x[1:])
            oracle["galerkin"].append(_hausdorff(koopman_model(F0, F1, 1.0, reversible=False).values, mu))
            oracle["svd"].append(_hausdorff(svd_koopman_model(F0, G1, F1, G0, 1.0).values, mu))
        scale_rows.append({
            "n": n, "eps": eps, "pseudospectrum_reach": float(dist_grid[beta_grid <= eps].max()),
            "noise_hausdorff": noise, "oracle_galerkin": oracle["galerkin"], "oracle_svd": oracle["svd"],
        })  # fmt: skip
        print(f"n = {n}: reach {scale_rows[-1]['pseudospectrum_reach']:.3f}, noise {np.mean(noise):.3f}, "
              f"oracle svd {np.mean(oracle['svd']):.3f} ({time.time() - t0:.0f}s)")  # fmt: skip
    # 2. backward errors of every stored run
    fits = load_fits(folders)
    flat = []
    for (meth, seed, steps), r in sorted(fits.items()):
        for est in [e for e in (*ESTIMATORS, *EXACT) if e in r]:
            z = np.asarray(r[est]["eigenvalues_re"]) + 1j * np.asarray(r[est]["eigenvalues_im"])
            beta = eigenvalue_backward_error(M, z, zero_part=True)
            r[est]["backward_max"], r[est]["backward_mean"] = float(beta.max()), float(beta.mean())
            flat.append({"method": meth, "seed": seed, "steps": steps, "estimator": est, "modes": len(z),
                         "backward_max": float(beta.max()), "backward_mean": float(beta.mean()),
                         "modulus_at_max": float(np.abs(z[np.argmax(beta)])),
                         "hausdorff": r[est]["hausdorff"]})  # fmt: skip
        if "svd-exact" in r:  # what estimating the moments from the n samples adds to the learned functions' error
            r["svd-exact"]["sampling_excess"] = r["svd"]["backward_max"] - r["svd-exact"]["backward_max"]
    report.write_csv(out / "backward_errors.csv", flat, list(flat[0]))
    report.write_json(out / "pseudospectra.json", {"folders": folders, "scale": scale_rows, "runs": flat})
    # tables
    methods = ["oracle", *METHODS]
    table = []
    for est in ("svd", "galerkin", "svd-rank", *EXACT):
        for meth in methods:
            rs = [r for r in flat if r["method"] == meth and r["estimator"] == est]
            if rs:
                table.append([meth, est, len(rs), report.pm([r["modes"] for r in rs], ".1f"),
                              report.pm([r["hausdorff"] for r in rs], ".4f"),
                              report.pm([r["backward_max"] for r in rs], ".4f"),
                              report.pm([r["backward_mean"] for r in rs], ".5f"),
                              report.pm([r["modulus_at_max"] for r in rs], ".3f")])  # fmt: skip
    lines = [
        "# Noisy logistic map: pseudospectra and eigenvalue backward errors",
        "",
        f"K on L2(pi) in an orthonormal basis of its range + co-range ({M.shape[0]} functions). '±' is the sample "
        "std (ddof=1). Stored runs: " + ", ".join(folders) + f". {time.time() - t0:.0f} s.",
        "",
        "## How far n samples can move the eigenvalues",
        "",
        *report.markdown_table(
            [
                "n",
                "eps = n^-1/2",
                "eps-pseudospectrum reaches",
                f"Hausdorff, noise of std eps ({NOISE_DRAWS} draws)",
                f"oracle Hausdorff, svd (seeds {ORACLE_SEEDS[0]}-{ORACLE_SEEDS[-1]})",
                "oracle Hausdorff, galerkin",
            ],
            [
                [
                    s["n"],
                    f"{s['eps']:.4f}",
                    f"{s['pseudospectrum_reach']:.3f}",
                    report.pm(s["noise_hausdorff"], ".3f"),
                    report.pm(s["oracle_svd"], ".3f"),
                    report.pm(s["oracle_galerkin"], ".3f"),
                ]
                for s in scale_rows
            ],
        ),  # fmt: skip
        "",
        "## Backward error of the learned eigenvalues, beta(z) = sigma_min(zI - K)",
        "",
        *report.markdown_table(
            ["method", "estimator", "runs", "modes", "Hausdorff", "max beta", "mean beta", "|z| at the max"], table
        ),
        "",
    ]
    for est in [e for e in ("svd", "svd-rank") if any(e in r for r in fits.values())]:
        lines += [
            f"## NestedLoRA SVD vs each method, paired by seed ({est} estimator)",
            "",
            "'±' is the sample std (ddof=1) of the per-seed difference; p: two-sided Wilcoxon signed-rank test.",
            "",
            *report.markdown_table(PAIRED_HEADER, paired_rows(fits, PSEUDO_PAIRED, est)),
            "",
        ]
    if any("svd-exact" in r for r in fits.values()):
        lines += [
            "## The learned functions with exact moments, paired by seed",
            "",
            "`svd-exact-C01`: the svd model with the exact cross-covariance C01 in place of the sample one; "
            "`svd-exact`: every moment exact (the learned functions' own error). sampling excess: svd max beta - "
            "svd-exact max beta, what the n samples add. '±' is the sample std (ddof=1) of the per-seed difference; "
            "p: two-sided Wilcoxon signed-rank test.",
            "",
        ]
        for est in EXACT:
            metrics = {**BACKWARD, "Hausdorff": "hausdorff", "leading-5 eig. err": "leading_mean_err"}
            if est == "svd-exact":
                metrics["sampling excess (max beta)"] = "sampling_excess"
            lines += [f"### {est}", "", *report.markdown_table(PAIRED_HEADER, paired_rows(fits, metrics, est)), ""]
    report.write_markdown(out / "pseudospectra.md", lines)
    # 3. the figure
    plt = pyplot()
    names = [m for m in methods if any(r["method"] == m for r in flat)]
    fig, axes = plt.subplots(1, len(names), figsize=(3.2 * len(names), 3.3), squeeze=False)
    levels = [-3.0, -2.5, -2.0, -1.5]
    for ax, meth in zip(axes[0], names):
        cs = ax.contour(xs, ys, np.log10(np.maximum(beta_grid, 1e-16)), levels=levels, cmap="viridis", linewidths=0.8)
        ax.clabel(cs, fontsize=6, fmt=lambda v: f"{10**v:.0e}".replace("e-0", "e-"))
        rs = [r for (m, _, _), r in fits.items() if m == meth]
        re = np.concatenate([r["svd"]["eigenvalues_re"] for r in rs])
        im = np.concatenate([r["svd"]["eigenvalues_im"] for r in rs])
        ax.scatter(re, im, s=6, color="tab:red", alpha=0.6, label=f"learned ({len(rs)} seeds)")
        ax.scatter(mu.real, mu.imag, s=40, facecolors="none", edgecolors="k", lw=1.0, label="exact")
        ax.set_xlim(-0.5, 0.5)
        ax.set_ylim(-0.45, 0.45)
        ax.set_aspect("equal")
        ax.set_title(f"{meth} (the eigenvalue 1 is off the plot)" if meth == "oracle" else meth, fontsize=8)
        ax.tick_params(labelsize=7)
    axes[0][0].legend(fontsize=6, loc="lower left")
    fig.suptitle("eps-pseudospectra of K (contours: sigma_min(zI - K) = eps) and eigenvalues, svd estimator",
                 fontsize=9)  # fmt: skip
    save_figure(fig, out / "pseudospectra.png")
    if any(r["estimator"] == "svd-exact" for r in flat):
        _decomposition_figure(flat, [m for m in names if m != "oracle"], out)


def _decomposition_figure(flat: list[dict[str, Any]], methods: list[str], out: Path) -> None:
    """``decomposition.png``: max beta per seed of each method with sample moments, exact C01, every moment exact."""
    plt = pyplot()
    steps = ("svd", "svd-exact-C01", "svd-exact")
    scored = {(r["method"], r["seed"], r["steps"]) for r in flat if r["estimator"] == "svd-exact"}
    flat = [r for r in flat if (r["method"], r["seed"], r["steps"]) in scored]  # runs written before EXACT: left out
    methods = [m for m in methods if any(r["method"] == m for r in flat)]
    fig, ax = plt.subplots(figsize=(1.9 * len(methods) + 1.5, 3.4))
    colors = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    for i, meth in enumerate(methods):
        for j, est in enumerate(steps):
            v = [r["backward_max"] for r in flat if r["method"] == meth and r["estimator"] == est]
            pos = i * (len(steps) + 1) + j
            ax.boxplot([v], positions=[pos], widths=0.7, showfliers=False, medianprops={"color": colors[j]})
            ax.scatter(np.full(len(v), pos), v, s=8, color=colors[j], alpha=0.7, label=est if i == 0 else None)
    ax.set_xticks([i * (len(steps) + 1) + 1 for i in range(len(methods))], methods, fontsize=8)
    ax.set_ylabel("max backward error of the eigenvalues")
    ax.legend(fontsize=7, title="moments", title_fontsize=7)
    ax.set_title("learned functions with sample moments, exact C01, every moment exact (one dot per seed)", fontsize=8)
    save_figure(fig, out / "decomposition.png")


def make_jobs(args: Any) -> list[dict[str, Any]]:
    jobs = []
    for seed in seed_range(args):
        for meth in ["oracle", *args.methods]:
            job = {"id": f"{meth}__s{seed}", "method": meth, "seed": seed, "steps": args.steps}
            if args.validate_every:
                job["validate_every"] = args.validate_every
            jobs.append(job)
    return jobs


def main(argv: list[str] | None = None) -> None:
    p = sweep_parser(__doc__, "results/koopman_logistic", seeds=5, workers=1, threads="--threads")
    p.add_argument("--methods", nargs="*", default=list(METHODS), choices=list(METHODS))
    p.add_argument("--steps", type=int, default=0, help=f"training steps (0: {STEPS})")
    p.add_argument("--validate-every", type=int, default=0, metavar="N", help="early stopping: VAMP-E on the "
                   "validation trajectory every N steps, keep the best networks (0: off)")  # fmt: skip
    p.add_argument("--paired", nargs="*", metavar="FOLDER", help="only compare lora-svd with each method, per seed, "
                   "over the runs in these result folders: writes <out>/paired.md")  # fmt: skip
    p.add_argument("--pseudospectra", nargs="*", metavar="FOLDER", help="only the pseudospectra of K and the backward "
                   "errors of the runs in these result folders: writes <out>/pseudospectra.md")  # fmt: skip
    args = p.parse_args(argv)
    out = Path(args.out)
    if args.validate_every < 0:
        p.error(f"--validate-every {args.validate_every}: pass a number of steps >= 1 (0: off)")
    if args.validate_every and "deeptime-vampnet" in args.methods:
        p.error("--validate-every: deeptime-vampnet is trained by deeptime, without early stopping here; "
                "leave it out of --methods")  # fmt: skip
    for flag in ("paired", "pseudospectra"):
        for folder in getattr(args, flag) or []:
            runs = sorted(Path(folder).glob("*/result.json"))
            if not runs:
                p.error(f"--{flag}: {folder} has no finished runs; pass a koopman_logistic --out folder")
            for path in runs:
                r = json.loads(path.read_text())
                if not ({"method", "seed", "steps"} <= r.keys() and "eigenvalues_re" in r.get("svd", {})):
                    p.error(f"--{flag}: {path} is not a koopman_logistic run (no method / seed / svd eigenvalues); "
                            "pass a koopman_logistic --out folder")  # fmt: skip
    if args.pseudospectra:
        out.mkdir(parents=True, exist_ok=True)
        pseudospectra(args.pseudospectra, out)
        print((out / "pseudospectra.md").read_text())
        return
    if args.paired:
        out.mkdir(parents=True, exist_ok=True)
        paired(args.paired, out)
        print((out / "paired.md").read_text())
        return
    jobs = make_jobs(args)
    t0 = time.time()

    def describe(r: dict[str, Any]) -> str:
        return (f"Hausdorff galerkin {r['galerkin']['hausdorff']:.4f} svd {r['svd']['hausdorff']:.4f}, "
                f"pred {r['svd']['pred_err_mean']:.4f}, {r['wall_time_s']:.0f}s")  # fmt: skip

    run_jobs("scripts.koopman_logistic:run_job", jobs, args, describe)
    results = finished(out, jobs)
    summarize(results, out, args.methods)
    print(f"{len(results)}/{len(jobs)} jobs summarized in {out}/table.md ({time.time() - t0:.0f}s this call)")


if __name__ == "__main__":
    main()
