"""``import rlspectral`` registers every ``rlspectral/*`` gym id and stays light (fresh interpreter)."""

import json
import subprocess
import sys
import textwrap

import pytest

from rlspectral.envs import builtin_layouts
from rlspectral.registration import MINIGRID_IDS, env_ids, layout_names

HEAVY = ("stable_baselines3", "minigrid", "pygame", "rlspectral.envs", "rlspectral.agents", "rlspectral.sb3")


def test_import_rlspectral_registers_all_ids_and_imports_nothing_heavy():
    code = textwrap.dedent(f"""
        import json, sys
        import rlspectral
        import gymnasium as gym
        loaded = [m for m in {HEAVY!r} if m in sys.modules]
        ids = sorted(i for i in gym.registry if i.startswith("rlspectral/"))
        goal = gym.make("rlspectral/GridRoom-4-Goal-v0")
        obs, _ = goal.reset(seed=0)
        plain = gym.make("rlspectral/GridRoom-4-v0", obs="onehot")
        plain_obs, _ = plain.reset(seed=0)
        print(json.dumps({{"loaded": loaded, "ids": ids, "goal": goal.unwrapped.goal_state,
                          "obs": list(obs.shape), "onehot": list(plain_obs.shape)}}))
    """)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120)
    res = json.loads(out.stdout.strip().splitlines()[-1])
    assert res["loaded"] == []
    assert "rlspectral/GridRoom-4-v0" in res["ids"] and "rlspectral/GridRoom-4-Goal-v0" in res["ids"]
    assert "rlspectral/MiniGrid-FourRooms-Fixed-v0" in res["ids"]
    assert res["goal"] is not None and res["obs"] == [2] and res["onehot"][0] > 2
    assert set(res["ids"]) == set(env_ids())


def test_layout_names_match_the_package_data_and_every_kind_is_listed():
    assert layout_names() == builtin_layouts()
    ids = env_ids()
    for name in layout_names():
        assert ids[f"rlspectral/{name}-v0"][1] == {"layout": name}
        assert ids[f"rlspectral/{name}-Goal-v0"][1] == {"layout": name}
    assert set(MINIGRID_IDS) <= set(ids)


def test_installed_names_cannot_collide(tmp_path):
    """envs/ and agents/ install under the package: outside the repository ``import envs`` fails, ours works."""
    code = textwrap.dedent("""
        import importlib.util, json
        print(json.dumps({name: importlib.util.find_spec(name) is not None
                          for name in ("envs", "agents", "rlspectral.envs", "rlspectral.agents")}))
    """)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=tmp_path)
    found = json.loads(out.stdout.strip().splitlines()[-1])
    assert found == {"envs": False, "agents": False, "rlspectral.envs": True, "rlspectral.agents": True}


# tqdm / matplotlib: progress bars and plots; ray: the optional sweep engine (imported inside run_sweep)
CORE_THIRD_PARTY = {"torch", "numpy", "scipy", "tqdm", "matplotlib", "ray"}
ABOVE_CORE = ("rlspectral.sb3", "rlspectral.cli", "rlspectral.experiments", "rlspectral.envs", "rlspectral.agents")


def test_core_modules_import_nothing_above_the_core():
    """The layering rule, read off the source: core modules import torch / numpy / scipy (and tqdm, matplotlib for
    progress and plots), the standard library and other core modules; never SB3, gymnasium, envs, agents or the CLI.
    ``registration.py`` is the one exception: it registers gym ids with string entry points."""
    import ast
    from pathlib import Path

    import rlspectral

    root = Path(rlspectral.__file__).parent
    stdlib = set(sys.stdlib_module_names)
    bad = []
    for path in root.rglob("*.py"):
        rel = path.relative_to(root.parent).with_suffix("").as_posix().replace("/", ".")
        if rel.startswith(ABOVE_CORE) or rel == "rlspectral.registration":
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else []
            if isinstance(node, ast.ImportFrom) and node.level == 0:
                names = [node.module]
            for name in names:
                top = name.split(".")[0]
                core = top == "rlspectral" and not name.startswith(ABOVE_CORE)
                ok = top in stdlib or top in CORE_THIRD_PARTY or core
                if not ok:
                    bad.append(f"{rel}: {name}")
    assert bad == []


def test_every_subpackage_is_in_the_wheel():
    """pyproject lists the packages explicitly (``package-dir`` maps envs/ and agents/): a new subpackage that is
    not listed would work in an editable install and be missing from the wheel."""
    from pathlib import Path

    tomllib = pytest.importorskip("tomllib")  # Python >= 3.11
    root = Path(__file__).resolve().parents[1]
    listed = set(tomllib.loads((root / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"])
    found = {".".join(p.parent.relative_to(root).parts) for p in (root / "rlspectral").rglob("__init__.py")} | {
        "rlspectral.envs",
        "rlspectral.agents",
    }
    assert found <= listed, f"add {sorted(found - listed)} to [tool.setuptools] packages in pyproject.toml"
