"""``fit-traj``: trajectory files in every documented shape, malformed files and flags as one-line SpectralErrors, and
the saved model reloaded in a fresh process."""

import argparse
import json
import subprocess
import sys
import textwrap

import numpy as np
import pytest
import torch

from rlspectral.cli.main import main
from rlspectral.cli.traj import add_traj_arguments, load_trajectories, run_traj, split_holdout
from rlspectral.errors import ConfigError, SpectralError


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


def test_bad_arguments_and_short_trajectories(tmp_path, capsys):
    np.save(tmp_path / "short.npy", _ar1(2, 5))
    with pytest.raises(SpectralError, match="not more than --lag"):
        run_traj(_parse(str(tmp_path / "short.npy"), "--lag", "5"))
    # Flags are checked by TrajFitConfig: one ConfigError line naming the field, the value and what to pass.
    for argv, message in [
        (["--lag", "0"], "lag=0: pass an integer >= 1"),
        (["--lag", "1", "--k", "1"], "k=1: pass k >= 2"),
        (["--lag", "1", "--dim", "1"], "k=1: pass k >= 2"),  # the old flag name
        (["--lag", "1", "--shift", "-1"], "shift=-1.0: pass a finite number > 0"),
        (["--lag", "1", "--kappa", "0"], "shift=0.0: pass a finite number > 0"),  # the old flag name
        (["--lag", "1", "--batch-size", "0"], "batch_size=0: pass an integer >= 1"),
        (["--lag", "1", "--holdout", "1"], "holdout=1.0: pass a share in"),
    ]:
        with pytest.raises(ConfigError, match=message) as info:
            run_traj(_parse(str(tmp_path / "short.npy"), *argv))
        assert "\n" not in str(info.value)
    capsys.readouterr()
    assert main(["fit-traj", str(tmp_path / "short.npy"), "--lag", "0"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "lag=0" in err


def test_old_flag_names_are_hidden_aliases():
    args = _parse("x.npy", "--lag", "1", "--dim", "5", "--kappa", "3")
    assert (args.k, args.shift) == (5, 3.0)
    assert (_parse("x.npy", "--lag", "1").k, _parse("x.npy", "--lag", "1").shift) == (4, 10.0)
    p = argparse.ArgumentParser()
    add_traj_arguments(p)
    assert "--kappa" not in p.format_help() and "--dim" not in p.format_help()


@pytest.mark.parametrize("extra", [[], ["--evd"], ["--method", "generator", "--beta", "1.0"], ["--method", "vampnet"]])
def test_fit_traj_writes_metrics_and_eigenfunctions(tmp_path, capsys, extra):
    x = _ar1(10, 200)
    np.savez(tmp_path / "ar1.npz", trajectories=x)
    out = tmp_path / "out"
    argv = [str(tmp_path / "ar1.npz"), "--lag", "2", "--k", "3", "--steps", "30", "--batch-size", "128"]
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


RELOAD = """
import json, sys
import numpy as np
import rlspectral.koopman
heavy = [m for m in sys.modules if m.split(".")[0] in ("stable_baselines3", "minigrid")
         or m.startswith(("rlspectral.envs", "rlspectral.agents", "rlspectral.sb3", "gymnasium.envs.classic_control"))]
assert not heavy, heavy
import torch
for out in sys.argv[1:]:
    model = rlspectral.koopman.load(out + "/model.pt")
    state = torch.load(out + "/model.pt", weights_only=True)
    metrics = json.load(open(out + "/metrics.json"))
    x = np.load(out + "/states.npy")
    saved = np.load(out + "/eigenfunctions.npz")["eigenfunctions"]
    phi = model.eigenfunctions(x.reshape(-1, x.shape[-1])).reshape(saved.shape)
    np.testing.assert_allclose(phi, saved, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(model.timescales()[1:], metrics["implied_timescales"], rtol=1e-12)
    np.testing.assert_allclose(np.real(model.values), metrics["transfer_eigenvalues"], rtol=1e-12)
    cfg = metrics["config"]
    for key in ("method", "lag", "dt", "beta", "shift"):
        assert state[key] == cfg[key], key
    assert set(state) >= {"f", "g", "mean", "scale", "koopman", "learner_config", "config", "train_cov"}
    assert set(state["koopman"]) >= {"matrix", "values", "W", "W_inv", "rates", "generator"}
    assert (state["g"] is None) == (cfg["method"] == "generator")
    assert (model.rates is None) == (state["koopman"]["generator"] is None) == (cfg["method"] != "generator")
print("ok")
"""


def test_fit_traj_model_reloads_in_a_fresh_process(tmp_path, capsys):
    """The saved model.pt is complete: a new interpreter, importing only rlspectral.koopman (no SB3, env modules),
    gets the same eigenfunctions at the file's states and the same timescales as the fit reported."""
    x = _ar1(6, 120, seed=1)
    np.save(tmp_path / "ar1.npy", x)
    outs = []
    cases = [("svd", []), ("generator", ["--method", "generator", "--shift", "4"]), ("irr", ["--irreversible"])]
    cases.append(("svd-estimator", ["--estimator", "svd"]))
    cases.append(("svd-rank", ["--estimator", "svd-rank", "--validate-every", "10", "--holdout", "0.4"]))
    for name, extra in cases:
        out = tmp_path / name
        argv = ["fit-traj", str(tmp_path / "ar1.npy"), "--lag", "2", "--k", "3", "--steps", "20", "--batch-size", "64"]
        assert main([*argv, "--out", str(out), "--no-progress", "--dt", "0.5", *extra]) == 0
        np.save(out / "states.npy", x)
        outs.append(str(out))
    metrics = json.loads((tmp_path / "svd-rank" / "metrics.json").read_text())
    assert f"networks of step {metrics['best_step']} (best held-out VAMP-E)" in capsys.readouterr().out
    assert [s for s, _ in metrics["vamp_e_valid"]] == [10, 20] and metrics["best_step"] in (10, 20)
    assert 1 <= metrics["modes"] <= 3 and {"vamp2_test", "vamp_e_test"} <= metrics.keys()
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    acc = EventAccumulator(str(tmp_path / "svd-rank" / "tb"))
    acc.Reload()  # early stopping's held-out VAMP-E is a TensorBoard series, at the steps it was scored
    assert [e.step for e in acc.Scalars("spectral/vamp_e_valid")] == [10, 20]
    assert [e.value for e in acc.Scalars("spectral/vamp_e_valid")] == pytest.approx(
        [v for _, v in metrics["vamp_e_valid"]]
    )
    code = textwrap.dedent(RELOAD)
    proc = subprocess.run([sys.executable, "-c", code, *outs], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0 and proc.stdout.strip() == "ok", proc.stderr[-3000:]
