"""Check that every headline number in the README is the number in its results file.

    python -m scripts.check_claims            # one line per claim; exit 1 if any differs or is missing

Each claim is a pattern in README.md whose captured numbers must equal what the results files give, formatted the
way the README prints them. The headline table is checked cell by cell against the ``summary.json`` of the sweep
its paragraph names. A README number without a results file behind it has no place here, and no place in the
README.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from rlspectral.baselines import PUBLISHED_SCORES

RESULTS = Path("results")


def _json(path: str) -> Any:
    return json.loads((RESULTS / path).read_text())


def _seed_results(folder: str, prefix: str) -> list[dict[str, Any]]:
    return [json.loads(p.read_text()) for p in sorted((RESULTS / folder).glob(f"{prefix}__s*/result.json"))]


def _pm(values: list[float], fmt: str, ddof: int = 0) -> list[str]:
    v = np.asarray(values, dtype=float)
    return [format(v.mean(), fmt), format(v.std(ddof=ddof), fmt)]


def headline_table(readme: str) -> list[tuple[str, str, str]]:
    """(cell, README, file) for every cell of the headline table (the one headed ``| layout | nested-lora``)."""
    lines = [ln for ln in readme.splitlines() if ln.startswith("|")]
    start = next(i for i, ln in enumerate(lines) if ln.startswith("| layout | nested-lora"))
    header = [c.strip() for c in lines[start].strip("|").split("|")]
    folder = re.search(r"`results/(gridworld[\w]*)/`\)", readme).group(1)
    summary = _json(f"{folder}/summary.json")
    out = []
    for row in lines[start + 2 :]:
        cells = [c.strip() for c in row.strip("|").split("|")]
        if len(cells) != len(header):
            break
        layout = cells[0]
        for col, cell in zip(header[1:], cells[1:]):
            if col in ("ALLO (published)", "GGDO (published)"):
                published = PUBLISHED_SCORES[col.split()[0].lower()]
                want = format(published[layout], "g") if layout in published else "–"
            else:  # "mean ± std", and " (n=N)" where the row has fewer seeds than the paragraph says
                s = summary[f"{layout}/{col}"]
                want = f"{s['raw_mean']:.4f} ± {s['raw_std']:.4f}"
                if cell.endswith(")"):
                    want += f" (n={s['seeds']})"
            out.append((f"{layout} / {col}", cell, want))
    return out


def _demo() -> list[str]:
    s = _json("demo/summary.json")
    agents, eig = {a["agent"]: a for a in s["agents"]}, s["eigenfunctions"]
    spectral, raw = agents["spectral (frozen)"], agents["raw xy"]
    return [
        str(spectral["seeds"]),
        *_pm(spectral["final_success_rate_per_seed"], ".2f", 1),
        *_pm(raw["final_success_rate_per_seed"], ".2f", 1),
        *_pm(eig["mean_cosine_similarity_per_seed"], ".4f", 1),
    ]


def _speed() -> list[str]:
    """NestedLoRA's time to 0.99 (fresh seeds on the CPU, development seeds on the GPU) and ALLO-as-published's time
    to 0.95 after Rayleigh-Ritz over NestedLoRA's as learned, per seed; sample std."""
    lora = {r["seed"]: r for r in _seed_results("speed_fresh", "nested-lora")}
    allo = _seed_results("speed_fresh", "allo+published")
    ratio = [r["rr_time_to_0.95_s"] / lora[r["seed"]]["time_to_0.95_s"] for r in allo]
    gpu = [r["time_to_0.99_s"] for r in _seed_results("speed_gpu", "nested-lora")]
    cpu = [r["time_to_0.99_s"] for r in lora.values()]
    return [*_pm(cpu, ".1f", 1), *_pm(ratio, ".1f", 1), *_pm(gpu, ".1f", 1)]


def _k50() -> list[str]:
    s = _json("gridworld_k50_fresh/summary.json")
    if min(v["seeds"] for v in s.values()) < 5:  # the README says seeds 10-14 for every cell
        return ["(fewer than 5 seeds in a cell)"] * 7
    lora = [v["raw_mean"] for k, v in s.items() if k.endswith("/nested-lora")]
    allo = [v["raw_mean"] for k, v in s.items() if k.endswith("/allo+published")]
    return [f"{min(lora):.2f}", f"{max(lora):.2f}", str(len(lora)), f"{s['GridMaze-32/nested-lora']['raw_mean']:.2f}",
            f"{s['GridRoom-64/nested-lora']['raw_mean']:.2f}", f"{min(allo):.2f}", f"{max(allo):.2f}"]  # fmt: skip


def _koopman() -> list[str]:
    """NestedLoRA SVD's implied-timescale error: the largest per-system mean over seeds, and the worst run."""
    runs = [r for r in _json("koopman/results.json") if r.get("kind") == "fit" and r["method"] == "lora-svd"]
    systems = {r["system"] for r in runs}
    means = [np.mean([r["max_abs_timescale_err"] for r in runs if r["system"] == s]) for s in systems]
    return [f"{100 * max(means):.1f}", f"{100 * max(r['max_abs_timescale_err'] for r in runs):.1f}"]


def _logistic() -> list[str]:
    """Noisy logistic map, fresh seeds: seed count and the svd-rank prediction error of NestedLoRA, VAMPnet, DPNet."""
    runs = _json("koopman_logistic_fresh/results.json")
    seeds = {r["seed"] for r in runs if r["method"] == "lora-svd"}
    err = {
        m: np.mean([r["svd-rank"]["pred_err_mean"] for r in runs if r["method"] == m])
        for m in ("lora-svd", "vampnet", "dpnet")
    }
    return [str(len(seeds)), *(f"{err[m]:.4f}" for m in ("lora-svd", "vampnet", "dpnet"))]


def _shaping() -> list[str]:
    s = _json("shaping_fresh/summary.json")
    learned, sparse = s["GridMaze-19/shape-learned"], s["GridMaze-19/sparse"]
    censored = "≥" if sparse["reached"] < sparse["seeds"] else ""  # a seed counted at the budget: a lower bound
    return [f"{learned['steps_to_0.9_mean'] / 1000:.0f}", censored, f"{sparse['steps_to_0.9_mean'] / 1000:.0f}"]


def _doorkey() -> list[str]:
    s = {k.split("/", 1)[1]: v for k, v in _json("exploration_fresh/summary.json").items()}
    ours, ppo = s["ppo+elliptical c=0.003 ridge=32"], s["ppo"]
    out = []
    for arm in (ours, ppo):
        out += [str(arm["train_steps_to_0.9_reached"]), str(arm["seeds"]), *(f"{v:.2f}" for v in arm["train_success"])]
    out += [f"{v / 1000:.0f}" for v in ours["train_steps_to_0.9"]]
    re3 = s["ppo+re3 c=0.003"]
    out += [str(re3["train_steps_to_0.9_reached"]), str(re3["seeds"])]
    for arm in (re3, s["ppo+e3b c=0.003"]):
        out += [f"{v / 1000:.0f}" for v in arm["train_steps_to_0.9"]]
    return out


def _doorkey16() -> list[str]:
    s = {k.split("/", 1)[1]: v for k, v in _json("exploration_hard/summary.json").items()}
    out = []
    peers = ("ppo+e3b c=0.003", "ppo+re3 c=0.003", "ppo+rnd-rllte c=0.003", "ppo")
    for name in ("ppo+elliptical c=0.003 ridge=32", *peers):
        arm = s[name]
        out += [str(arm["train_steps_to_0.9_reached"]), str(arm["seeds"])]
        if name.startswith("ppo+elliptical"):
            out += [f"{v:.2f}" for v in arm["train_success"]]
    return out


def _keycorridor() -> list[str]:
    s = {k.split("/", 1)[1]: v for k, v in _json("exploration_keycorridor/summary.json").items()}
    if "versus" not in s["ppo+e3b c=0.003"]:  # written only by a summary with --versus
        sys.exit(
            "results/exploration_keycorridor/summary.json has no tests of ours against the peers: re-summarize "
            "with --summarize-only --versus 'ppo+elliptical c=0.003 ridge=32' (docs/benchmarks/exploration.md)"
        )
    e3b = s["ppo+e3b c=0.003"]["versus"]
    (ours, peer), (n, m) = e3b["sampled_final_success_solved"], e3b["seeds"]
    out = [str(ours), str(n), str(peer), str(m), f"{e3b['sampled_final_success_fisher_p']:.3f}"]
    for name in ("ppo+re3 c=0.003", "ppo+rnd-rllte c=0.003", "ppo"):
        v = s[name]["versus"]
        out += [str(v["sampled_final_success_solved"][1]), str(v["seeds"][1])]
    return out


def _multiroom() -> list[str]:
    s = {k.split("/", 1)[1]: v for k, v in _json("exploration_multiroom/summary.json").items()}
    arms = ("ppo+elliptical c=0.003 ridge=32", "ppo+e3b c=0.003", "ppo+re3 c=0.003", "ppo+rnd-rllte c=0.003", "ppo")
    out = [x for name in arms for x in (str(s[name]["train_steps_to_0.9_reached"]), str(s[name]["seeds"]))]
    cost = _json("exploration_speed_batched/summary.json")["ppo+elliptical"]["cost"][0]
    return [*out, f"{100 * cost:.1f}"]


def _pde() -> list[str]:
    """2D hydrogen from the batch-2048 final seeds, 3D hydrogen from the batch-1024 fresh seeds."""
    h2 = [r for r in _json("pde_final/results.json") if r["method"] == "nested-lora" and r["task"] == "hydrogen2d"]
    h3 = [r for r in _json("pde_fresh/results.json") if r.get("method") == "nested-lora" and r["task"] == "hydrogen3d"]
    ok = sum(r["min_shell_cosine"] >= 0.99 for r in h2)
    return [
        str(len(h2)),
        *_pm([100 * r["mean_relative_error"] for r in h2], ".2f", 1),
        str(ok),
        str(len(h2)),
        *_pm([100 * r["mean_relative_error"] for r in h3], ".3f", 1),
    ]


def _mountaincar() -> list[str]:
    s = _json("mountaincar_fresh/summary.json")
    nov, sac = s["MountainCarContinuous-v0/sac+novelty"], s["MountainCarContinuous-v0/sac"]
    return [str(nov["flag_seeds"]), str(nov["seeds"]), str(sac["flag_seeds"]), str(sac["seeds"])]


def _pointmaze_rl() -> list[str]:
    s = _json("pointmaze_rl_fresh/summary.json")
    return [f"{s[f'PointMaze_Medium-v3/{m}']['mean_over_evals']:.2f}" for m in ("sac+novelty", "sac")]


def _reliability() -> list[str]:
    s = _json("reliability_fresh/summary.json")["sac+novelty"]
    return [f"{s['speed_vs_sac']:.2f}"] if s["weights_finite_throughout"] and s["steps"] == 200_000 else ["diverged"]


def _pointmaze() -> list[str]:
    s = _json("pointmaze/summary.json")
    return [f"{s[f'PointMaze_Medium-v3/{m}']['rr_mean']:.3f}" for m in ("nested-lora", "allo-tuned")]


def _fresh_counts() -> list[str]:
    """The headline table's tallies: NestedLoRA >= 0.99 as learned, and >= ALLO as published at the same budget."""
    s = _json("gridworld_fresh/summary.json")
    lora = {k.split("/")[0]: v["raw_mean"] for k, v in s.items() if k.endswith("/nested-lora")}
    allo = {k.split("/")[0]: v["raw_mean"] for k, v in s.items() if k.endswith("/allo+published")}
    both = [layout for layout in lora if layout in allo]
    ahead = sum(lora[layout] >= allo[layout] for layout in both)
    return [str(sum(v >= 0.99 for v in lora.values())), str(len(lora)), str(ahead), str(len(both))]


def _graph() -> list[str]:
    t = _json("graph_fresh/summary.json")["transductive"]["nested-lora"]
    return [str(len(t["seeds"])), *_pm(t["mean_cosine_similarity"], ".4f", 1), *_pm(t["wall_time_s"], ".0f", 1)]


N = r"([\d.]+)"
# README pattern (numbers captured in order) -> what the results files give, formatted as printed
# fmt: off
CLAIMS: list[tuple[str, Callable[[], list[str]]]] = [
    (rf"Final success over {N} independent seeds, each with its own fit: spectral features\s+{N} ± {N} vs raw xy "
     rf"{N} ± {N} \(sample std\), eigenfunctions mean cosine {N} ± {N} as learned", _demo),
    (rf"reach mean cosine 0\.99 on GridRoom-4 in\s+{N} ± {N} s on a 2-core CPU \(fresh seeds; ALLO as published needs "
     rf"{N} ± {N}× as long for 0\.95, even after\s+Rayleigh–Ritz\) and {N} ± {N} s on an H100", _speed),  # fmt: skip
    (rf"50 modes as learned {N}–{N} on {N} layouts \(fresh seeds 10–14; GridMaze-32 {N}\s+and GridRoom-64 {N} vs the "
     rf"published 0\.736 / 0\.742\), ALLO as published {N}–{N}", _k50),  # fmt: skip
    (rf"implied timescales within {N}% of the reference on average over 3 seeds\s+\(worst run {N}%\)", _koopman),
    (rf"Over {N} fresh seeds NestedLoRA SVD\s+predicts with error {N} vs VAMPnet {N} and DPNet {N}", _logistic),
    (rf"90%\s+DQN\s+success\s+in {N}k vs (≥?) ?{N}k steps \(sparse\) on GridMaze-19", _shaping),
    (rf"elliptical bonus in eigenfunction space at coefficient 0\.003 succeeds in\s+{N}/{N} seeds \(training success "
     rf"{N} ± {N}\) vs plain PPO {N}/{N} \({N} ± {N}\) and holds ≥ 0\.9 from\s+{N}k ± {N}k steps on \(RE3 {N}/{N} "
     rf"seeds, {N}k ± {N}k; E3B {N}k ± {N}k", _doorkey),
    (rf"DoorKey-16x16 at 1M steps: ours {N}/{N} seeds \(training success {N} ± {N}\), E3B {N}/{N}, RE3 {N}/{N}, "
     rf"RND {N}/{N}, PPO {N}/{N}",
     _doorkey16),
    (rf"KeyCorridorS3R3 at 500k: final policy ≥ 0\.9 \(sampled\) on ours {N}/{N} seeds, E3B {N}/{N} \(Fisher\s+"
     rf"p = {N}\), RE3 {N}/{N}, RND {N}/{N}, PPO {N}/{N}", _keycorridor),
    (rf"MultiRoom-N4-S5 at 500k: ours {N}/{N} seeds, E3B {N}/{N}, RE3 {N}/{N}, RND {N}/{N}, PPO {N}/{N}; cost {N} % "
     rf"of PPO's steps/s", _multiroom),
    (rf"2D hydrogen, 16 states, 50k steps, {N} fresh seeds: mean energy error {N} ± {N} %, every shell's\s+"
     rf"cosine ≥ 0\.99 on {N}/{N} seeds; 3D hydrogen, 14 states: {N} ± {N} %", _pde),
    (rf"flag in {N}/{N} seeds \(plain SAC {N}/{N}; fresh seeds\)", _mountaincar),
    (rf"PointMaze on par at 20k steps\s+\(mean success over the\s+evaluations\s+{N} vs {N}, fresh", _pointmaze_rl),
    (rf"over 200k steps the online learner stays finite\s+with flat memory at {N}× SAC's steps/s", _reliability),
    (rf"Medium maze RR mean cosine {N} vs ALLO {N}", _pointmaze),
    (rf"NestedLoRA is ≥ 0\.99 as learned on {N} of {N} layouts and ahead of ALLO as published at the same budget "
     rf"on {N} of {N}", _fresh_counts),
    (rf"On Cora \(largest component, {N} fresh seeds\) the 16 top modes reach mean cosine {N} ± {N} in {N} ± {N} s",
     _graph),
]
# fmt: on


def check(readme: str) -> list[str]:
    """Every mismatch as one line (empty: every claim holds)."""
    problems = []
    for cell, got, want in headline_table(readme):
        if got != want:
            problems.append(f"headline table {cell}: README {got!r}, results {want!r}")
    text = re.sub(r"\s+", " ", readme)  # a claim may wrap anywhere
    for pattern, source in CLAIMS:
        m = re.search(pattern, text)
        if m is None:
            problems.append(f"claim not found in the README: {pattern[:70]}...")
            continue
        got, want = list(m.groups()), source()
        if [g.rstrip(".") for g in got] != want:
            problems.append(f"{m.group(0)[:60]}...: README {got}, results {want}")
    return problems


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--readme", default="README.md")
    args = p.parse_args(argv)
    problems = check(Path(args.readme).read_text())
    for line in problems:
        print(line)
    n = len(headline_table(Path(args.readme).read_text())) + len(CLAIMS)
    print(f"{n - len(problems)}/{n} README claims match their results files")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
