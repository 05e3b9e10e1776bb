"""What the spectral side costs PPO: env steps/s of each exploration arm against plain PPO, side by side.

    python -m scripts.exploration_speed --out results/exploration_speed --steps 50000 --repeats 5

Each repeat runs every arm once, one run at a time, in the same order (plain PPO first), so the arms of a repeat
share the machine's load; the cost of an arm is ``1 - (its steps/s) / (PPO's steps/s in the same repeat)``, and
the table gives its mean ± sample std over repeats. Steps/s is the agent's own clock: env steps divided by the
time from the first to the last env step (PPO's updates included, the final evaluation not). Every run also
records where the spectral callback's time went (``callback_time_s``: storing transitions, computing the bonus,
updating the eigenfunctions), so the table says what the cost is made of (the RLeXplore peers compute their reward
at the end of each rollout, inside the rollout buffer, so their time shows in the steps/s only). Resumable:
finished runs are kept. The peers need ``.venv-peers/bin/python`` (``scripts/setup_peers.sh``).
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from stable_baselines3.common.callbacks import BaseCallback

from rlspectral import report
from rlspectral.sweep import finished, run_jobs, sweep_parser

ARMS = {
    "ppo": "none",
    "ppo+elliptical": "elliptical",
    "ppo+elliptical-per-step": "elliptical",
    "ppo+novelty": "novelty",
    "ppo+rnd": "rnd",
    "ppo+e3b": "e3b",
    "ppo+re3": "re3",
    "ppo+rnd-rllte": "rnd-rllte",
}  # the last three: run with .venv-peers/bin/python
SPECTRAL = ("elliptical", "novelty")
# ppo+elliptical-per-step: the bonus computed one vectorized step at a time (the callback's path before
# 2026-12-02) instead of in blocks before each spectral round / the rollout's returns (batch_bonus, the default)
CALLBACK = {"ppo+elliptical-per-step": {"batch_bonus": False}}
PARTS = ("store", "bonus", "learner")


class StepClock(BaseCallback):
    """Wall-clock time from the first to the last env step of ``learn()``."""

    def _on_training_start(self) -> None:
        self.start = self.last = time.perf_counter()

    def _on_step(self) -> bool:
        self.last = time.perf_counter()
        return True


def run_job(job: dict[str, Any], job_dir: Path) -> dict[str, Any]:
    from rlspectral.agents import train

    clock = StepClock()
    overrides: dict[str, Any] = {"progress": False, "threads": job.get("threads", 1), "eval_every": 0,
                                 "eval_episodes": 1, "eval_sampled": False}  # fmt: skip
    if ARMS[job["arm"]] not in (*SPECTRAL, "none"):
        overrides["callback"] = {"train_freq": 0}  # RND and the peers need no eigenfunctions
    if job["arm"] in CALLBACK:
        overrides["callback"] = CALLBACK[job["arm"]]
    res = train(job["task"], "ppo", "raw", ARMS[job["arm"]], job["steps"], job["seed"], out=job_dir,
                callbacks=[clock], **overrides)  # fmt: skip
    seconds = clock.last - clock.start
    return {**{k: job[k] for k in ("id", "task", "arm", "seed", "repeat", "steps")}, "seconds": seconds,
            "steps_per_s": res["steps"] / seconds, "callback_time_s": res.get("callback_time_s") or {}}  # fmt: skip


def make_jobs(args: Any) -> list[dict[str, Any]]:
    return [
        {"id": f"{args.task.replace('/', '_')}__r{r}__{arm}", "task": args.task, "arm": arm,
         "seed": args.first_seed + r, "repeat": r, "steps": args.steps, "threads": args.threads}
        for r in range(args.repeats) for arm in args.arms
    ]  # fmt: skip


def summarize(results: list[dict[str, Any]], out: Path, arms: list[str]) -> dict[str, Any]:
    base = {r["repeat"]: r["steps_per_s"] for r in results if r["arm"] == "ppo"}
    summary: dict[str, Any] = {}
    rows = []
    for arm in arms:
        rs = [r for r in results if r["arm"] == arm]
        cost = [1 - r["steps_per_s"] / base[r["repeat"]] for r in rs if r["repeat"] in base]
        parts = {p: report.mean_std([r["callback_time_s"].get(p, 0.0) / r["seconds"] for r in rs]) for p in PARTS}
        summary[arm] = {"repeats": len(rs), "steps_per_s": report.mean_std([r["steps_per_s"] for r in rs]),
                        "cost": report.mean_std(cost), "share_of_time": parts}  # fmt: skip
        rows.append([arm, report.format_pm(summary[arm]["steps_per_s"], ".0f"),
                     "–" if arm == "ppo" else report.format_pm(summary[arm]["cost"], ".1%"),
                     *(report.format_pm(parts[p], ".1%") for p in PARTS), f"{len(rs)}"])  # fmt: skip
    report.write_json(out / "summary.json", summary)
    header = ["arm", "env steps/s", "cost vs PPO", "storing", "bonus", "learner updates", "repeats"]
    title = (
        "**Env steps/s and the spectral side's cost** (1 - steps/s ÷ PPO's in the same repeat; the last three "
        "columns: share of the run's wall time spent in each part of the callback), mean ± sample std over repeats"
    )
    report.write_markdown(out / "table.md", report.blocks([title, "", *report.markdown_table(header, rows)]))
    return summary


def main(argv: list[str] | None = None) -> None:
    p = sweep_parser(__doc__, "results/exploration_speed", seeds=None, workers=None, threads="--threads", ray=False)
    p.add_argument("--first-seed", type=int, default=0, help="repeat r runs seed first + r")
    p.add_argument("--task", default="MiniGrid-DoorKey-8x8-v0")
    p.add_argument("--arms", nargs="*", default=list(ARMS), choices=list(ARMS))
    p.add_argument("--steps", type=int, default=50_000)
    p.add_argument("--repeats", type=int, default=5)
    args = p.parse_args(argv)
    args.workers = 1  # one run at a time: the arms of a repeat must not share the machine with each other
    out = Path(args.out)
    jobs = make_jobs(args)
    run_jobs("scripts.exploration_speed:run_job", jobs, args, lambda r: f"{r['steps_per_s']:.0f} steps/s")
    summarize(finished(out, jobs), out, args.arms)
    print((out / "table.md").read_text())


if __name__ == "__main__":
    main()
