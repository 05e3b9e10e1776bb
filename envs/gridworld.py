"""Gridworlds from text layouts (``X`` or ``#`` = wall, anything else free).

4 actions (up, right, down, left); a blocked move stays in place; uniform random start over free cells;
episodes truncated after ``episode_length`` steps. Observations:

* ``xy``: the cell centre scaled to [-1, 1]^2 as (x = column, y = row), float32, shape (2,);
* ``onehot``: the free-cell index one-hot, shape (n_free,);
* ``pixels``: one pixel per cell, channels first, uint8 (walls 128, agent 255, goal 64, free 0),
  shape (1, H, W) grayscale or (3, H, W) RGB.

An optional ``goal`` cell makes it a goal-reaching task (reward 1 and termination on arrival).
Free cells that are not 4-connected to the largest component (GridMaze-32 has a sealed pocket) are
turned into walls with a one-line warning naming their row; ``disconnected="error"`` rejects them instead.
"""

from __future__ import annotations

import warnings
from collections import deque
from functools import cached_property
from importlib import resources
from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np

from rlspectral.errors import ConfigError, LayoutError

ACTIONS = np.array([(-1, 0), (0, 1), (1, 0), (0, -1)])  # (drow, dcol): up, right, down, left
WALLS = ("X", "#")
OBS_TYPES = ("xy", "onehot", "pixels")


def builtin_layouts() -> list[str]:
    """Names of the layouts that ship with the package (e.g. ``GridRoom-4``)."""
    files = resources.files("rlspectral.envs").joinpath("layouts").iterdir()
    return sorted(Path(str(f)).stem for f in files if str(f).endswith(".txt"))


def read_layout(name_or_path: str | Path) -> tuple[str, str]:
    """``(name, text)`` of a built-in layout name or a layout file path."""
    p = Path(name_or_path)
    if p.suffix == ".txt" or p.exists():
        if not p.is_file():
            raise LayoutError(f"{p}: layout file not found")
        return p.stem, p.read_text()
    f = resources.files("rlspectral.envs").joinpath("layouts", f"{name_or_path}.txt")
    if not f.is_file():
        if any(sep in str(name_or_path) for sep in "/\\") or str(name_or_path).endswith(".txt"):
            raise LayoutError(f"{name_or_path}: layout file not found (a text file, X or # = wall)")
        raise LayoutError(f"unknown layout {name_or_path!r}; built-in layouts: {', '.join(builtin_layouts())}")
    return str(name_or_path), f.read_text()


class Grid:
    """The layout's geometry: free cells, the uniform-policy transition matrix, observation tables."""

    def __init__(self, text: str, source: str = "<layout>", disconnected: str = "largest"):
        lines = [ln.rstrip("\r\n") for ln in text.splitlines()]
        while lines and not lines[-1].strip():
            lines.pop()
        if not lines:
            raise LayoutError(f"{source}: layout is empty")
        width = len(lines[0])
        for r, ln in enumerate(lines):
            if len(ln) != width:
                raise LayoutError(f"{source}: row {r + 1} has {len(ln)} cells, row 1 has {width} (rows must be equal)")
        self.source = source
        self.walls = np.array([[c in WALLS for c in ln] for ln in lines], dtype=bool)
        self.height, self.width = self.walls.shape
        cells = np.argwhere(~self.walls)
        if len(cells) == 0:
            raise LayoutError(f"{source}: layout has no free cell")
        self._set_cells(cells)
        keep = self._largest_component()
        if not keep.all():
            r, c = self.cells[np.argmin(keep)]
            msg = (
                f"{source}: {int((~keep).sum())} free cell(s) unreachable from the largest connected region "
                f"(first at row {r + 1}, column {c + 1})"
            )
            if disconnected == "error":
                raise LayoutError(msg + "; wall them off or connect them")
            warnings.warn(msg + "; treating them as walls", stacklevel=2)
            self.walls[tuple(self.cells[~keep].T)] = True
            self._set_cells(self.cells[keep])

    def _set_cells(self, cells: np.ndarray) -> None:
        self.cells = cells  # [n, 2] (row, col), row-major order
        self.index = -np.ones(self.walls.shape, dtype=np.int64)
        self.index[cells[:, 0], cells[:, 1]] = np.arange(len(cells))
        self.next_state = self._successors()  # [n, 4]

    @property
    def n(self) -> int:
        return len(self.cells)

    def _successors(self) -> np.ndarray:
        nxt = np.zeros((self.n, 4), dtype=np.int64)
        for a, (dr, dc) in enumerate(ACTIONS):
            r, c = self.cells[:, 0] + dr, self.cells[:, 1] + dc
            inside = (r >= 0) & (r < self.height) & (c >= 0) & (c < self.width)
            rr, cc = np.where(inside, r, 0), np.where(inside, c, 0)
            ok = inside & ~self.walls[rr, cc]
            nxt[:, a] = np.where(ok, self.index[rr, cc], np.arange(self.n))
        return nxt

    def _largest_component(self) -> np.ndarray:
        label = -np.ones(self.n, dtype=np.int64)
        for start in range(self.n):
            if label[start] >= 0:
                continue
            label[start] = start
            queue = deque([start])
            while queue:
                s = queue.popleft()
                for t in self.next_state[s]:
                    if label[t] < 0:
                        label[t] = start
                        queue.append(t)
        sizes = np.bincount(label, minlength=self.n)
        return label == np.argmax(sizes)

    @cached_property
    def transition_matrix(self) -> np.ndarray:
        """Uniform-policy transition matrix P (float64, symmetric: blocked moves stay in place)."""
        P = np.zeros((self.n, self.n))
        for a in range(4):
            np.add.at(P, (np.arange(self.n), self.next_state[:, a]), 0.25)
        return P

    def observations(self, obs: str, rgb: bool = False) -> np.ndarray:
        """The observation of every free cell, ``[n, *obs_shape]``."""
        if obs == "xy":
            xy = np.stack(
                [(self.cells[:, 1] + 0.5) / self.width * 2 - 1, (self.cells[:, 0] + 0.5) / self.height * 2 - 1], 1
            )
            return xy.astype(np.float32)
        if obs == "onehot":
            return np.eye(self.n, dtype=np.float32)
        if obs == "pixels":
            base = np.where(self.walls, 128, 0).astype(np.uint8)
            imgs = np.repeat(base[None], self.n, axis=0)
            imgs[np.arange(self.n), self.cells[:, 0], self.cells[:, 1]] = 255
            imgs = imgs[:, None]
            return np.repeat(imgs, 3, axis=1) if rgb else imgs
        raise ConfigError(f"unknown observation type {obs!r}; choose one of {', '.join(OBS_TYPES)}")

    def random_walks(self, n_episodes: int, length: int, rng: np.random.Generator) -> np.ndarray:
        """State indices of uniform-policy episodes with uniform starts, ``[n_episodes, length + 1]``."""
        s = np.empty((n_episodes, length + 1), dtype=np.int64)
        s[:, 0] = rng.integers(0, self.n, n_episodes)
        actions = rng.integers(0, 4, (n_episodes, length))
        for t in range(length):
            s[:, t + 1] = self.next_state[s[:, t], actions[:, t]]
        return s

    def to_image(self, values: np.ndarray) -> np.ndarray:
        """Values on free cells -> an [H, W] float image with NaN on walls (for plotting)."""
        img = np.full(self.walls.shape, np.nan)
        img[self.cells[:, 0], self.cells[:, 1]] = values
        return img


def load_grid(name_or_path: str | Path, disconnected: str = "largest") -> Grid:
    _, text = read_layout(name_or_path)
    with warnings.catch_warnings():
        if Path(str(name_or_path)).stem in builtin_layouts():
            warnings.simplefilter("ignore")  # the known pocket of a shipped layout is not news
        return Grid(text, source=str(name_or_path), disconnected=disconnected)


class GridWorldEnv(gym.Env):
    """Gymnasium gridworld over a :class:`Grid`; see the module docstring for observations and rules."""

    metadata = {"render_modes": ["rgb_array"]}

    def __init__(
        self,
        layout: str | Path = "GridRoom-4",
        obs: str = "xy",
        episode_length: int = 50,
        goal: tuple[int, int] | None = None,
        rgb: bool = False,
        render_mode: str | None = None,
    ):
        if obs not in OBS_TYPES:
            raise ConfigError(f"unknown observation type {obs!r}; choose one of {', '.join(OBS_TYPES)}")
        self.layout_name = str(layout)
        self.grid = load_grid(layout)
        self.obs_type, self.episode_length, self.render_mode = obs, int(episode_length), render_mode
        self.goal_state: int | None = None
        if goal is not None:
            r, c = goal
            if not (0 <= r < self.grid.height and 0 <= c < self.grid.width) or self.grid.walls[r, c]:
                raise LayoutError(f"{layout}: goal (row {r}, col {c}) is not a free cell")
            self.goal_state = int(self.grid.index[r, c])
        self._table = self.grid.observations(obs, rgb)
        if obs == "pixels" and self.goal_state is not None:
            r, c = self.grid.cells[self.goal_state]
            mask = self._table[:, :, r, c] == 0
            self._table[:, :, r, c][mask] = 64
        self.action_space = gym.spaces.Discrete(4)
        if obs == "pixels":
            self.observation_space = gym.spaces.Box(0, 255, self._table.shape[1:], dtype=np.uint8)
        else:
            lo = -1.0 if obs == "xy" else 0.0
            self.observation_space = gym.spaces.Box(lo, 1.0, self._table.shape[1:], dtype=np.float32)
        self.state = 0
        self.t = 0

    def observe(self, state: int | np.ndarray) -> np.ndarray:
        return self._table[state]

    def reset(self, *, seed: int | None = None, options: dict | None = None):
        super().reset(seed=seed)
        starts = np.arange(self.grid.n)
        if self.goal_state is not None:
            starts = starts[starts != self.goal_state]
        self.state = int(self.np_random.choice(starts))
        self.t = 0
        return self.observe(self.state).copy(), {"state": self.state}

    def step(self, action: int):
        self.state = int(self.grid.next_state[self.state, int(action)])
        self.t += 1
        reached = self.goal_state is not None and self.state == self.goal_state
        truncated = self.t >= self.episode_length and not reached
        info = {"state": self.state, "is_success": bool(reached)}
        return self.observe(self.state).copy(), float(reached), bool(reached), bool(truncated), info

    def render(self) -> np.ndarray:
        img = np.where(self.grid.walls, 80, 255).astype(np.uint8)
        img = np.repeat(img[..., None], 3, axis=2)
        if self.goal_state is not None:
            img[tuple(self.grid.cells[self.goal_state])] = (0, 200, 0)
        img[tuple(self.grid.cells[self.state])] = (200, 0, 0)
        return img


def goal_gridworld(
    layout: str | Path, goal: tuple[int, int] | None = None, episode_length: int = 100, **kwargs: Any
) -> GridWorldEnv:
    """A :class:`GridWorldEnv` with a goal, by default the last free cell in row-major order (bottom-right), and
    100 steps per episode: the entry point of the ``rlspectral/<Layout>-Goal-v0`` ids (see rlspectral.registration)."""
    if goal is None:
        r, c = load_grid(layout).cells[-1]
        goal = (int(r), int(c))
    return GridWorldEnv(layout, goal=goal, episode_length=episode_length, **kwargs)
