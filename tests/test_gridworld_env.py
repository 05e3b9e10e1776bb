"""Gridworld environments, exact spectra, layout errors, the metric, and the fit command."""

import json

import gymnasium as gym
import numpy as np
import pytest
import torch

from rlspectral import LayoutError, envs
from rlspectral.cli.main import main
from rlspectral.envs import GridWorldEnv, load_grid, transition_eigenpairs
from rlspectral.envs.gridworld import Grid
from rlspectral.metrics import cosine_similarity, eigen_blocks


def test_all_builtin_layouts_registered_and_stochastic():
    names = envs.builtin_layouts()
    assert len(names) >= 12 and "GridRoom-4" in names
    env = gym.make("rlspectral/GridRoom-4-v0")
    obs, info = env.reset(seed=0)
    assert obs.shape == (2,) and np.all(np.abs(obs) <= 1)
    for name in names:
        P = load_grid(name).transition_matrix
        np.testing.assert_allclose(P.sum(1), 1.0)
        np.testing.assert_allclose(P, P.T)  # blocked moves stay: doubly stochastic and symmetric


@pytest.mark.parametrize("obs,shape", [("xy", (2,)), ("onehot", (104,)), ("pixels", (1, 13, 13))])
def test_observation_types(obs, shape):
    env = GridWorldEnv("GridRoom-4", obs=obs, episode_length=5)
    o, _ = env.reset(seed=1)
    assert o.shape == shape and env.observation_space.contains(o)
    steps = 0
    while True:
        o, r, term, trunc, _ = env.step(env.action_space.sample())
        steps += 1
        if term or trunc:
            break
    assert steps == 5 and trunc


def test_blocked_move_stays_and_goal_terminates():
    grid = Grid("XXXX\nX  X\nXXXX\n")
    assert grid.n == 2
    left = 3
    assert grid.next_state[0, left] == 0  # wall to the left: stay
    env = GridWorldEnv("GridRoomSmall-1", goal=(1, 2))
    env.reset(seed=0)
    env.state = int(env.grid.index[1, 1])
    _, r, term, _, info = env.step(1)  # right, onto the goal
    assert r == 1.0 and term and info["is_success"]


def test_malformed_layouts_give_one_line_errors(tmp_path):
    ragged = tmp_path / "ragged.txt"
    ragged.write_text("XXXX\nX  X\nXX\nXXXX\n")
    with pytest.raises(LayoutError) as e:
        load_grid(ragged)
    assert "ragged.txt" in str(e.value) and "row 3" in str(e.value) and "\n" not in str(e.value)
    walls = tmp_path / "walls.txt"
    walls.write_text("XXX\nXXX\n")
    with pytest.raises(LayoutError, match="no free cell"):
        load_grid(walls)
    split = tmp_path / "split.txt"
    split.write_text("XXXXXX\nX  X X\nXXXXXX\n")
    with pytest.warns(UserWarning, match="row 2"):
        grid = load_grid(split)  # default: keep the largest region, wall the rest off
    assert grid.n == 2
    with pytest.raises(LayoutError, match="unreachable"):
        load_grid(split, disconnected="error")
    with pytest.raises(LayoutError, match="unknown layout"):
        load_grid("NoSuchLayout")


def test_metric_rotated_degenerate_pair_scores_one():
    rng = np.random.default_rng(0)
    Q, _ = np.linalg.qr(rng.normal(size=(20, 4)))
    vals = np.array([1.0, 0.7, 0.7 + 1e-9, 0.2])
    c, s = np.cos(0.7), np.sin(0.7)
    learned = Q.copy()
    learned[:, 1:3] = Q[:, 1:3] @ np.array([[c, -s], [s, c]])  # any basis of the degenerate pair
    learned *= np.array([2.0, -1.0, 3.0, -0.5])  # scales and signs do not matter
    cos, mean = cosine_similarity(learned, Q, vals)
    np.testing.assert_allclose(cos, 1.0, atol=1e-12)
    cos_strict, _ = cosine_similarity(learned, Q)  # without the block rotation the pair is mixed
    assert cos_strict[1] < 0.9
    assert [list(b) for b in eigen_blocks(vals, 1e-6)] == [[0], [1, 2], [3]]


def test_metric_cut_off_inside_a_degenerate_block():
    """k = 2 learned modes, true eigenvalues [1, 0.7, 0.7]: the second learned mode may be any direction of the
    tied pair (scores 1 with the third true vector supplied), a vector outside it scores its projection."""
    rng = np.random.default_rng(1)
    Q, _ = np.linalg.qr(rng.normal(size=(20, 4)))
    vals = np.array([1.0, 0.7, 0.7, 0.2])
    mixed = np.stack([Q[:, 0], 0.6 * Q[:, 1] + 0.8 * Q[:, 2]], axis=1)
    cos, _ = cosine_similarity(mixed, Q[:, :3], vals[:3])
    np.testing.assert_allclose(cos, 1.0, atol=1e-12)
    assert cosine_similarity(mixed, Q[:, :2], vals[:2])[0][1] < 0.61  # the truncated reference cannot tell
    off = np.stack([Q[:, 0], 0.6 * Q[:, 1] + 0.8 * Q[:, 3]], axis=1)
    np.testing.assert_allclose(cosine_similarity(off, Q, vals)[0], [1.0, 0.6], atol=1e-12)
    with pytest.raises(ValueError, match="needs their true_values"):
        cosine_similarity(mixed, Q[:, :3])


def test_exact_spectrum_of_a_corridor():
    # A corridor of n cells: up/down are blocked (stay, prob 1/2), left/right follow a reflecting path walk
    # with eigenvalues cos(pi j / n), so p_j = (1 + cos(pi j / n)) / 2.
    n = 7
    grid = Grid("X" * (n + 2) + "\nX" + " " * n + "X\n" + "X" * (n + 2))
    vals, _ = transition_eigenpairs(grid)
    expected = 0.5 + 0.5 * np.cos(np.pi * np.arange(n) / n)
    np.testing.assert_allclose(np.sort(vals)[::-1], expected, atol=1e-12)


def test_fit_command_writes_outputs(tmp_path, capsys):
    out = tmp_path / "fit"
    rc = main(["fit", "--env", "rlspectral/GridMaze-9-v0", "--steps", "60", "--batch-size", "512", "--episodes", "300",
               "--k", "4", "--extra-modes", "2", "--out", str(out), "--no-progress"])  # fmt: skip
    assert rc == 0
    m = json.loads((out / "metrics.json").read_text())
    for key in ("cosine_similarity", "mean_cosine_similarity", "eigenvalues", "true_eigenvalues", "steps",
                "wall_time_s", "steps_per_s", "config"):  # fmt: skip
        assert key in m
    # six modes learned (oversampling), the top four scored
    assert len(m["cosine_similarity"]) == 4 and len(m["eigenvalues"]) == 4 and m["steps"] == 60
    assert m["learned_modes"] == 6 and m["config"]["extra_modes"] == 2
    assert (out / "eigenfunctions.png").stat().st_size > 1000 and (out / "model.pt").exists()
    assert any((out / "tb").iterdir())


@pytest.mark.parametrize(
    "argv",
    [
        ["fit", "--env", "NoSuch"],
        ["fit", "--k", "0"],
        ["fit", "--dim", "0"],  # the old name of --k
        ["fit", "--obs", "rgb"],
        ["fit", "--operator", "bogus"],
        ["fit", "--realign-every", "-1"],
        ["fit", "--extra-modes", "-2"],
        ["fit", "--device", "gpu0"],
        ["fit", "--device", "meta"],
    ]
    + ([] if torch.cuda.is_available() else [["fit", "--device", "cuda"]]),
)
def test_fit_bad_arguments_exit_2_with_one_line(argv, capsys):
    with pytest.raises(SystemExit) as e:
        rc = main(argv)
        raise SystemExit(rc)
    assert e.value.code == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "error" in err
