"""Value learning on k features: least-squares fit of the exact V* of a goal gridworld, relative error vs k.

    python -m scripts.gridworld_benchmark --out results/gridworld_k50 --k 50 --artifacts ...   # the fits (once)
    python -m scripts.value_benchmark --fits results/gridworld_k50 --out results/value

V* is computed by value iteration on the goal task of ``rlspectral/<Layout>-Goal-v0`` (goal = bottom-right free
cell, reward 1 on arrival, episode ends there, gamma = 0.99); the goal cell itself (terminal) is left out.
For each k, V* is fitted by least squares (with an intercept) on the cells, using

* ``learned <method>``: the first k eigenfunctions, as learned (eigenvalues descending), of every k = 50 fit in
  ``--fits`` (one per seed), and the same after Rayleigh-Ritz (``RR``);
* ``exact``: the top-k eigenvectors of P;
* ``xy poly``: the first k monomials x^a y^b by total degree (1, x, y, x^2, xy, y^2, ...);
* ``random Fourier``: sqrt(2) cos(W xy + b), W ~ N(0, sigma^2 I), b ~ U[0, 2 pi), five draws.

The relative error is ||V_hat - V*|| / ||V* - mean(V*)|| over the cells (1.0 = no better than a constant).
V*, the error and the xy / Fourier bases are :mod:`rlspectral.envs.values`.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np

from rlspectral import report
from rlspectral.envs.gridworld import load_grid
from rlspectral.envs.spectra import transition_eigenpairs
from rlspectral.envs.values import optimal_values, polynomial_features, random_fourier, relative_error
from rlspectral.plots import pyplot, save_figure

LAYOUTS = ["GridRoom-4", "GridMaze-19", "GridRoom-16"]
DIMS = [4, 8, 11, 16, 24, 32, 50]


def learned_features(fits: Path, layout: str, method: str, dim: int) -> list[tuple[int, np.ndarray, np.ndarray]]:
    """(seed, as learned, after Rayleigh-Ritz) eigenfunctions on all cells of every ``dim``-mode fit found."""
    import torch

    from rlspectral.learner import SpectralLearner

    X = torch.from_numpy(load_grid(layout).observations("xy"))
    out = []
    for path in sorted(fits.glob(f"{layout}__{method}__k{dim}__s*/model.pt")):
        learner = SpectralLearner.load(path)
        _, raw = learner.eigenfunctions(X)
        _, rr = learner.eigenfunctions(X, solve=True)
        out.append((int(path.parent.name.rsplit("__s", 1)[1]), raw.numpy(), rr.numpy()))
    return out


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--fits", default="results/gridworld_k50", help="directory of k = 50 fits with model.pt")
    p.add_argument("--out", default="results/value")
    p.add_argument("--layouts", nargs="*", default=LAYOUTS)
    p.add_argument("--methods", nargs="*", default=["nested-lora", "allo-tuned"])
    p.add_argument("--dims", nargs="*", type=int, default=DIMS)
    p.add_argument("--fit-dim", type=int, default=50)
    p.add_argument("--sigma", type=float, default=3.0, help="random Fourier frequency scale (xy in [-1, 1])")
    args = p.parse_args(argv)
    t0 = time.time()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    rows: list[dict] = []
    for layout in args.layouts:
        grid = load_grid(layout)
        v, goal = optimal_values(layout)
        keep = np.arange(grid.n) != goal
        xy = grid.observations("xy")[keep].astype(np.float64)
        _, vecs = transition_eigenpairs(grid, max(args.dims))
        learned = {m: learned_features(Path(args.fits), layout, m, args.fit_dim) for m in args.methods}
        for k in args.dims:
            sets: dict[str, list[np.ndarray]] = {
                "exact": [vecs[keep, :k]],
                "xy poly": [polynomial_features(xy, k)],
                "random Fourier": [random_fourier(xy, k, args.sigma, s) for s in range(5)],
            }
            for m, fits in learned.items():
                if k <= args.fit_dim and fits:
                    sets[f"learned {m}"] = [raw[keep, :k] for _, raw, _ in fits]
                    sets[f"learned {m} (RR)"] = [rr[keep, :k] for _, _, rr in fits]
            for name, feats in sets.items():
                errs = report.mean_std([relative_error(f, v[keep]) for f in feats])
                rows.append({"layout": layout, "features": name, "k": k, "n": len(feats),
                             "rel_error_mean": errs[0], "rel_error_std": errs[1]})  # fmt: skip
    report.write_csv(out / "value_fit.csv", rows, list(rows[0]))
    report.write_json(out / "value_fit.json", rows)
    _table(rows, out, args.layouts, args.dims)
    _plot(rows, out, args.layouts)
    print((out / "value_fit.md").read_text())
    print(f"wrote {out} in {time.time() - t0:.0f}s")


def _table(rows: list[dict], out: Path, layouts: list[str], dims: list[int]) -> None:
    sections = []
    for layout in layouts:
        names = list(dict.fromkeys(r["features"] for r in rows if r["layout"] == layout))
        table = []
        for name in names:
            cells = []
            for k in dims:
                r = next((r for r in rows if r["layout"] == layout and r["features"] == name and r["k"] == k), None)
                cells.append("–" if r is None else report.format_pm((r["rel_error_mean"], r["rel_error_std"]), ".3f"))
            table.append([name, *cells])
        title = f"**{layout}** (relative error of the least-squares V*, mean ± sample std over seeds/draws)"
        sections.append([title, "", *report.markdown_table(["features", *(f"k={k}" for k in dims)], table)])
    report.write_markdown(out / "value_fit.md", report.blocks(*sections))


def _plot(rows: list[dict], out: Path, layouts: list[str]) -> None:
    fig, axes = pyplot().subplots(1, len(layouts), figsize=(4.2 * len(layouts), 3.6), squeeze=False)
    for ax, layout in zip(axes[0], layouts):
        names = list(dict.fromkeys(r["features"] for r in rows if r["layout"] == layout))
        for name in names:
            rs = sorted((r for r in rows if r["layout"] == layout and r["features"] == name), key=lambda r: r["k"])
            k = np.array([r["k"] for r in rs])
            m = np.array([r["rel_error_mean"] for r in rs])
            s = np.array([r["rel_error_std"] for r in rs])
            style = "--" if "RR" in name else "-"
            ax.plot(k, m, style, marker="o", ms=3, label=name)
            ax.fill_between(k, np.maximum(m - s, 1e-4), m + s, alpha=0.15)
        ax.set_yscale("log")
        ax.set_xlabel("k (features)")
        ax.set_title(f"{layout}: least-squares V*")
        ax.grid(alpha=0.3)
    axes[0][0].set_ylabel("relative error")
    axes[0][-1].legend(fontsize=7)
    save_figure(fig, out / "value_fit.png")


if __name__ == "__main__":
    main()
