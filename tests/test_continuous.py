"""Continuous state spaces: the goal-dict rule, eigen-networks on selected inputs, the maze reference spectrum
(checked against the closed form on a rectangle) and the missing-extra message."""

from __future__ import annotations

import sys

import gymnasium as gym
import numpy as np
import pytest
import torch

from rlspectral.envs.goal_obs import GoalObservation, is_goal_dict, wrap_goal_dict
from rlspectral.envs.pointmaze import maze_reference, require_robotics
from rlspectral.errors import SpectralError
from rlspectral.learner import LearnerConfig, SpectralLearner
from rlspectral.metrics import cosine_similarity


class GoalDictEnv(gym.Env):
    """A point on a line that must reach a goal; observations as Gymnasium-Robotics goal dicts."""

    def __init__(self) -> None:
        box = gym.spaces.Box(-np.inf, np.inf, (2,), np.float64)
        self.observation_space = gym.spaces.Dict(
            {
                "observation": gym.spaces.Box(-np.inf, np.inf, (4,), np.float64),
                "achieved_goal": box,
                "desired_goal": box,
            }  # fmt: skip
        )
        self.action_space = gym.spaces.Box(-1, 1, (2,), np.float32)
        self.pos = np.zeros(2)

    def _obs(self) -> dict[str, np.ndarray]:
        return {"observation": np.r_[self.pos, 0.0, 0.0], "achieved_goal": self.pos.copy(),
                "desired_goal": np.array([1.0, -1.0])}  # fmt: skip

    def reset(self, *, seed: int | None = None, options: dict | None = None):
        super().reset(seed=seed)
        self.pos = self.np_random.uniform(-1, 1, 2)
        return self._obs(), {}

    def step(self, action):
        self.pos = np.clip(self.pos + 0.1 * np.asarray(action), -1, 1)
        success = bool(np.linalg.norm(self.pos - [1.0, -1.0]) < 0.2)
        return self._obs(), float(success), False, False, {"success": success}


def test_goal_observation_flattens_in_the_documented_order():
    env = GoalObservation(GoalDictEnv())
    assert env.observation_space.shape == (8,) and env.observation_space.dtype == np.float32
    assert env.spectral_inputs == (4, 5)
    obs, _ = env.reset(seed=0)
    raw = env.unwrapped._obs()
    np.testing.assert_allclose(obs, np.r_[raw["observation"], raw["achieved_goal"], raw["desired_goal"]], rtol=1e-6)
    _, _, _, _, info = env.step(np.zeros(2))
    assert info["is_success"] == info["success"]


def test_wrap_goal_dict_leaves_other_envs_alone():
    plain = gym.make("Pendulum-v1")
    assert wrap_goal_dict(plain) is plain
    assert not is_goal_dict(plain.observation_space) and is_goal_dict(GoalDictEnv().observation_space)
    with pytest.raises(ValueError, match="GoalObservation needs Dict"):
        GoalObservation(plain)


def test_inputs_restrict_what_the_eigen_network_reads():
    """Entries outside ``inputs`` cannot change the eigenfunctions, and the choice survives a checkpoint."""
    learner = SpectralLearner(LearnerConfig(obs_shape=(8,), k=3, hidden=(16,), inputs=(4, 5)))
    x = torch.randn(32, 8)
    y = x.clone()
    y[:, [0, 1, 2, 3, 6, 7]] = torch.randn(32, 6)
    torch.testing.assert_close(learner.features(x), learner.features(y))
    z = x.clone()
    z[:, 4] += 1.0
    assert not torch.allclose(learner.features(x), learner.features(z))
    with pytest.raises(ValueError, match="index outside"):
        SpectralLearner(LearnerConfig(obs_shape=(3,), k=2, hidden=(8,), inputs=(3,)))


def test_inputs_round_trip_through_a_checkpoint(tmp_path):
    learner = SpectralLearner(LearnerConfig(obs_shape=(8,), k=3, hidden=(16,), inputs=(4, 5)))
    path = learner.save(tmp_path / "m.pt")
    again = SpectralLearner.load(path)
    assert again.config.inputs == (4, 5)
    x = torch.randn(5, 8)
    torch.testing.assert_close(again.features(x), learner.features(x))


def test_maze_reference_matches_the_neumann_modes_of_a_rectangle():
    """Free space 1 x 2 cells: the fine random walk's eigenvectors are products of cos(pi m (i + 1/2) / n)
    (discrete Neumann modes); the second is cos along the long side, the third along the short side or the
    second harmonic of the long side (here: long side 16, short 8: cos(2 pi x/16) has the same frequency as
    cos(pi y/8), a degenerate pair)."""
    walls = np.array([[1, 1, 1, 1], [1, 0, 0, 1], [1, 1, 1, 1]], dtype=bool)
    ref = maze_reference(walls, scaling=1.0, resolution=8, k=4)
    assert ref.points.shape == (128, 2)
    np.testing.assert_allclose(ref.points[:, 0].min(), -1 + 1 / 16)  # cells span x in [-1, 1]
    np.testing.assert_allclose(ref.points[:, 1].max(), 0.5 - 1 / 16)  # and y in [-0.5, 0.5]
    row, col = ref.grid.cells[:, 0] - 8, ref.grid.cells[:, 1] - 8
    assert row.min() == 0 and col.min() == 0 and col.max() == 15
    mode = lambda mx, my: np.cos(np.pi * mx * (col + 0.5) / 16) * np.cos(np.pi * my * (row + 0.5) / 8)  # noqa: E731
    exact = np.stack([mode(0, 0), mode(1, 0), mode(2, 0), mode(0, 1)], axis=1)
    # half the moves are along x (1-D eigenvalue cos(pi m / n)), half along y
    values = 0.5 + 0.5 * np.cos(np.pi * np.array([0, 1 / 16, 1 / 8, 1 / 8]))
    np.testing.assert_allclose(ref.values, values, atol=1e-12)
    cos, mean = cosine_similarity(ref.vectors, exact, ref.values)
    assert mean > 1 - 1e-9, cos


def test_missing_robotics_extra_is_one_line(monkeypatch):
    monkeypatch.setitem(sys.modules, "gymnasium_robotics", None)  # import now raises ImportError
    with pytest.raises(SpectralError, match=r"pip install 'rlspectral\[robotics\]'") as err:
        require_robotics()
    assert "\n" not in str(err.value)


@pytest.mark.slow
def test_train_on_goal_dicts_learns_eigenfunctions_of_the_achieved_goal(tmp_path):
    """The training helper applies the rule end to end: the policy gets the flat Box, the online learner reads
    the achieved_goal entries."""
    from rlspectral.agents.train import train

    if "rlspectral-test/GoalDict-v0" not in gym.registry:
        gym.register("rlspectral-test/GoalDict-v0", entry_point=GoalDictEnv, max_episode_steps=50)
    callback = {"learning_starts": 100, "train_freq": 100, "gradient_steps": 2, "batch_size": 64}
    res = train("rlspectral-test/GoalDict-v0", "sac", "raw", "novelty", 300, 0, tmp_path, progress=False,
                eval_every=300, eval_episodes=1, callback=callback, learning_starts=50)  # fmt: skip
    assert res["final"]["success_rate"] is not None
    learner = SpectralLearner.load(tmp_path / "spectral.pt")
    assert learner.config.obs_shape == (8,) and learner.config.inputs == (4, 5)


def test_pointmaze_observations_through_make_env():
    pytest.importorskip("gymnasium_robotics")
    from rlspectral.agents.environments import make_env, spectral_inputs

    env = make_env("PointMaze_UMaze-v3", 1, 0, {}, False, training=True)
    assert env.observation_space.shape == (8,)
    assert spectral_inputs(env) == (4, 5)
    obs = env.reset()
    np.testing.assert_allclose(obs[0, 4:6], obs[0, 0:2])  # achieved_goal = the ball's (x, y)


def test_scale_inputs_maps_the_box_bounds_to_unit_range():
    """MountainCar: position in [-1.2, 0.6], velocity in [-0.07, 0.07]; both reach the network in [-1, 1]."""
    from rlspectral.sb3.extractor import learner_config_for

    space = gym.make("MountainCarContinuous-v0").observation_space
    cfg = learner_config_for(space, {"k": 3, "hidden": [8], "scale_inputs": True})
    np.testing.assert_allclose(cfg.input_low, [-1.2, -0.07], rtol=1e-6)
    np.testing.assert_allclose(cfg.input_high, [0.6, 0.07], rtol=1e-6)
    body = SpectralLearner(cfg).f.body
    corners = torch.tensor([[-1.2, -0.07], [0.6, 0.07]])
    torch.testing.assert_close((corners - body.center) / body.half_range, torch.tensor([[-1.0, -1.0], [1.0, 1.0]]))
    with pytest.raises(ValueError, match="finite observation bounds"):
        learner_config_for(gym.spaces.Box(-np.inf, np.inf, (2,)), {"k": 2, "scale_inputs": True})


@pytest.mark.slow
def test_resource_monitor_reads_memory_throughput_and_the_online_learner(tmp_path):
    """The reliability monitor gets the online learner through ``train(callbacks=...)`` and logs as it goes."""
    import csv

    from rlspectral.agents.monitor import ResourceMonitor
    from rlspectral.agents.train import train

    monitor = ResourceMonitor(every=100, path=tmp_path / "resources.csv")
    callback = {"learning_starts": 100, "train_freq": 100, "gradient_steps": 2, "batch_size": 64}
    train("Pendulum-v1", "sac", "raw", "novelty", 400, 0, tmp_path, progress=False, eval_every=400, eval_episodes=1,
          callback=callback, learning_starts=50, callbacks=[monitor])  # fmt: skip
    rows = monitor.history
    assert [r["timesteps"] for r in rows] == [0, 100, 200, 300, 400]
    assert all(r["rss_mb"] > 10 and r["peak_rss_mb"] >= 0.97 * r["rss_mb"] for r in rows)  # peak lags statm
    assert all(b["peak_rss_mb"] >= a["peak_rss_mb"] for a, b in zip(rows, rows[1:]))
    assert rows[-1]["spectral_updates"] == 6 and len(rows[-1]["eigenvalues"]) == monitor.learner.config.k
    with open(tmp_path / "resources.csv") as fh:
        assert len(list(csv.DictReader(fh))) == len(rows)  # written as the run goes
    s = monitor.summary()
    assert s["weights_finite_throughout"] and s["steps_per_s_steady"] > 0 and s["spectral_updates"] == 6


def test_resource_monitor_sees_memory_growth_and_non_finite_weights(tmp_path):
    """The monitor's readings move when the process does: 64 MiB touched shows in RSS, a NaN weight is flagged."""
    from types import SimpleNamespace

    from stable_baselines3.common.logger import configure

    from rlspectral.agents.monitor import ResourceMonitor

    learner = SpectralLearner(LearnerConfig(obs_shape=(2,), k=3, hidden=(8,)))
    monitor = ResourceMonitor(every=1, path=tmp_path / "resources.csv", learner=learner)
    monitor.model = SimpleNamespace(logger=configure(None, []))
    monitor.num_timesteps = 0
    monitor._on_training_start()
    block = np.ones(64 * 2**20 // 8)  # 64 MiB, written, so resident
    monitor.num_timesteps = 1
    monitor._on_step()
    assert monitor.history[1]["rss_mb"] - monitor.history[0]["rss_mb"] > 48
    assert monitor.history[1]["weights_finite"] is True
    with torch.no_grad():
        next(learner.f.parameters()).view(-1)[0] = float("nan")
    monitor.num_timesteps = 2
    monitor._on_step()
    assert monitor.history[-1]["weights_finite"] is False
    assert monitor.summary()["weights_finite_throughout"] is False
    del block
