"""Pair-sampling cost: milliseconds per batch of (x, x') pairs from a gridworld random-walk buffer, one thread.

    python -m scripts.sampler_benchmark --out results/sampler      # ~1 min

The buffer is what ``rlspectral fit`` builds by default (GridRoom-4, xy, 50k episodes of 50 steps = 2.55M stored
states); each operator draws ``--repeats`` batches after a warm-up one (which builds the room index). Writes
``result.json`` (median and 10-90% range per operator and batch size) into ``--out``.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np

from rlspectral import report


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--out", default="results/sampler")
    p.add_argument("--layout", default="GridRoom-4")
    p.add_argument("--episodes", type=int, default=50_000)
    p.add_argument("--batch-sizes", type=int, nargs="*", default=[1024, 8192])
    p.add_argument("--operators", nargs="*", default=["transition", "successor:0.9", "time-lag:10"])
    p.add_argument("--repeats", type=int, default=200)
    args = p.parse_args(argv)
    import platform

    import torch

    from rlspectral.buffer import PairSampler
    from rlspectral.envs import load_grid
    from rlspectral.envs.replay import random_walk_buffer
    from rlspectral.operators import make_operator

    torch.set_num_threads(1)
    buffer = random_walk_buffer(load_grid(args.layout), "xy", args.episodes, 50, seed=0)
    rows = []
    for spec in args.operators:
        sampler = PairSampler(buffer, make_operator(spec), seed=0)
        for batch in args.batch_sizes:
            sampler(batch)  # warm-up: builds the room index once per buffer state
            times = []
            for _ in range(args.repeats):
                t0 = time.perf_counter()
                sampler(batch)
                times.append((time.perf_counter() - t0) * 1e3)
            q10, q50, q90 = np.percentile(times, [10, 50, 90])
            rows.append({"operator": spec, "batch_size": batch, "ms_median": q50, "ms_p10": q10, "ms_p90": q90})
            print(f"{spec:>14} batch {batch:5d}: {q50:6.2f} ms (10-90%: {q10:.2f}-{q90:.2f})", flush=True)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    info = {"layout": args.layout, "stored_states": len(buffer), "threads": 1, "machine": platform.processor() or
            platform.machine(), "torch": torch.__version__, "rows": rows}  # fmt: skip
    report.write_json(out / "result.json", info)


if __name__ == "__main__":
    main()
