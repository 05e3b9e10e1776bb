"""The policy a user gets: final success of saved MiniGrid agents with argmax, tempered and sampled actions.

    python -m scripts.exploration_policy_eval --out results/exploration_fresh --episodes 50

SB3's deterministic (argmax) action can loop in MiniGrid (turning or bumping in place until the time-out) where the
stochastic policy it was trained as succeeds. For every finished run under ``--out`` (``model.zip`` and
``vecnormalize.pkl`` of :func:`rlspectral.agents.train`) this evaluates the final policy on ``--episodes`` fresh
layouts (env seeds 20_000 + run seed) with actions drawn from softmax(logits / T) for each temperature in
``--temperatures`` (T = 0: argmax; T = 1: the policy's own distribution), and writes ``policy_eval.json`` /
``policy_eval.md`` (success rate, mean ± sample std over the runs of each arm) into ``--out``.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

import torch

from rlspectral import report


def _ridge(result: dict[str, Any]) -> float | None:
    """An elliptical arm's ridge: the recorded one, else 0.1 (the bonus's default before 2026-12-01, then k)."""
    return result.get("ridge") or (0.1 if result["arm"].startswith("ppo+elliptical") else None)


def success_rate(run_dir: Path, temperature: float, episodes: int, seed: int) -> float:
    """Share of ``episodes`` that end at the goal when acting with softmax(logits / temperature) (0: argmax)."""
    from stable_baselines3 import PPO

    from rlspectral.agents.evaluate import make_run_env
    from rlspectral.agents.report import RUN_FILE

    run = {**json.loads((run_dir / RUN_FILE).read_text()), "dir": str(run_dir)}
    env = make_run_env(run, seed=seed)
    model = PPO.load(run_dir / "model.zip", device="cpu")
    gen = torch.Generator().manual_seed(seed)
    obs, wins, done_episodes = env.reset(), 0, 0
    while done_episodes < episodes:
        with torch.no_grad():
            logits = model.policy.get_distribution(torch.as_tensor(obs)).distribution.logits
        if temperature == 0:
            action = logits.argmax(-1)
        else:
            action = torch.multinomial(torch.softmax(logits / temperature, -1), 1, generator=gen)[:, 0]
        obs, _, dones, infos = env.step(action.numpy())
        if dones[0]:
            done_episodes += 1
            wins += int(bool(infos[0].get("is_success")))
    env.close()
    return wins / episodes


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--out", default="results/exploration_fresh", help="a folder of finished runs; results go there")
    p.add_argument("--episodes", type=int, default=50)
    p.add_argument("--temperatures", type=float, nargs="+", default=[0.0, 0.3, 1.0])
    args = p.parse_args(argv)
    torch.set_num_threads(1)
    root = Path(args.out)
    cache_path = root / "policy_eval.json"
    cache: dict[str, Any] = json.loads(cache_path.read_text()) if cache_path.is_file() else {"runs": {}}
    for result_path in sorted(root.glob("*/result.json")):
        r = json.loads(result_path.read_text())
        key = r["id"]
        if key in cache["runs"]:  # the column (arm, coefficient, ridge) of runs evaluated before it was recorded
            cache["runs"][key]["ridge"] = _ridge(r)
        done = cache["runs"].get(key, {}).get("success", {})
        todo = [t for t in args.temperatures if f"{t:g}" not in done]
        if not todo or not (result_path.parent / "model.zip").is_file():
            continue
        for t in todo:
            done[f"{t:g}"] = success_rate(result_path.parent, t, args.episodes, 20_000 + int(r["seed"]))
        cache["runs"][key] = {"arm": r["arm"], "coef": r.get("coef"), "ridge": _ridge(r), "seed": r["seed"],
                              "episodes": args.episodes, "success": done}  # fmt: skip
        report.write_json(cache_path, cache)
        print(key, done, flush=True)

    def column(v: dict[str, Any]) -> tuple[str, float, float]:
        return v["arm"], v["coef"] or 0.0, v.get("ridge") or 0.0

    rows = []
    for arm, coef, ridge in sorted({column(v) for v in cache["runs"].values()}):
        runs = [v for v in cache["runs"].values() if column(v) == (arm, coef, ridge)]
        cells = [report.pm([v["success"].get(f"{t:g}") for v in runs]) for t in args.temperatures]
        name = arm + (f" c={coef:g}" if coef else "") + (f" ridge={ridge:g}" if ridge else "")
        rows.append([name, *cells, str(len(runs))])
    header = ["arm", *(("argmax" if t == 0 else f"T = {t:g}") for t in args.temperatures), "runs"]
    title = (f"**Final policy success by action rule** ({args.episodes} fresh layouts per run; softmax(logits / T), "
             "T = 1 is the policy's own distribution), mean ± sample std over runs")  # fmt: skip
    report.write_markdown(root / "policy_eval.md", report.blocks([title, "", *report.markdown_table(header, rows)]))
    print((root / "policy_eval.md").read_text())


if __name__ == "__main__":
    main()
