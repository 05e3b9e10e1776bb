"""MiniGrid exploration: PPO alone and with each intrinsic bonus, one step budget, several seeds, side by side.

    python -m scripts.exploration_benchmark --out results/exploration_fresh --tasks MiniGrid-DoorKey-8x8-v0 \
        --steps 500000 --first-seed 10 --seeds 5 --arms ppo ppo+elliptical     # resumable, local processes
    python -m scripts.exploration_benchmark --out results/exploration_fresh --ray auto        # the jobs on Ray
    python -m scripts.exploration_benchmark --out results/exploration_fresh --summarize-only  # tables only

Every job is ``agents.train(task, "ppo", "raw", bonus)`` with the ``("ppo", "minigrid")`` recipe (flat observations
of MiniGrid's egocentric view by default, ``--view full`` for the whole grid; :mod:`rlspectral.agents.minigrid`) and
the per-bonus coefficient ``MINIGRID_BONUS_COEF`` unless ``--coef`` sets it (``--coef elliptical=0.03,e3b=0.03``:
the coefficient is part of the run's folder name and of its table column, so a sweep lands side by side in one
``--out``). The spectral arms learn their eigenfunctions online from the agent's own experience
(``SpectralCallback``): ``elliptical`` (the recipe's arm: E3B's episodic elliptical bonus in eigenfunction space),
``novelty`` (k-nearest-neighbour distance to recently visited states) and ``eigenpurpose`` (one eigenfunction in
one arbitrary direction). ``rnd`` (ours) and ``episodic-count`` (exact episodic counts, a reference) learn no
eigenfunctions (``train_freq = 0``).

Peers from the reference implementation (RLeXplore's reward modules, ``rllte-core``; :mod:`rlspectral.sb3.rllte_peers`):
``ppo+e3b``, ``ppo+re3`` and ``ppo+rnd-rllte``, at their published coefficient (``MINIGRID_BONUS_COEF``, sources in
docs/baselines.md) or the sweep's, learning no eigenfunctions either. rllte-core lives in its own environment:

    bash scripts/setup_peers.sh
    .venv-peers/bin/python -m scripts.exploration_benchmark --arms ppo ppo+elliptical ppo+e3b ppo+re3 ppo+rnd-rllte

Writes into ``--out``: ``results.csv`` (one row per run), ``summary.json`` and ``table.md`` (success at the end, of
the training episodes and of evaluation with argmax and with sampled actions, env steps to 0.9 success, env
steps/s, mean ± sample std over seeds; for the fixed FourRooms the cosine similarity of the online-learned
eigenfunctions to the exact position-graph eigenvectors), and ``success.png`` (success rate vs env steps, mean ±
sample std over seeds). Evaluation runs every ``--eval-every`` steps over ``--eval-episodes`` episodes; on the
fixed FourRooms (fixed start) all its episodes are the same, so each argmax evaluation there is 0 or 1.
"""

from __future__ import annotations

import argparse
import math
import pickle
import time
from pathlib import Path
from typing import Any

import numpy as np

from rlspectral import report
from rlspectral.plots import pyplot, save_figure, seed_band, seed_curves
from rlspectral.sweep import finished, run_jobs, seed_range, sweep_parser, write_result

TASKS = ["MiniGrid-DoorKey-8x8-v0", "rlspectral/MiniGrid-FourRooms-Fixed-v0", "MiniGrid-MultiRoom-N2-S4-v0"]
ARMS = {"ppo": "none", "ppo+novelty": "novelty", "ppo+elliptical": "elliptical", "ppo+rnd": "rnd",
        "ppo+eigenpurpose": "eigenpurpose", "ppo+episodic-count": "episodic-count", "ppo+e3b": "e3b", "ppo+re3": "re3",
        "ppo+rnd-rllte": "rnd-rllte", "ppo+elliptical-exact": "elliptical-exact"}  # fmt: skip
DEFAULT_ARMS = ["ppo", "ppo+novelty", "ppo+rnd"]
SPECTRAL_BONUSES = ("novelty", "elliptical", "eigenpurpose")
ELLIPTICAL = ("elliptical", "elliptical-exact")  # the bonuses --ridge applies to
OLD_RIDGE = 0.1  # the elliptical bonus's ridge before 2026-12-01 (then k): runs without a recorded ridge ran it
PEER_BONUSES = ("e3b", "re3", "rnd-rllte")  # RLeXplore's modules: run with .venv-peers/bin/python (setup_peers.sh)
TARGET = 0.9
COLUMNS = ["task", "arm", "seed", "coef", "steps", "final_success", "sampled_final_success", "final_return",
           f"steps_to_{TARGET}", f"sampled_steps_to_{TARGET}", "train_success",
           f"train_steps_to_{TARGET}", "train_visited_cells", "wall_time_s", "steps_per_s", "spectral_updates",
           "cosine_similarity", "solved_cosine_similarity"]  # fmt: skip


def steps_to_stay(curve: list[list[float]], target: float = TARGET) -> int | None:
    """The env steps from which the curve stays >= ``target`` to its end (None if it ends below). For the
    training-episode success: the first episodes to finish in a run are the lucky short ones (a failing DoorKey-8x8
    episode runs 640 steps), so SB3's success rate can read 1.0 over one or two episodes at the first rollout."""
    start = None
    for t, s, _ in curve:
        start = (t if start is None else start) if s is not None and s >= target else None
    return None if start is None else int(start)


def steps_to(curve: list[list[float]], target: float = TARGET) -> int | None:
    """The first evaluation's env steps with success rate >= ``target`` (None if never)."""
    return report.first_step(((t, s) for t, s, _ in curve), target)


def training_curve(job_dir: Path, tag: str = "rollout/success_rate") -> list[list[float]]:
    """Success rate of the agent's own training episodes vs env steps: SB3's ``rollout/success_rate`` (the last
    100 finished episodes, stochastic policy, bonus on) from the run's TensorBoard log; ``tag="rollout/visited_cells"``
    gives the distinct cells per training episode (mean over the last 100)."""
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    curve: list[list[float]] = []
    for run in sorted((job_dir / "tb").glob("*")):
        acc = EventAccumulator(str(run), size_guidance={"scalars": 0})
        acc.Reload()
        if tag in acc.Tags()["scalars"]:
            curve += [[float(e.step), float(e.value), None] for e in acc.Scalars(tag)]
    return sorted(curve, key=lambda c: c[0])


def fourrooms_cosine(task: str, spectral_path: Path) -> dict[str, Any]:
    """Cosine similarity of the saved online learner's eigenfunctions (by agent position, averaged over the 4
    directions; observations standardized with the run's saved VecNormalize statistics) to the exact eigenvectors
    of the fixed layout's 4-neighbour random walk; as learned and after the learner's own Rayleigh-Ritz solve on
    its running moments (``eigenfunctions(solve=True)``)."""
    import gymnasium as gym
    import torch

    from rlspectral.agents.minigrid import position_cosine_similarity
    from rlspectral.learner import SpectralLearner

    learner = SpectralLearner.load(spectral_path)
    vecnorm_path = spectral_path.parent / "vecnormalize.pkl"  # the learner saw standardized observations
    vecnorm = pickle.loads(vecnorm_path.read_bytes()) if vecnorm_path.is_file() else None
    env = gym.make(task)
    env.reset(seed=0)
    out: dict[str, Any] = {}
    for key, solve in (("", False), ("solved_", True)):

        def phi(x: np.ndarray, solve: bool = solve) -> np.ndarray:
            x = vecnorm.normalize_obs(x) if vecnorm is not None else x
            return learner.eigenfunctions(torch.as_tensor(x, dtype=torch.float32), solve=solve)[1].numpy()

        cos, mean = position_cosine_similarity(phi, env, learner.config.k)
        out[f"{key}cosine_similarity"], out[f"{key}cosine_per_mode"] = mean, cos.tolist()
    env.close()
    return out


def _ridge(job: dict[str, Any]) -> float | None:
    """The ridge an elliptical arm runs with: ``--ridge``, or the bonus's default k (the recipe's unless ``--k``)."""
    if ARMS[job["arm"]] not in ELLIPTICAL:
        return None
    from rlspectral.agents.recipes import MINIGRID

    return float(job.get("ridge") or job.get("k") or MINIGRID["spectral"]["k"])


def run_job(job: dict[str, Any], job_dir: Path) -> dict[str, Any]:
    from rlspectral.agents import train

    bonus = ARMS[job["arm"]]
    overrides: dict[str, Any] = {
        "progress": False,
        "threads": job.get("threads", 1),
        "eval_every": job["eval_every"],
        "eval_episodes": job["eval_episodes"],
    }
    if bonus != "none":
        overrides["bonus_kwargs"] = {"coef": job["coef"], **({"ridge": job["ridge"]} if job.get("ridge") else {})}
    if job.get("view") is not None:
        overrides["view"] = job["view"]
    spectral = {
        "k": job.get("k"),
        "anchored": job.get("anchored"),
        "operator": job.get("operator"),
        "svd": job.get("svd"),
    }
    if any(v is not None for v in spectral.values()):
        overrides["spectral"] = {key: v for key, v in spectral.items() if v is not None}
    if bonus not in SPECTRAL_BONUSES and bonus != "none":
        overrides["callback"] = {"train_freq": 0}  # RND, counts and the peers need no eigenfunctions: learn none
    res = train(job["task"], "ppo", "raw", bonus, job["steps"], job["seed"], out=job_dir, **overrides)
    curve = [[e["timesteps"], e["success_rate"], e["return_mean"]] for e in res["evaluations"]]
    sampled = [[e["timesteps"], e.get("sampled_success_rate"), e.get("sampled_return_mean")]
               for e in res["evaluations"]]  # fmt: skip
    final = res["final"] or {}
    result: dict[str, Any] = {
        "id": job["id"],
        "task": job["task"],
        "arm": job["arm"],
        "seed": job["seed"],
        "steps": res["steps"],
        "coef": job.get("coef"),
        "k": job.get("k"),
        "anchored": job.get("anchored"),
        "operator": job.get("operator"),
        "svd": job.get("svd"),
        "ridge": _ridge(job),
        "view": job.get("view"),
        "final_success": final.get("success_rate"),
        "final_return": final.get("return_mean"),
        "sampled_final_success": final.get("sampled_success_rate"),
        f"steps_to_{TARGET}": steps_to(curve),
        f"sampled_steps_to_{TARGET}": steps_to(sampled) if final.get("sampled_success_rate") is not None else None,
        "wall_time_s": res["wall_time_s"],
        "steps_per_s": res["steps"] / res["wall_time_s"],
        "spectral_updates": (res.get("spectral") or {}).get("updates", 0),
        "curve": curve,
        "sampled_curve": sampled,
        "train_curve": training_curve(job_dir),
        "coverage_curve": training_curve(job_dir, "rollout/visited_cells"),
    }
    if bonus in SPECTRAL_BONUSES and job["task"].startswith("rlspectral/MiniGrid-FourRooms-Fixed"):
        result.update(fourrooms_cosine(job["task"], job_dir / "spectral.pt"))
    return result


def label(r: dict[str, Any]) -> str:
    """The table column of a run: its arm, with the bonus coefficient and k when set."""
    coef = "" if r.get("coef") is None else f" c={r['coef']:g}"
    anchored = "" if r.get("anchored") is None else f" anchored={int(r['anchored'])}"
    view = "" if r.get("view") is None else f" {r['view']}"
    ridge = "" if ARMS.get(r["arm"]) not in ELLIPTICAL else f" ridge={r.get('ridge') or OLD_RIDGE:g}"
    operator = "" if r.get("operator") is None else f" {r['operator']}" + (" svd" if r.get("svd") else "")
    return r["arm"] + coef + ("" if r.get("k") is None else f" k={r['k']}") + anchored + operator + ridge + view


def labels(results: list[dict[str, Any]], arms: list[str]) -> list[str]:
    """Columns in ``arms`` order, coefficients ascending within an arm."""
    order = {arm: i for i, arm in enumerate(arms)}
    runs = [r for r in results if r["arm"] in order]
    keyed = {label(r): (r.get("view") or "", order[r["arm"]], r.get("anchored") or 0, r.get("k") or 0,
                        r.get("coef") or 0.0) for r in runs}  # fmt: skip
    return sorted(keyed, key=keyed.__getitem__)


SECTIONS = (
    ("final_success", "Success rate at the end, greedy (argmax) evaluation", ".2f"),
    ("sampled_final_success", "Success rate at the end, evaluation with the policy's own action distribution", ".2f"),
    (f"steps_to_{TARGET}", f"Env steps to {TARGET} greedy success (seeds that got there)", ".3g"),
    (f"sampled_steps_to_{TARGET}", f"Env steps to {TARGET} sampled-action success (seeds that got there)", ".3g"),
    ("train_success", "Success rate of the last 100 training episodes at the end", ".2f"),
    (
        f"train_steps_to_{TARGET}",
        f"Env steps from which the success of the last 100 training episodes stays >= {TARGET} (seeds that got there)",
        ".3g",
    ),
    (
        "train_visited_cells",
        "Distinct cells the agent stood on per training episode at the end (mean of the last 100; "
        "runs since 2026-12-01)",
        ".1f",
    ),
    ("steps_per_s", "Env steps/s (wall clock, evaluations included)", ".0f"),
)
STEPS_KEYS = (f"steps_to_{TARGET}", f"sampled_steps_to_{TARGET}", f"train_steps_to_{TARGET}")


def summarize(
    results: list[dict[str, Any]], out: Path, tasks: list[str], arms: list[str], versus: str | None = None
) -> dict[str, Any]:
    for r in results:  # training-episode success, read from the run's TensorBoard log if the result predates it
        if not r.get("train_curve") and (out / r["id"] / "tb").is_dir():
            r["train_curve"] = training_curve(out / r["id"])  # kept in result.json (TensorBoard logs are not)
            write_result(out / r["id"], r)
        tc = r.get("train_curve") or []
        r["train_success"] = tc[-1][1] if tc else None
        r["train_max_success"] = max((p[1] for p in tc), default=None)
        r[f"train_steps_to_{TARGET}"] = steps_to_stay(tc)
        cov = r.get("coverage_curve") or []
        r["train_visited_cells"] = cov[-1][1] if cov else None
        r["label"] = label(r)
    report.write_csv(out / "results.csv", sorted(results, key=lambda r: (r["task"], r["label"], r["seed"])), COLUMNS)
    columns = labels(results, arms)
    summary: dict[str, Any] = {}
    for (task, column), rs in report.groups(results, task=tasks, label=columns):
        entry: dict[str, Any] = {"seeds": len(rs), "arm": rs[0]["arm"], "coef": rs[0].get("coef")}
        for key, _, _ in SECTIONS:
            values = [r.get(key) for r in rs]
            entry[key] = report.mean_std(values)
            if key in STEPS_KEYS:
                entry[f"{key}_reached"] = sum(v is not None for v in values)
        for key in ("cosine_similarity", "solved_cosine_similarity"):
            entry[key] = report.mean_std([r.get(key) for r in rs])
        summary[f"{task}/{column}"] = entry

    def cell(task: str, column: str, key: str, fmt: str) -> str:
        s = summary.get(f"{task}/{column}")
        if s is None or s.get(key) is None:
            return "–" if s is None or key not in STEPS_KEYS else f"never (0/{s['seeds']})"
        txt = report.format_pm(s[key], fmt)
        return txt + (f" ({s[f'{key}_reached']}/{s['seeds']})" if key in STEPS_KEYS else f" (n={s['seeds']})")

    sections: list[list[str]] = []
    for key, title, fmt in SECTIONS:
        rows = [[t, *(cell(t, c, key, fmt) for c in columns)] for t in tasks]
        title = f"**{title}**, mean ± sample std over seeds"
        sections.append([title, "", *report.markdown_table(["task", *columns], rows)])
    cos_rows = [(t, c) for t in tasks for c in columns if (summary.get(f"{t}/{c}") or {}).get("cosine_similarity")]
    if cos_rows:
        rows = [[t, c, cell(t, c, "cosine_similarity", ".3f"), cell(t, c, "solved_cosine_similarity", ".3f")]
                for t, c in cos_rows]  # fmt: skip
        title = ("**Online-learned eigenfunctions vs. the exact position-graph eigenvectors** (mean cosine "
                 "similarity over k modes, by agent position averaged over directions)")  # fmt: skip
        sections.append([title, "", *report.markdown_table(["task", "arm", "as learned", "after Rayleigh–Ritz"], rows)])
    if versus is not None:
        sections.append(_versus(results, summary, tasks, columns, versus))
    report.write_json(out / "summary.json", summary)
    report.write_markdown(out / "table.md", report.blocks(*sections))
    report.write_markdown(out / "runs.md", _per_run(results, tasks, columns))
    _plot(results, out / "success.png", tasks, columns)
    return summary


def _steps(r: dict[str, Any]) -> str:
    v = r.get(f"train_steps_to_{TARGET}")
    return "never" if v is None else f"{v / 1000:.0f}k steps"


def _per_run(results: list[dict[str, Any]], tasks: list[str], columns: list[str]) -> list[str]:
    """One row per run: training success at the end and at its best, where it stays >= TARGET, the final policy."""

    def f(v: float | None, fmt: str) -> str:
        return "–" if v is None else format(v, fmt)

    header = ["task", "arm, seed", "training success at the end (last 100 episodes)", "maximum",
              f"holds ≥ {TARGET} from", "final policy, sampled / argmax", "wall time"]  # fmt: skip
    rows = [
        [task, f"{column}, seed {r['seed']}", f(r["train_success"], ".2f"), f(r["train_max_success"], ".2f"),
         _steps(r), f"{f(r['sampled_final_success'], '.1f')} / {f(r['final_success'], '.1f')}",
         f"{r['wall_time_s']:.0f} s"]
        for task in tasks for column in columns
        for r in sorted(report.select(results, task=task, label=column), key=lambda r: r["seed"])
    ]  # fmt: skip
    return report.markdown_table(header, rows)


def _versus(
    results: list[dict[str, Any]], summary: dict[str, Any], tasks: list[str], columns: list[str], reference: str
) -> list[str]:
    """``reference`` (a table column) against every other column of each task with >= 2 seeds on both sides.

    Seeds are independent, not paired: Fisher's exact test on the seeds solved (training success >= TARGET at the
    end; final policy's sampled success >= TARGET), two-sided Mann-Whitney U on the training success at the end, the
    sampled final success and the env steps from which training success stays >= TARGET (a seed that never gets
    there ranks last). Each entry lands in ``summary[task/column]["versus"]``.
    """
    from scipy.stats import fisher_exact, mannwhitneyu

    def solved(rs: list[dict[str, Any]], key: str) -> int:
        return sum((r.get(key) or 0.0) >= TARGET for r in rs)

    def steps(rs: list[dict[str, Any]]) -> list[float]:
        return [r[f"train_steps_to_{TARGET}"] or math.inf for r in rs]

    rows = []
    for task in tasks:
        ref = report.select(results, task=task, label=reference)
        for column in columns:
            other = report.select(results, task=task, label=column)
            if column == reference or len(ref) < 2 or len(other) < 2:
                continue
            entry: dict[str, Any] = {"reference": reference, "seeds": [len(ref), len(other)]}
            for key in ("train_success", "sampled_final_success"):
                a, b = solved(ref, key), solved(other, key)
                table = [[a, len(ref) - a], [b, len(other) - b]]
                entry[f"{key}_solved"] = [a, b]
                entry[f"{key}_fisher_p"] = float(fisher_exact(table).pvalue)
                values = [[r.get(key) or 0.0 for r in rs] for rs in (ref, other)]
                entry[f"{key}_mann_whitney_p"] = float(mannwhitneyu(*values, alternative="two-sided").pvalue)
            steps_p = mannwhitneyu(steps(ref), steps(other), alternative="two-sided").pvalue
            entry["train_steps_mann_whitney_p"] = float(steps_p)
            summary[f"{task}/{column}"]["versus"] = entry

            def fisher(key: str, e: dict[str, Any] = entry) -> str:
                (a, b), (n, m) = e[f"{key}_solved"], e["seeds"]
                return f"{a}/{n} vs {b}/{m} (p = {e[f'{key}_fisher_p']:.3f})"

            rows.append([task, column, "{} vs {}".format(*entry["seeds"]), fisher("train_success"),
                         fisher("sampled_final_success"), f"{entry['train_success_mann_whitney_p']:.3f}",
                         f"{entry['sampled_final_success_mann_whitney_p']:.3f}", f"{steps_p:.3f}"])  # fmt: skip
    header = ["task", "other arm", "seeds", f"seeds with training success ≥ {TARGET} (Fisher)",
              f"seeds with sampled final success ≥ {TARGET} (Fisher)", "training success (Mann–Whitney p)",
              "sampled final success (Mann–Whitney p)", f"steps to stay ≥ {TARGET} (Mann–Whitney p)"]  # fmt: skip
    title = (f"**{reference} against every other arm**: independent seeds, two-sided tests; a seed that never "
             f"stays ≥ {TARGET} ranks last in the steps test")  # fmt: skip
    return [title, "", *report.markdown_table(header, rows)]


CURVES = (("curve", "greedy evaluation"), ("sampled_curve", "sampled-action evaluation"),
          ("train_curve", "last 100 training episodes"))  # fmt: skip


def _plot(results: list[dict[str, Any]], path: Path, tasks: list[str], columns: list[str]) -> None:
    fig, axes = pyplot().subplots(len(CURVES), len(tasks), figsize=(4.6 * len(tasks), 3.5 * len(CURVES)), squeeze=False)
    for row, (key, what) in enumerate(CURVES):
        for ax, task in zip(axes[row], tasks):
            _plot_task(ax, results, task, columns, key)
            ax.set_title(f"{task.replace('rlspectral/', '')}: {what}", fontsize=9)
        axes[row][0].set_ylabel("success rate (mean ± sample std over seeds)", fontsize=8)
    axes[0][-1].legend(fontsize=7)
    save_figure(fig, path)


def _plot_task(ax: Any, results: list[dict[str, Any]], task: str, columns: list[str], key: str) -> None:
    """Mean ± std over seeds of one task's success curves (``key``: one of :data:`CURVES`), one line per column."""
    from matplotlib.ticker import FuncFormatter

    for column in columns:
        points = [
            [(t, s) for t, s, _ in r.get(key) or [] if s is not None]
            for r in report.select(results, task=task, label=column)
        ]
        curves = [([t for t, _ in c], [s for _, s in c]) for c in points if c]
        if curves:
            seed_band(ax, *seed_curves(curves, "union"), f"{column} (n={len(curves)})", bounds=(0, 1))
    ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v / 1000:g}k"))
    ax.set_xlabel("env steps")
    ax.set_ylim(-0.02, 1.02)
    ax.grid(alpha=0.3)


def make_jobs(args: argparse.Namespace) -> list[dict[str, Any]]:
    from rlspectral.agents.recipes import MINIGRID_BONUS_COEF

    if len(args.steps) not in (1, len(args.tasks)):
        raise SystemExit(f"--steps takes one budget for every task or one per task ({len(args.tasks)} tasks)")
    steps = dict(zip(args.tasks, args.steps * len(args.tasks) if len(args.steps) == 1 else args.steps))
    jobs = []
    for seed in seed_range(args):
        for task in args.tasks:
            for arm in args.arms:
                bonus = ARMS[arm]
                coef = args.coef.get(bonus, MINIGRID_BONUS_COEF.get(bonus)) if bonus != "none" else None
                k = args.k if bonus in SPECTRAL_BONUSES else None
                anchored = args.anchored if bonus in SPECTRAL_BONUSES else None
                operator = args.operator if bonus in SPECTRAL_BONUSES else None
                svd = bool(args.svd) if bonus in SPECTRAL_BONUSES and args.svd is not None else None
                ridge = args.ridge if bonus in ELLIPTICAL else None
                tag = task.replace("rlspectral/", "").replace("/", "_")
                jobs.append({
                    "id": f"{tag}__{arm}__{steps[task]}__s{seed}" + (f"__c{coef:g}" if coef is not None else "")
                    + (f"__k{args.k}" if k is not None else "")
                    + (f"__anchored{int(anchored)}" if anchored is not None else "")
                    + (f"__{operator.replace(':', '')}" if operator is not None else "")
                    + (f"__svd{int(svd)}" if svd is not None else "")
                    + (f"__ridge{ridge:g}" if ridge is not None else "")
                    + (f"__{args.view}" if args.view is not None else ""),
                    "task": task, "arm": arm, "seed": seed, "steps": steps[task], "coef": coef, "k": k,
                    "anchored": anchored, "operator": operator, "svd": svd, "ridge": ridge, "view": args.view,
                    "eval_every": args.eval_every, "eval_episodes": args.eval_episodes, "threads": args.threads,
                })  # fmt: skip
    return jobs


def _coefs(text: str) -> dict[str, float]:
    pairs = [p.split("=") for p in text.split(",") if p]
    if any(len(p) != 2 or p[0] not in ARMS.values() for p in pairs):
        raise argparse.ArgumentTypeError(f"expected bonus=coef[,bonus=coef], bonus in {sorted(set(ARMS.values()))}")
    return {k: float(v) for k, v in pairs}


def main(argv: list[str] | None = None) -> None:
    p = sweep_parser(__doc__, "results/exploration", threads="--threads")
    p.add_argument("--tasks", nargs="*", default=TASKS)
    p.add_argument("--arms", nargs="*", default=DEFAULT_ARMS, choices=list(ARMS))
    p.add_argument("--steps", type=int, nargs="+", default=[1_000_000],
                   help="env steps per run, the same for every arm: one budget, or one per --tasks entry")  # fmt: skip
    p.add_argument("--coef", type=_coefs, default={}, help="bonus coefficients, e.g. rnd=0.005,novelty=0.002")
    p.add_argument("--k", type=int, help="eigenfunctions learned online (default: the recipe's)")
    p.add_argument("--view", choices=["full", "egocentric"], help="MiniGrid observation (default: the recipe's)")
    p.add_argument("--anchored", type=int, choices=[0, 1], help="episode-anchored eigenfunctions (default: recipe's)")
    p.add_argument("--operator", help="the online learner's operator: successor:0.5, time-lag:1 (default: recipe's)")
    p.add_argument("--svd", type=int, choices=[0, 1], help="two networks: the bonus reads the left singular functions")
    p.add_argument("--ridge", type=float, help="ridge of the elliptical bonuses' covariance (default: k)")
    p.add_argument("--eval-every", type=int, default=20_000, help="a failing DoorKey-8x8 evaluation costs 6400 steps")
    p.add_argument("--eval-episodes", type=int, default=10)
    p.add_argument("--versus", metavar="COLUMN", help="test this table column against every other one "
                   "(Fisher, Mann-Whitney), e.g. 'ppo+elliptical c=0.003 ridge=32'")  # fmt: skip
    args = p.parse_args(argv)
    if args.versus is not None and args.versus.split(" ")[0] not in ARMS:
        p.error(f"--versus {args.versus!r}: a table column starts with an arm, one of {', '.join(ARMS)}")
    out = Path(args.out)
    jobs = make_jobs(args)
    t0 = time.time()

    def describe(r: dict[str, Any]) -> str:
        cos = f", cos {r['cosine_similarity']:.3f}" if r.get("cosine_similarity") is not None else ""
        return (f"success {r['final_success']}, steps to {TARGET} {r[f'steps_to_{TARGET}']}, "
                f"{r['steps_per_s']:.0f} steps/s{cos}")  # fmt: skip

    run_jobs("scripts.exploration_benchmark:run_job", jobs, args, describe)
    # a run summarizes its own jobs; --summarize-only every finished run of --tasks in --out (all arms, coefficients)
    results = finished(out, None if args.summarize_only else jobs, keep=lambda r: r["task"] in args.tasks)
    arms = list(ARMS) if args.summarize_only else args.arms
    if args.versus is not None and args.versus not in (columns := labels(results, arms)):
        p.error(f"--versus {args.versus!r} is not a column of these runs; columns: {', '.join(columns) or 'none'}")
    summarize(results, out, args.tasks, arms, args.versus)
    print(f"{len(results)} runs summarized in {out}/table.md ({time.time() - t0:.0f}s this call)")


if __name__ == "__main__":
    main()
