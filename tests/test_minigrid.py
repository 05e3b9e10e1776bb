"""MiniGrid for the recipes: flat full-grid observations, is_success, the fixed FourRooms layout, its exact
position-graph spectrum, learned functions by position, and ``train`` smoke runs with the RND and novelty bonuses."""

import json

import gymnasium as gym
import numpy as np
import pytest
import torch

from rlspectral.agents import recipe, train
from rlspectral.agents.environments import make_env
from rlspectral.agents.minigrid import (
    CHANNEL_MAX,
    FixedLayout,
    exact_eigenpairs,
    exact_position_embedding,
    layout_grid,
    make_minigrid,
    position_cosine_similarity,
    position_observations,
)
from rlspectral.agents.recipes import MINIGRID_BONUS_COEF, family
from rlspectral.errors import SpectralError
from rlspectral.registration import MINIGRID_IDS
from rlspectral.sb3 import make_bonus, spectral_obs_shape

FIXED = "rlspectral/MiniGrid-FourRooms-Fixed-v0"
LEFT, RIGHT, FORWARD = 0, 1, 2


def test_fixed_fourrooms_keeps_its_layout_across_resets_and_seeds():
    env = gym.make(FIXED)
    first, _ = env.reset(seed=0)
    walls = layout_grid(env).walls
    for seed in (1, 2, None, 123):
        for _ in range(5):
            env.step(env.action_space.sample())
        obs, _ = env.reset(seed=seed)
        np.testing.assert_array_equal(obs, first)  # walls, doors, goal, agent start and direction
        np.testing.assert_array_equal(layout_grid(env).walls, walls)
    plain = make_minigrid("MiniGrid-FourRooms-v0")  # the standard id re-draws its doors
    layouts = set()
    for seed in range(4):
        plain.reset(seed=seed)
        layouts.add(layout_grid(plain).walls.tobytes())
    assert len(layouts) > 1


def test_fixed_layout_random_start_moves_only_the_agent():
    env = make_minigrid("MiniGrid-FourRooms-v0", layout_seed=MINIGRID_IDS[FIXED]["layout_seed"], random_start=True)
    starts, walls = set(), None
    for seed in range(6):
        env.reset(seed=seed)
        base = env.unwrapped
        starts.add((tuple(int(v) for v in base.agent_pos), base.agent_dir))
        grid = layout_grid(env).walls
        walls = grid if walls is None else walls
        np.testing.assert_array_equal(grid, walls)
    assert len(starts) > 1


def test_flat_observation_space_feeds_the_spectral_learner():
    for env_id, shape in ((FIXED, (19 * 19 * 3,)), ("MiniGrid-DoorKey-8x8-v0", (8 * 8 * 3,))):
        venv = make_env(env_id, 2, 0, {}, False, training=True)
        assert isinstance(venv.observation_space, gym.spaces.Box) and venv.observation_space.dtype == np.float32
        assert spectral_obs_shape(venv.observation_space) == shape
        obs = venv.reset()
        assert obs.shape == (2, *shape) and 0.0 <= obs.min() and obs.max() <= 1.0
        objects = obs[0].reshape(-1, 3)[:, 0]
        assert np.isclose(objects, 1.0).sum() == 1  # the agent is the only object with the largest index
        venv.close()


def test_is_success_at_the_goal_and_not_on_timeout():
    env = make_minigrid("MiniGrid-Empty-5x5-v0")  # agent at (1, 1) facing right, goal at (3, 3)
    env.reset(seed=0)
    for a in (FORWARD, FORWARD, RIGHT, FORWARD):
        *_, terminated, truncated, info = env.step(a)
        assert not (terminated or truncated) and "is_success" not in info
    _, reward, terminated, _, info = env.step(FORWARD)
    assert terminated and reward > 0 and info["is_success"] is True
    env = make_minigrid("MiniGrid-Empty-5x5-v0", max_steps=3)
    env.reset(seed=0)
    for _ in range(3):
        _, reward, terminated, truncated, info = env.step(LEFT)
    assert truncated and not terminated and info["is_success"] is False


def test_non_minigrid_envs_are_refused_in_one_line():
    with pytest.raises(SpectralError, match="needs a MiniGrid env") as e:
        FixedLayout(gym.make("CartPole-v1"), layout_seed=0)
    assert "\n" not in str(e.value)
    with pytest.raises(SpectralError, match="needs a MiniGrid env"):
        make_minigrid("CartPole-v1", layout_seed=0)
    with pytest.raises(SpectralError, match="layout_seed"):
        make_minigrid("MiniGrid-FourRooms-v0", random_start=True)


def test_exact_position_graph_spectrum_of_fixed_fourrooms():
    env = gym.make(FIXED)
    env.reset()
    values, vectors, grid = exact_eigenpairs(env, k=8)
    assert grid.n == 17 * 17 - (17 + 17 - 1 - 4) == vectors.shape[0]  # interior minus the cross walls, 4 doorways
    assert vectors.shape == (grid.n, 8) and values.shape == (8,)
    assert np.isclose(values[0], 1.0) and np.all(np.diff(values) <= 1e-12) and values[1] < 1 - 1e-6  # connected
    np.testing.assert_allclose(np.abs(vectors[:, 0]), 1 / np.sqrt(grid.n), atol=1e-10)  # the constant
    np.testing.assert_allclose(vectors.T @ vectors, np.eye(8), atol=1e-10)
    base = env.unwrapped
    x, y = base.agent_pos
    assert not grid.walls[y, x] and grid.walls[0].all() and grid.walls[9].sum() == 19 - 2  # a doorway in row 9


def test_position_observations_match_the_env_and_decode_to_the_exact_eigenvectors():
    env = gym.make(FIXED)
    first, _ = env.reset()
    values, vectors, grid = exact_eigenpairs(env, k=6)
    obs = position_observations(env, grid)
    assert obs.shape == (grid.n, 4, first.size)
    x, y = env.unwrapped.agent_pos
    np.testing.assert_array_equal(obs[grid.index[y, x], env.unwrapped.agent_dir], first)  # what reset emitted
    assert tuple(env.unwrapped.agent_pos) == (x, y)  # left unchanged

    def exact_phi(batch: np.ndarray) -> np.ndarray:  # reads the agent's cell off the observation
        cells = batch.reshape(len(batch), grid.width, grid.height, 3)[..., 0]  # MiniGrid encodes [x, y]
        xs, ys = np.nonzero(np.isclose(cells, 1.0))[1:]
        return vectors[grid.index[ys, xs]] * 3.0 + 0.01 * np.random.default_rng(0).normal(size=(len(batch), 1))

    cos, mean = position_cosine_similarity(exact_phi, env, k=6)
    assert mean > 0.999 and cos.shape == (6,)
    cos, mean = position_cosine_similarity(lambda b: np.random.default_rng(1).normal(size=(len(b), 6)), env, k=6)
    assert mean < 0.3


def test_minigrid_recipe_family():
    for env_id in (FIXED, "MiniGrid-DoorKey-8x8-v0", "MiniGrid-MultiRoom-N2-S4-v0"):
        assert family(env_id) == "minigrid"
        rec = recipe("ppo", env_id)
        assert rec["n_envs"] == 8 and rec["algo"]["ent_coef"] == 0.01 and rec["spectral"]["operator"] == "successor:0.9"
    assert family("CartPole-v1") == "CartPole-v1"


QUICK = {
    "n_envs": 4,
    "n_steps": 128,
    "eval_every": 1024,
    "eval_episodes": 2,
    "spectral": {"hidden": [32]},
    "callback": {"train_freq": 512, "gradient_steps": 3, "learning_starts": 256, "batch_size": 128},
    "progress": False,
    "threads": 1,
}


@pytest.mark.parametrize("bonus", ["rnd", "novelty", "elliptical"])
def test_train_ppo_with_a_bonus_on_minigrid(tmp_path, bonus):
    res = train("MiniGrid-DoorKey-5x5-v0", "ppo", "raw", bonus, steps=1024, seed=0, out=tmp_path, **QUICK)
    saved = json.loads((tmp_path / "results.json").read_text())
    assert saved["bonus"] == bonus and saved["steps"] == 1024 and (tmp_path / "model.zip").is_file()
    assert saved["final"]["timesteps"] == 1024 and saved["final"]["success_rate"] is not None  # is_success is read
    assert res["config"]["algo"]["n_steps"] == 128 and res["config"]["n_envs"] == 4
    # the minigrid recipe evaluates the argmax policy and the policy's own action distribution
    assert all(0 <= e["sampled_success_rate"] <= 1 and "sampled_return_mean" in e for e in saved["evaluations"])
    assert saved["config"]["bonus_kwargs"]["coef"] == MINIGRID_BONUS_COEF[bonus]  # each bonus its own coefficient


def test_egocentric_view_is_minigrids_7x7_view_with_what_the_agent_carries():
    env = make_env("MiniGrid-DoorKey-5x5-v0", 1, 0, {}, False, training=False, view="egocentric")
    obs = env.reset()
    assert obs.shape == (1, 7 * 7 * 3) and 0 <= obs.min() and obs.max() <= 1
    base = env.envs[0].unwrapped
    np.testing.assert_allclose(obs[0], (base.gen_obs()["image"] / CHANNEL_MAX).reshape(-1))
    full = make_env("MiniGrid-DoorKey-5x5-v0", 1, 0, {}, False, training=False)
    assert full.reset().shape == (1, 5 * 5 * 3)
    with pytest.raises(SpectralError, match="unknown MiniGrid view"):
        make_env("MiniGrid-DoorKey-5x5-v0", 1, 0, {}, False, training=False, view="top")


@pytest.mark.slow
def test_rlspectral_train_reproduces_an_exploration_benchmark_run(tmp_path):
    """The headline command (``rlspectral train --bonus elliptical ...``) gives the benchmark job's numbers."""
    from rlspectral.cli.main import main as cli
    from rlspectral.sweep import _resolve

    run_job = _resolve("scripts.exploration_benchmark:run_job")  # as the sweep's workers import it

    job = {"id": "j", "task": "MiniGrid-DoorKey-5x5-v0", "arm": "ppo+elliptical", "seed": 3, "steps": 4608,
           "coef": MINIGRID_BONUS_COEF["elliptical"], "eval_every": 4096, "eval_episodes": 10,
           "threads": 1}  # fmt: skip
    bench = run_job(job, tmp_path / "bench")
    args = ["train", "--env", job["task"], "--algo", "ppo", "--bonus", "elliptical", "--steps", "4608", "--seed", "3",
            "--eval-every", "4096", "--threads", "1", "--no-progress", "--out", str(tmp_path / "cli")]  # fmt: skip
    assert cli(args) == 0
    saved = json.loads((tmp_path / "cli" / "results.json").read_text())
    assert saved["spectral"]["updates"] > 0  # the bonus ran on trained eigenfunctions
    assert [[e["timesteps"], e["success_rate"], e["return_mean"]] for e in saved["evaluations"]] == bench["curve"]
    import torch
    from stable_baselines3 import PPO

    a, b = (PPO.load(tmp_path / d / "model.zip", device="cpu").policy.state_dict() for d in ("bench", "cli"))
    assert all(torch.equal(a[name], b[name]) for name in a)  # the same training, bit for bit
    fa, fb = (torch.load(tmp_path / d / "spectral.pt", weights_only=True) for d in ("bench", "cli"))
    assert torch.equal(fa["f"]["body.body.0.weight"], fb["f"]["body.body.0.weight"])


def test_fixed_layout_ids_record_the_full_view_they_run_with(tmp_path):
    res = train(FIXED, "ppo", "raw", "none", steps=256, seed=0, out=tmp_path, **{**QUICK, "view": "egocentric"})
    assert res["config"]["view"] == "full"  # the fixed FourRooms always shows the whole grid, and says so
    assert json.loads((tmp_path / "run.json").read_text())["view"] == "full"


def test_exact_position_embedding_is_the_position_graph_eigenvectors_in_every_direction():
    """``elliptical-exact``'s bonus space: each cell's observation (all 4 directions) gets its row of the exact
    eigenvectors, scaled to unit mean square over cells; re-drawn layouts are a one-line error."""
    env_id = "rlspectral/MiniGrid-FourRooms-Fixed-v0"
    emb = exact_position_embedding(env_id, 6)
    env = gym.make(env_id)
    env.reset(seed=0)
    _, vectors, grid = exact_eigenpairs(env, 6)
    obs = position_observations(env, grid)  # [n, 4, D]
    got = emb(torch.as_tensor(obs.reshape(grid.n * 4, -1))).numpy().reshape(grid.n, 4, 6)
    np.testing.assert_allclose(got, np.repeat(vectors[:, None] * np.sqrt(grid.n), 4, axis=1), atol=1e-5)
    np.testing.assert_allclose((got[:, 0] ** 2).mean(0), 1.0, atol=1e-5)
    with pytest.raises(SpectralError, match="need a fixed layout") as e:
        exact_position_embedding("MiniGrid-DoorKey-5x5-v0", 6)
    assert "\n" not in str(e.value)


def test_elliptical_exact_bonus_trains_ppo_without_learning_eigenfunctions(tmp_path):
    """The ablation arm runs end to end on raw observations (VecNormalize on) with no spectral learner, and its
    bonus is E3B's quadratic form in the exact embedding."""
    env_id = "rlspectral/MiniGrid-FourRooms-Fixed-v0"
    res = train(env_id, "ppo", "raw", "elliptical-exact", steps=512, seed=0, out=tmp_path, **QUICK)
    assert res.get("spectral_updates") is None  # no learner: the bonus reads the exact embedding only
    assert res["config"]["bonus_kwargs"]["coef"] == MINIGRID_BONUS_COEF["elliptical"]
    emb = exact_position_embedding(env_id, 4)
    bonus = make_bonus("elliptical-exact", embedding=emb, ridge=0.5, coef=1.0, normalize=False)
    assert bonus.reads_raw and not bonus.needs_features and bonus.ready
    env = gym.make(env_id)
    obs0, _ = env.reset(seed=0)
    obs1, *_ = env.step(2)  # forward
    u0, u1 = emb(torch.as_tensor(obs0[None])).double()[0], emb(torch.as_tensor(obs1[None])).double()[0]
    got = bonus(torch.as_tensor(obs0[None]), torch.as_tensor(obs1[None]))
    want = u1 @ torch.linalg.solve(0.5 * torch.eye(4, dtype=torch.float64) + torch.outer(u0, u0), u1)
    np.testing.assert_allclose(got.numpy(), [want.item()], rtol=1e-5)
    with pytest.raises(ValueError, match="needs embedding="):
        make_bonus("elliptical-exact")


def test_visited_cells_counts_the_distinct_cells_of_an_episode():
    """``info["visited_cells"]`` at an episode end = the distinct agent positions of the episode, start included."""
    env = make_minigrid("MiniGrid-Empty-5x5-v0")
    env.reset(seed=0)
    base = env.unwrapped
    cells = {tuple(base.agent_pos)}
    info: dict = {}
    for a in [2, 2, 1, 2, 0, 0] * 50:  # forward, forward, right, forward, left, left ... until the time limit
        _, _, term, trunc, info = env.step(a)
        cells.add(tuple(base.agent_pos))
        if term or trunc:
            break
    assert info["visited_cells"] == len(cells) > 1


def test_train_logs_visited_cells_on_minigrid(tmp_path):
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    train("MiniGrid-Empty-5x5-v0", "ppo", "raw", "none", steps=1024, seed=0, out=tmp_path, **QUICK)
    (run,) = (tmp_path / "tb").glob("*")
    acc = EventAccumulator(str(run))
    acc.Reload()
    values = [e.value for e in acc.Scalars("rollout/visited_cells")]
    assert values and all(1 <= v <= 9 for v in values)  # Empty-5x5 has 3 x 3 free cells
