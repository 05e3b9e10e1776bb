"""The ``rlspectral/*`` gym ids, registered by ``import rlspectral`` (the one place they are registered).

* ``rlspectral/<Layout>-v0``: a built-in text-layout gridworld (:class:`rlspectral.envs.gridworld.GridWorldEnv`);
* ``rlspectral/<Layout>-Goal-v0``: its goal-reaching variant (:func:`rlspectral.envs.gridworld.goal_gridworld`);
* ``rlspectral/MiniGrid-*``: fixed-layout MiniGrid tasks (:func:`rlspectral.agents.minigrid.make_minigrid`).

Entry points are strings, so registering imports none of the env modules (nor MiniGrid, pygame or SB3): only
gymnasium's registry. The layout names are the ``*.txt`` files of the ``rlspectral.envs`` package data, found
without executing that package.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Any

GRID_ENTRY_POINT = "rlspectral.envs.gridworld:GridWorldEnv"
GOAL_ENTRY_POINT = "rlspectral.envs.gridworld:goal_gridworld"
MINIGRID_ENTRY_POINT = "rlspectral.agents.minigrid:make_minigrid"

# Layout seed of rlspectral/MiniGrid-FourRooms-Fixed-v0: agent in the bottom-right room, goal in the top-left one,
# 27 cells apart (about 31 actions of the 100 allowed, so an optimal run earns 0.72).
FOURROOMS_LAYOUT_SEED = 206
MINIGRID_IDS: dict[str, dict[str, Any]] = {
    "rlspectral/MiniGrid-FourRooms-Fixed-v0": {"env_id": "MiniGrid-FourRooms-v0", "layout_seed": FOURROOMS_LAYOUT_SEED},
}


def layout_names() -> list[str]:
    """Names of the built-in layouts (``GridRoom-4``, ...): the ``layouts/*.txt`` files of ``rlspectral.envs``,
    located with ``find_spec`` so the package itself is not imported."""
    try:
        spec = importlib.util.find_spec("rlspectral.envs")
    except ImportError:  # pragma: no cover - a partial install
        return []
    if spec is None or not spec.submodule_search_locations:
        return []
    return sorted({p.stem for d in spec.submodule_search_locations for p in Path(d).joinpath("layouts").glob("*.txt")})


def env_ids() -> dict[str, tuple[str, dict[str, Any]]]:
    """Every ``rlspectral/*`` id with its ``(entry_point, kwargs)``."""
    ids: dict[str, tuple[str, dict[str, Any]]] = {}
    for name in layout_names():
        ids[f"rlspectral/{name}-v0"] = (GRID_ENTRY_POINT, {"layout": name})
        ids[f"rlspectral/{name}-Goal-v0"] = (GOAL_ENTRY_POINT, {"layout": name})
    for env_id, kwargs in MINIGRID_IDS.items():
        ids[env_id] = (MINIGRID_ENTRY_POINT, dict(kwargs))
    return ids


def register_envs() -> None:
    """Register the ``rlspectral/*`` ids with gymnasium (ids already registered are left as they are)."""
    import gymnasium as gym

    for env_id, (entry_point, kwargs) in env_ids().items():
        if env_id not in gym.registry:
            gym.register(env_id, entry_point=entry_point, kwargs=kwargs)
