"""``fit-traj``: trajectory files in every documented shape, and malformed files as one-line SpectralErrors."""

import argparse
import json

import numpy as np
import pytest
import torch

from rlspectral.cli.traj import add_traj_arguments, load_trajectories, run_traj, split_holdout
from rlspectral.errors import SpectralError


@pytest.fixture(autouse=True)
def _one_thread():
    torch.set_num_threads(1)


def _parse(*argv: str) -> argparse.Namespace:
    p = argparse.ArgumentParser()
    add_traj_arguments(p)
    return p.parse_args(list(argv))


def _ar1(n_traj: int, T: int, d: int = 2, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    x = np.zeros((n_traj, T, d))
    x[:, 0] = rng.standard_normal((n_traj, d))
    for t in range(1, T):
        x[:, t] = 0.9 * x[:, t - 1] + np.sqrt(1 - 0.81) * rng.standard_normal((n_traj, d))
    return x


@pytest.mark.parametrize(
    "name,content,message",
    [
        ("a.txt", None, "expected a .npy or .npz"),
        ("missing.npy", "skip", "not found"),
        ("bad.npy", b"not numpy at all", "not a readable numpy file"),
        ("bad.npz", b"PK\x03\x04 broken zip", "not a readable numpy file"),
        ("keys.npz", {"y": np.zeros((5, 2))}, "no 'trajectories' or 'x' array"),
        ("4d.npy", np.zeros((2, 3, 4, 5)), "expected shape"),
        ("nan.npy", np.array([[0.0, np.nan], [1.0, 2.0]]), "NaN or inf"),
        ("str.npy", np.array([["a", "b"]]), "real numbers"),
        ("empty.npy", np.zeros((0, 2)), "empty"),
    ],
)
def test_malformed_trajectory_files_are_one_line_errors(tmp_path, name, content, message):
    path = tmp_path / name
    if isinstance(content, bytes):
        path.write_bytes(content)
    elif isinstance(content, dict):
        np.savez(path, **content)
    elif isinstance(content, np.ndarray):
        np.save(path, content)
    elif content is None:
        path.write_text("1 2 3\n")
    with pytest.raises(SpectralError, match=message) as info:
        load_trajectories(path)
    assert "\n" not in str(info.value)


def test_documented_shapes(tmp_path):
    x = _ar1(3, 20)
    np.save(tmp_path / "one.npy", x[0])
    np.save(tmp_path / "many.npy", x)
    np.save(tmp_path / "scalar.npy", x[0, :, 0])
    np.savez(tmp_path / "traj.npz", trajectories=x)
    np.savez(tmp_path / "x.npz", x=x[0])
    assert load_trajectories(tmp_path / "one.npy").shape == (1, 20, 2)
    assert load_trajectories(tmp_path / "many.npy").shape == (3, 20, 2)
    assert load_trajectories(tmp_path / "scalar.npy").shape == (1, 20, 1)
    assert load_trajectories(tmp_path / "traj.npz").shape == (3, 20, 2)
    assert load_trajectories(tmp_path / "x.npz").shape == (1, 20, 2)
    train, test = split_holdout(load_trajectories(tmp_path / "one.npy"), 0.25, lag=2)
    assert [len(t) for t in train] == [15] and [len(t) for t in test] == [5]


def test_bad_arguments_and_short_trajectories(tmp_path):
    np.save(tmp_path / "short.npy", _ar1(2, 5))
    with pytest.raises(SpectralError, match="not more than --lag"):
        run_traj(_parse(str(tmp_path / "short.npy"), "--lag", "5"))
    with pytest.raises(SpectralError, match="--lag must be >= 1"):
        run_traj(_parse(str(tmp_path / "short.npy"), "--lag", "0"))
    with pytest.raises(SpectralError, match="--dim must be >= 2"):
        run_traj(_parse(str(tmp_path / "short.npy"), "--lag", "1", "--dim", "1"))


@pytest.mark.parametrize("extra", [[], ["--evd"], ["--method", "generator", "--beta", "1.0"], ["--method", "vampnet"]])
def test_fit_traj_writes_metrics_and_eigenfunctions(tmp_path, capsys, extra):
    x = _ar1(10, 200)
    np.savez(tmp_path / "ar1.npz", trajectories=x)
    out = tmp_path / "out"
    argv = [str(tmp_path / "ar1.npz"), "--lag", "2", "--dim", "3", "--steps", "30", "--batch-size", "128"]
    args = _parse(*argv, "--out", str(out), "--no-progress", *extra)
    assert run_traj(args) == 0
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["shape"] == [10, 200, 2] and len(metrics["transfer_eigenvalues"]) == 3
    assert "vamp2_test" in metrics and "vamp_e_test" in metrics
    assert metrics["transfer_eigenvalues"][0] == pytest.approx(1.0, abs=1e-6)  # the constant mode
    phi = np.load(out / "eigenfunctions.npz")["eigenfunctions"]
    assert phi.shape == (10, 200, 3)
    assert (out / "model.pt").exists()
    assert "timescales" in capsys.readouterr().out
