"""What the PointMaze replay supports: a tabular (binned) estimate of the lag-tau operator vs the maze reference.

    python -m scripts.pointmaze_binned --out results/pointmaze/binned.json     # ~2 min, no learning

The same random-policy replay as ``python -m scripts.pointmaze_benchmark`` (seed 0), positions binned on the reference's
own sub-cells (``--resolution`` per maze cell). For each lag tau, the symmetrized pair-count matrix C gives the
reversible chain D^-1 C; its top-k right eigenvectors are compared with the reference (same metric as the fits).
At short lags the binned chain is a random walk on the free space; at long lags the higher modes' eigenvalues
sink towards the count noise and their eigenvectors with them. This bounds what any estimator can get from this
data at a given time scale, and it is how the fits' operator (``successor:0.9``, a ~10-step horizon) was chosen.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from rlspectral import report
from rlspectral.envs.pointmaze import maze_map, maze_reference, random_policy_positions
from rlspectral.envs.problems import REFERENCE_EXTRA
from rlspectral.metrics import cosine_similarity


def binned_eigenvectors(cells: list[np.ndarray], n: int, lag: int, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Top-k eigenpairs of the reversible chain estimated from lag-``lag`` pair counts between ``n`` bins."""
    C = np.zeros((n, n))
    for c in cells:
        a, b = c[:-lag], c[lag:]
        ok = (a >= 0) & (b >= 0)
        np.add.at(C, (a[ok], b[ok]), 1.0)
    C = C + C.T
    d = C.sum(1) + 1e-12
    vals, vecs = np.linalg.eigh(C / np.sqrt(np.outer(d, d)))
    order = np.argsort(-vals)[:k]
    return vals[order], vecs[:, order] / np.sqrt(d)[:, None]


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--out", default="results/pointmaze/binned.json")
    p.add_argument("--mazes", nargs="*", default=["PointMaze_UMaze-v3", "PointMaze_Medium-v3"])
    p.add_argument("--episodes", type=int, default=200)
    p.add_argument("--resolution", type=int, default=4)
    p.add_argument("--lags", type=int, nargs="*", default=[1, 10, 30, 100])
    p.add_argument("--k", type=int, default=8)
    args = p.parse_args(argv)
    out: dict[str, dict] = {}
    for maze in args.mazes:
        walls, scaling = maze_map(maze)
        ref = maze_reference(walls, scaling, args.resolution, args.k + REFERENCE_EXTRA)  # ties at the cut-off
        h, w = walls.shape
        cells = []
        for ep in random_policy_positions(maze, args.episodes, seed=0):
            col = np.floor((ep[:, 0] + w * scaling / 2) / scaling * args.resolution).astype(int)
            row = np.floor((h * scaling / 2 - ep[:, 1]) / scaling * args.resolution).astype(int)
            row = np.clip(row, 0, ref.grid.height - 1)
            col = np.clip(col, 0, ref.grid.width - 1)
            cells.append(ref.grid.index[row, col])
        occupancy = np.bincount(np.concatenate(cells).clip(0), minlength=ref.grid.n)
        out[maze] = {"bins": ref.grid.n, "occupancy_min": int(occupancy.min()), "occupancy_max": int(occupancy.max())}
        for lag in args.lags:
            vals, vecs = binned_eigenvectors(cells, ref.grid.n, lag, args.k)
            cos, mean = cosine_similarity(vecs, ref.vectors, ref.values)
            out[maze][f"lag_{lag}"] = {"mean_cosine_similarity": mean, "cosine_similarity": cos.tolist(),
                                       "eigenvalues": vals.tolist()}  # fmt: skip
            print(f"{maze} lag {lag:4d}: mean cos {mean:.3f}  per mode {np.round(cos, 2).tolist()}", flush=True)
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    report.write_json(args.out, out)


if __name__ == "__main__":
    main()
