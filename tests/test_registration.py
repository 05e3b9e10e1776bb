"""``import rlspectral`` registers every ``rlspectral/*`` gym id and stays light (fresh interpreter)."""

import json
import subprocess
import sys
import textwrap

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
