"""DQN on goal gridworlds: spectral features and eigenfunction-distance reward shaping vs baselines, side by side.

    python -m scripts.gridworld_benchmark --out results/gridworld_k50_fresh --k 50 --artifacts --first-seed 10 \
        --seeds 5 --steps 5000 --layouts GridRoom-4 GridMaze-19 GridRoom-16 --methods nested-lora   # the fits
    python -m scripts.shaping_benchmark --fits results/gridworld_k50_fresh --first-seed 10 --out results/shaping_fresh
    python -m scripts.shaping_benchmark --out results/shaping --summarize-only                  # tables only

Task: ``rlspectral/<Layout>-Goal-v0`` (goal = bottom-right free cell, reward 1 on arrival, 100-step episodes),
DQN with the library's gridworld recipe (``rlspectral.agents.recipes``), the same budget for every variant:

Reward shaping (the agent sees one-hot cells, so function approximation is not what is compared):

* ``sparse``: the sparse goal reward alone;
* ``shape-xy`` / ``shape-learned`` / ``shape-exact``: sparse reward plus the goal bonus
  -coef * ||e(s') - e(g)|| / std (Wu, Tucker, Nachum, 2019) with e = the cell's (x, y), the first ``--modes``
  learned eigenfunctions (the k = 50 NestedLoRA fit in ``--fits`` with the run's own seed, evaluated on each
  cell, so the fit's variation is part of the spread over seeds), or the first
  ``--modes`` exact eigenvectors of P (same normalization, same coefficient).

``--form potential`` uses r = d(s) - gamma d(s') instead (policy-invariant, Ng et al. 1999). It is not the
default: it keeps the sparse task's tiny action gaps (~0.007 at 100 cells with gamma 0.99), and divided by the
running std (no mean removed) its per-step reward is ~+0.1, so learned Q-values overshoot and stepping onto the
goal (which ends the episode) looks worse than wandering -- DQN with exact-eigenvector potential shaping never
reached the goal of GridMaze-19 in 100k steps, while the distance form solved it (one seed each).

Input features (sparse reward): ``sparse`` (one-hot cells) vs ``xy`` (raw xy) vs ``spectral`` (the learned
eigenfunctions of xy, frozen, as the policy's input).

``--modes 4`` (the constant and three more) was chosen from the exact spectra alone, before any agent ran: over
GridRoom-4 / GridMaze-19 / GridRoom-16 / GridMaze-26 the distance over the first 3 non-constant eigenvectors
correlates with the shortest-path distance at 0.79-0.89, over 20 at 0.31-0.60 (unweighted high-frequency modes
swamp it), and the Euclidean xy distance at 0.46-0.97.

Writes ``results.csv``, ``summary.json``, ``table.md`` (final success rate, steps to 90% success, mean ± sample
std over seeds, ddof = 1) and ``success.png`` (success rate vs env steps, mean ± std) into ``--out``.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import numpy as np

from rlspectral import report
from rlspectral.plots import pyplot, save_figure
from rlspectral.sweep import finished, run_jobs, seed_range, sweep_parser

LAYOUTS = ["GridRoom-4", "GridMaze-19", "GridRoom-16"]
VARIANTS = ["sparse", "xy", "spectral", "shape-xy", "shape-learned", "shape-exact"]
SHAPING_OBS = "onehot"  # the agent's input in the reward comparison (and in ``sparse``)


def checkpoint(fits: str, layout: str, dim: int, seed: int) -> str:
    """The k = ``dim`` NestedLoRA fit of ``layout`` with seed ``seed`` (fit seed = run seed)."""
    path = Path(fits) / f"{layout}__nested-lora__k{dim}__s{seed}" / "model.pt"
    if not path.is_file():
        raise FileNotFoundError(f"{path} missing: run the k = {dim} fits of this seed first (script docstring)")
    return str(path)


def run_job(job: dict[str, Any], job_dir: Path) -> dict[str, Any]:
    """One DQN run of a variant on a layout's goal task."""
    from rlspectral.agents.embeddings import exact_eigenvector_embedding, learned_embedding, xy_embedding
    from rlspectral.agents.train import train

    c = job["config"]
    layout, variant = c["layout"], c["variant"]
    obs = SHAPING_OBS
    kw: dict[str, Any] = {"eval_every": c["eval_every"], "eval_episodes": c["eval_episodes"]}
    features, bonus = "raw", "none"
    if variant == "xy":
        obs = "xy"
    elif variant == "spectral":
        obs, features, kw["checkpoint"] = "xy", "spectral", checkpoint(c["fits"], layout, c["fit_dim"], c["seed"])
    elif variant.startswith("shape-"):
        if variant == "shape-xy":
            emb = xy_embedding(layout, obs)
        elif variant == "shape-learned":
            emb = learned_embedding(layout, obs, checkpoint(c["fits"], layout, c["fit_dim"], c["seed"]))
        else:
            emb = exact_eigenvector_embedding(layout, obs, c["modes"])
        modes = None if variant == "shape-xy" else c["modes"]
        shaping = {"coef": c["coef"], "modes": modes, "potential": c["potential"], "gamma": 0.99}
        bonus, kw["bonus_kwargs"] = "goal", {**shaping, "embedding": emb}
        kw["callback"] = {"train_freq": 0}  # a fixed embedding: nothing to learn online
    elif variant != "sparse":
        raise ValueError(f"unknown variant {variant!r}")
    res = train(
        f"rlspectral/{layout}-Goal-v0", "dqn", features, bonus, c["steps"], c["seed"], job_dir,
        progress=False, threads=1, obs=obs, **kw,
    )  # fmt: skip
    return {"id": job["id"], "layout": layout, "variant": variant, "seed": c["seed"], "steps": c["steps"],
            "wall_time_s": res["wall_time_s"], "evaluations": res["evaluations"]}  # fmt: skip


def steps_to(evals: list[dict[str, Any]], threshold: float) -> int | None:
    """The env steps of the first evaluation with a success rate of at least ``threshold`` (None if never)."""
    return report.first_step(((e["timesteps"], e["success_rate"] or 0.0) for e in evals), threshold)


def summarize(results: list[dict[str, Any]], out: Path, layouts: list[str], variants: list[str]) -> dict[str, Any]:
    summary: dict[str, Any] = {}
    rows = [{**r, "final_success": ev[-1]["success_rate"], "steps_to_0.9": steps_to(ev, 0.9),
             "wall_time_s": round(r["wall_time_s"], 1)}
            for r in sorted(results, key=lambda r: (r["layout"], r["variant"], r["seed"]))
            for ev in [r["evaluations"]]]  # fmt: skip
    report.write_csv(
        out / "results.csv", rows, ["layout", "variant", "seed", "final_success", "steps_to_0.9", "wall_time_s"]
    )
    table = []
    for (lay, var), rs in report.groups(results, layout=layouts, variant=variants):
        final = [r["evaluations"][-1]["success_rate"] for r in rs]
        # steps to 90%: a seed that never gets there counts as the full budget (a lower bound on the truth)
        hit = [steps_to(r["evaluations"], 0.9) for r in rs]
        t = [float(h if h is not None else r["steps"]) for h, r in zip(hit, rs)]
        auc = [float(np.mean([e["success_rate"] for e in r["evaluations"]])) for r in rs]
        n_hit = sum(h is not None for h in hit)
        (fm, fs), (tm, ts), (am, as_) = report.mean_std(final), report.mean_std(t), report.mean_std(auc)
        summary[f"{lay}/{var}"] = {"seeds": len(rs), "final_mean": fm, "final_std": fs, "steps_to_0.9_mean": tm,
                                   "steps_to_0.9_std": ts, "reached": n_hit, "auc_mean": am, "auc_std": as_,
                                   "wall_time_s": float(np.mean([r["wall_time_s"] for r in rs]))}  # fmt: skip
        bound = "" if n_hit == len(rs) else " (≥: censored at the budget)"
        table.append(
            [lay, var, len(rs), report.pm(final), report.pm(t, ".0f") + bound, f"{n_hit}/{len(rs)}", report.pm(auc)]
        )
    header = ["layout", "variant", "seeds", "final success", "steps to 90% success", "seeds reaching 90%", "AUC"]
    report.write_json(out / "summary.json", summary)
    report.write_markdown(out / "table.md", report.markdown_table(header, table))
    _plot(results, out, layouts, variants)
    return summary


def _plot(results: list[dict[str, Any]], out: Path, layouts: list[str], variants: list[str]) -> None:
    """``success.png``: the reward-shaping comparison; ``inputs.png``: the policy-input comparison (``sparse``, the
    one-hot input, in both); each over the layouts that have runs of it."""
    from rlspectral.agents.report import evaluation_band

    figures = {"success.png": ["sparse"] + [v for v in variants if v.startswith("shape-")],
              "inputs.png": ["sparse"] + [v for v in variants if v in ("xy", "spectral")]}  # fmt: skip
    for name, group in figures.items():
        group = [v for v in group if v in variants]
        lays = [lay for lay in layouts if any(r["layout"] == lay and r["variant"] in group[1:] for r in results)]
        if not lays:
            continue
        fig, axes = pyplot().subplots(1, len(lays), figsize=(4.4 * len(lays), 3.6), squeeze=False, sharey=True)
        for ax, lay in zip(axes[0], lays):
            for (var,), rs in report.groups(report.select(results, layout=lay), variant=group):
                label = f"{var} (one-hot input)" if var == "sparse" and name == "inputs.png" else var
                evaluation_band(ax, rs, lambda e: e["success_rate"] or 0.0, label, bounds=(0, 1))
            ax.set_title(f"DQN, {lay}-Goal")
            ax.set_xlabel("environment steps")
            ax.grid(alpha=0.3)
            ax.legend(fontsize=7)
        axes[0][0].set_ylabel("success rate (mean ± sample std over seeds)")
        save_figure(fig, out / name)


def main(argv: list[str] | None = None) -> None:
    p = sweep_parser(__doc__, "results/shaping", seeds=5)
    p.add_argument("--fits", default="results/gridworld_k50")
    p.add_argument("--fit-dim", type=int, default=50)
    p.add_argument("--layouts", nargs="*", default=LAYOUTS)
    p.add_argument("--variants", nargs="*", default=VARIANTS)
    p.add_argument("--steps", type=int, default=100_000)
    p.add_argument("--modes", type=int, default=4, help="eigenfunctions in the shaping distance (constant included)")
    p.add_argument("--coef", type=float, default=0.05, help="shaping coefficient (on the std-normalized distance)")
    p.add_argument(
        "--form",
        choices=["potential", "distance"],
        default="distance",
        help="potential: r = d(s) - gamma d(s') (Ng et al.); distance: r = -d(s') (Wu et al.)",
    )
    p.add_argument("--eval-every", type=int, default=5000)
    p.add_argument("--eval-episodes", type=int, default=20)
    args = p.parse_args(argv)
    out = Path(args.out)
    base = {"steps": args.steps, "modes": args.modes, "coef": args.coef, "fits": args.fits, "fit_dim": args.fit_dim,
            "potential": args.form == "potential",
            "eval_every": args.eval_every, "eval_episodes": args.eval_episodes}  # fmt: skip
    jobs = [
        {"id": f"{lay}__{var}__s{seed}", "config": {**base, "layout": lay, "variant": var, "seed": seed}}
        for seed in seed_range(args)
        for lay in args.layouts
        for var in args.variants
    ]
    t0 = time.time()

    def describe(r: dict[str, Any]) -> str:
        e = r["evaluations"][-1]
        return f"success {e['success_rate']:.2f} (90% at {steps_to(r['evaluations'], 0.9)}) {r['wall_time_s']:.0f}s"

    run_jobs("scripts.shaping_benchmark:run_job", jobs, args, describe)
    results = finished(out, jobs)
    summarize(results, out, args.layouts, args.variants)
    print((out / "table.md").read_text())
    print(f"{len(results)}/{len(jobs)} runs in {out} ({time.time() - t0:.0f}s this call)")


if __name__ == "__main__":
    main()
