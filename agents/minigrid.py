"""MiniGrid for the recipes: one observation rule, a fixed-layout adapter, and the exact position-graph spectrum.

**Observation rule** (every ``MiniGrid-*`` / ``BabyAI-*`` id made by :func:`~agents.environments.make_env` with
``view="full"``, and always the fixed-layout ``rlspectral/MiniGrid-*`` ids, registered by ``import rlspectral``:
:mod:`rlspectral.registration`; the MiniGrid recipe's default is ``view="egocentric"``, MiniGrid's own 7x7 view
in front of the agent, flattened the same way, see :func:`wrap_minigrid`): MiniGrid's
``FullyObsWrapper`` + ``ImgObsWrapper`` give the whole grid as a ``(width, height, 3)`` array of (object, colour,
state) indices per cell, the agent's cell holding (agent, red, direction); :class:`FlatGridObs` flattens it to a
float32 vector of length ``3 * width * height`` with each channel divided by its largest index (object / 10, colour
/ 5, state / 3), so it lies in [0, 1]. The MLP policy and the spectral MLP learner both read this vector
(standardized by VecNormalize in the ``("ppo", "minigrid")`` recipe: see :mod:`rlspectral.agents.recipes`). Full
rather than egocentric: the 7x7 partial view aliases states (two corners of an empty room look alike), which breaks
both a Markov policy and eigenfunctions of the state graph. Scaled indices rather than one-hot: 3 instead of 21
numbers per cell (FourRooms: 1083 inputs instead of 7581), and the agent's position is still one cell whose object
channel reads 1.0, so an MLP separates positions as easily as a one-hot. What the agent carries is not encoded, but
a carried key has left the grid, so the state stays identifiable in DoorKey. :class:`SuccessInfo` sets
``info["is_success"]`` at every episode end (terminated with a positive reward), which
:class:`rlspectral.agents.evaluation.PeriodicEvaluation` reads.

**Fixed layout** (:class:`FixedLayout`, id ``rlspectral/MiniGrid-FourRooms-Fixed-v0``): every reset calls the
MiniGrid env's ``reset(seed=layout_seed)``, so walls, doors, goal and the agent's start cell and direction are
those of that one seed, whatever seed the caller passes (``random_start=True`` instead moves the agent to a
uniformly random empty cell and direction drawn from the wrapper's own generator, seeded by the caller's reset
seed; layout and goal stay fixed). FourRooms re-draws its doors every reset (docs/design.md, SB3 traps), so a spectral
study needs this. DoorKey and MultiRoom keep their standard re-randomizing ids. The MiniGrid RNG is re-seeded at
every reset, so in-episode randomness (none in FourRooms, DoorKey or MultiRoom) would repeat too.

**Exact spectrum** (:func:`layout_grid`, :func:`exact_eigenpairs`): the fixed layout as an
:class:`envs.gridworld.Grid` (cells holding an object the agent cannot enter -- walls, closed doors, keys, balls,
boxes -- are walls), and the eigenpairs of its uniform 4-neighbour random walk
(:func:`rlspectral.envs.spectra.transition_eigenpairs`, the gridworld convention of docs/design.md).
:func:`eigenfunctions_by_position` evaluates learned eigenfunctions at the observation of the agent standing on each
free cell, averaged over its 4 directions, for :func:`rlspectral.metrics.cosine_similarity`. The agent's own MDP has
turn-and-forward actions, a direction in the state and a learned policy, so this measures how well the position
geometry is recovered, not an exact target.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import gymnasium as gym
import minigrid  # noqa: F401 - registers the MiniGrid-* ids
import numpy as np
from minigrid.core.constants import COLOR_TO_IDX, OBJECT_TO_IDX
from minigrid.minigrid_env import MiniGridEnv
from minigrid.wrappers import FullyObsWrapper, ImgObsWrapper

from rlspectral.agents.embeddings import CellTableEmbedding
from rlspectral.envs.gridworld import Grid
from rlspectral.envs.spectra import transition_eigenpairs
from rlspectral.errors import SpectralError
from rlspectral.registration import FOURROOMS_LAYOUT_SEED, MINIGRID_IDS  # noqa: F401 - re-exported

# Channel scales of the full grid encoding: object index, colour index, state (door state 0-2, agent direction 0-3).
CHANNEL_MAX = np.array([max(OBJECT_TO_IDX.values()), max(COLOR_TO_IDX.values()), 3], dtype=np.float32)


def _minigrid_base(env: gym.Env, what: str) -> MiniGridEnv:
    base = env.unwrapped
    if not isinstance(base, MiniGridEnv):
        raise SpectralError(f"{what} needs a MiniGrid env, got {type(base).__name__}")
    return base


class FlatGridObs(gym.ObservationWrapper):
    """``(width, height, 3)`` grid encoding -> float32 vector in [0, 1], each channel divided by its max index."""

    def __init__(self, env: gym.Env):
        super().__init__(env)
        w, h, c = env.observation_space.shape
        if c != 3:
            raise SpectralError(f"FlatGridObs needs a (width, height, 3) MiniGrid encoding, got {(w, h, c)}")
        self.observation_space = gym.spaces.Box(0.0, 1.0, (w * h * c,), np.float32)

    def observation(self, observation: np.ndarray) -> np.ndarray:
        return (np.asarray(observation, dtype=np.float32) / CHANNEL_MAX).reshape(-1)


class SuccessInfo(gym.Wrapper):
    """``info["is_success"]`` at each episode end: terminated with a positive reward (MiniGrid's goal reward)."""

    def step(self, action: Any) -> tuple[Any, float, bool, bool, dict[str, Any]]:
        obs, reward, terminated, truncated, info = self.env.step(action)
        if terminated or truncated:
            info = {**info, "is_success": bool(terminated and reward > 0)}
        return obs, reward, terminated, truncated, info


class VisitedCells(gym.Wrapper):
    """``info["visited_cells"]`` at each episode end: how many distinct cells the agent stood on during the episode
    (its start included), the exploration the episode achieved; observations and rewards are untouched."""

    def reset(self, **kwargs: Any) -> tuple[Any, dict[str, Any]]:
        obs, info = self.env.reset(**kwargs)
        self._cells = {tuple(self.env.unwrapped.agent_pos)}
        return obs, info

    def step(self, action: Any) -> tuple[Any, float, bool, bool, dict[str, Any]]:
        obs, reward, terminated, truncated, info = self.env.step(action)
        self._cells.add(tuple(self.env.unwrapped.agent_pos))
        if terminated or truncated:
            info = {**info, "visited_cells": len(self._cells)}
        return obs, reward, terminated, truncated, info


class FixedLayout(gym.Wrapper):
    """Reset a MiniGrid env with ``layout_seed`` every time: one layout, goal and (unless ``random_start``) start."""

    def __init__(self, env: gym.Env, layout_seed: int = 0, random_start: bool = False):
        _minigrid_base(env, "FixedLayout")
        super().__init__(env)
        self.layout_seed, self.random_start = int(layout_seed), bool(random_start)
        self._rng = np.random.default_rng()

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None) -> tuple[Any, dict[str, Any]]:
        if seed is not None:
            self._rng = np.random.default_rng(seed)
        obs, info = self.env.reset(seed=self.layout_seed, options=options)
        if not self.random_start:
            return obs, info
        base = self.env.unwrapped
        empty = [(x, y) for x in range(base.width) for y in range(base.height) if base.grid.get(x, y) is None]
        x, y = empty[int(self._rng.integers(len(empty)))]
        base.agent_pos, base.agent_dir = (x, y), int(self._rng.integers(4))
        return base.gen_obs(), info


VIEWS = ("full", "egocentric")


def wrap_minigrid(env: gym.Env, view: str = "full") -> gym.Env:
    """The observation rule of this module: the grid, flattened and scaled to [0, 1], plus ``is_success``.
    ``view="full"``: the whole grid; ``"egocentric"``: MiniGrid's own 7x7 view in front of the agent (what the
    MiniGrid exploration papers give their agents; the agent's cell shows what it carries), which aliases states.
    Episode ends report ``is_success`` and ``visited_cells`` (distinct cells the agent stood on) in ``info``."""
    _minigrid_base(env, "wrap_minigrid")
    if view not in VIEWS:
        raise SpectralError(f"unknown MiniGrid view {view!r}; choose {', '.join(VIEWS)}")
    grid = ImgObsWrapper(FullyObsWrapper(env) if view == "full" else env)
    return VisitedCells(SuccessInfo(FlatGridObs(grid)))


def make_minigrid(env_id: str, layout_seed: int | None = None, random_start: bool = False, **kwargs: Any) -> gym.Env:
    """``gym.make(env_id, **kwargs)`` wrapped by :func:`wrap_minigrid`, with :class:`FixedLayout` when
    ``layout_seed`` is given (the entry point of the ``rlspectral/MiniGrid-*`` ids)."""
    try:
        env = gym.make(env_id, **kwargs)
    except gym.error.Error as e:
        raise SpectralError(f"{env_id}: {str(e).strip().splitlines()[0]}") from None
    _minigrid_base(env, f"make_minigrid({env_id!r})")
    if layout_seed is not None:
        env = FixedLayout(env, layout_seed, random_start)
    elif random_start:
        raise SpectralError("random_start needs a fixed layout: pass layout_seed too")
    return wrap_minigrid(env)


# --------------------------------------------------------------------------- exact spectrum of a fixed layout
def layout_grid(env: gym.Env) -> Grid:
    """The current layout of a (reset) MiniGrid env as a :class:`Grid`: row = y, column = x; a cell is a wall
    unless empty or holding an object the agent can enter (goal, floor, open door, lava)."""
    base = _minigrid_base(env, "layout_grid")
    if base.grid is None:
        raise SpectralError("layout_grid needs a reset env (the MiniGrid grid is built at reset)")
    rows = []
    for y in range(base.height):
        cells = (base.grid.get(x, y) for x in range(base.width))
        rows.append("".join("." if c is None or c.can_overlap() else "X" for c in cells))
    return Grid("\n".join(rows), source=getattr(env.spec, "id", None) or type(base).__name__)


def exact_eigenpairs(env: gym.Env, k: int | None = None) -> tuple[np.ndarray, np.ndarray, Grid]:
    """``(values, vectors [n_cells, k], grid)``: top-k eigenpairs (descending; 1 for the constant) of the
    uniform 4-neighbour random walk on the free cells of the env's current layout."""
    grid = layout_grid(env)
    values, vectors = transition_eigenpairs(grid, k)
    return values, vectors, grid


def _observation_wrappers(env: gym.Env) -> list[gym.ObservationWrapper]:
    chain = []
    while isinstance(env, gym.Wrapper):
        if isinstance(env, gym.ObservationWrapper):
            chain.append(env)
        env = env.env
    return chain[::-1]  # innermost first


def position_observations(env: gym.Env, grid: Grid | None = None) -> np.ndarray:
    """``[n_cells, 4, *obs_shape]``: what ``env`` would emit with the agent on each free cell of ``grid`` (default:
    :func:`layout_grid`) facing each direction; the env's own agent position and direction are left unchanged."""
    base = _minigrid_base(env, "position_observations")
    grid = grid if grid is not None else layout_grid(env)
    wrappers = _observation_wrappers(env)
    saved = base.agent_pos, base.agent_dir
    out = []
    try:
        for r, c in grid.cells:
            for d in range(4):
                base.agent_pos, base.agent_dir = (int(c), int(r)), d
                obs = base.gen_obs()
                for w in wrappers:
                    obs = w.observation(obs)
                out.append(np.asarray(obs))
    finally:
        base.agent_pos, base.agent_dir = saved
    return np.stack(out).reshape(grid.n, 4, *out[0].shape)


def eigenfunctions_by_position(
    phi: Callable[[np.ndarray], np.ndarray], env: gym.Env, grid: Grid | None = None
) -> np.ndarray:
    """``[n_cells, k]``: ``phi`` (observations ``[n, *obs_shape]`` -> ``[n, k]``) at each free cell, averaged over
    the agent's 4 directions."""
    obs = position_observations(env, grid)
    n = obs.shape[0]
    values = np.asarray(phi(obs.reshape(n * 4, *obs.shape[2:])), dtype=np.float64)
    return values.reshape(n, 4, -1).mean(1)


def position_cosine_similarity(
    phi: Callable[[np.ndarray], np.ndarray], env: gym.Env, k: int
) -> tuple[np.ndarray, float]:
    """Per-mode |cos| (and the mean) between ``phi`` by position and the top-``k`` exact eigenvectors of the
    layout's position graph (:func:`rlspectral.metrics.cosine_similarity`, degenerate blocks rotated)."""
    from rlspectral.metrics import cosine_similarity

    values, vectors, grid = exact_eigenpairs(env, k)
    learned = eigenfunctions_by_position(phi, env, grid)
    if learned.shape[1] != k:
        raise SpectralError(f"phi gives {learned.shape[1]} functions, the comparison asks for k = {k}")
    return cosine_similarity(learned, vectors, values, tol=1e-6)


def exact_position_embedding(env_id: str, k: int) -> CellTableEmbedding:
    """The top-``k`` exact eigenvectors of a fixed MiniGrid layout's position graph (:func:`exact_eigenpairs`),
    scaled to unit mean square over cells like the learned eigenfunctions, as a function of the raw flat
    observation: an observation is matched to the nearest of the agent-on-a-cell observations of every free cell
    and direction (:func:`position_observations`; exact for the env's own states), and gets its cell's row. The
    bonus space of the ``elliptical-exact`` ablation (``rlspectral train --bonus elliptical-exact``)."""
    if env_id not in MINIGRID_IDS:
        raise SpectralError(
            f"exact position eigenvectors need a fixed layout: {env_id} re-draws its layout every episode; use one "
            f"of {', '.join(MINIGRID_IDS)}"
        )
    env = gym.make(env_id)
    env.reset(seed=0)
    try:
        _, vectors, grid = exact_eigenpairs(env, k)
        obs = position_observations(env, grid)
    finally:
        env.close()
    return CellTableEmbedding(obs.reshape(grid.n * 4, -1), np.repeat(vectors * np.sqrt(grid.n), 4, axis=0))
