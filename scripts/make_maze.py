"""Write a perfect maze (one path between any two cells) as a text layout, from a seeded depth-first search.

    python -m scripts.make_maze --out envs/layouts/FreshMaze-15.txt --cells 7 7 --seed 1
    python -m scripts.make_maze --out envs/layouts/FreshMaze-31.txt --cells 15 10 --seed 2

``--cells W H`` maze cells become a (2W+1) x (2H+1) grid (``X`` = wall). The layouts made this way for the
fresh-layout benchmark were never used to choose a default.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np


def maze(width: int, height: int, seed: int) -> list[str]:
    """The layout rows of a depth-first-search maze of ``width`` x ``height`` cells."""
    rng = np.random.default_rng(seed)
    grid = np.full((2 * height + 1, 2 * width + 1), "X")
    seen = np.zeros((height, width), dtype=bool)
    stack = [(0, 0)]
    seen[0, 0] = True
    grid[1, 1] = " "
    while stack:
        r, c = stack[-1]
        nxt = [(r + dr, c + dc) for dr, dc in ((0, 1), (1, 0), (0, -1), (-1, 0))
               if 0 <= r + dr < height and 0 <= c + dc < width and not seen[r + dr, c + dc]]  # fmt: skip
        if not nxt:
            stack.pop()
            continue
        nr, nc = nxt[rng.integers(len(nxt))]
        seen[nr, nc] = True
        grid[2 * nr + 1, 2 * nc + 1] = " "
        grid[r + nr + 1, c + nc + 1] = " "  # the wall between the two cells
        stack.append((nr, nc))
    return ["".join(row) for row in grid]


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--out", required=True, help="layout file to write")
    p.add_argument("--cells", nargs=2, type=int, default=(7, 7), metavar=("W", "H"))
    p.add_argument("--seed", type=int, default=0)
    args = p.parse_args(argv)
    Path(args.out).write_text("\n".join(maze(*args.cells, args.seed)) + "\n")


if __name__ == "__main__":
    main()
