"""``rlspectral evaluate``: a saved run replays on its own env (one-hot cells, VecNormalize stats, spectral features);
untrained spectral features are a warning, a stderr line and ``spectral_updates: 0``."""

import json
import subprocess
import sys
import warnings

import gymnasium as gym
import pytest
import torch

from rlspectral.agents import train
from rlspectral.agents.evaluate import EVALUATION_FILE, evaluate_run, read_run
from rlspectral.cli import main
from rlspectral.errors import SpectralError
from rlspectral.sb3 import UntrainedSpectralWarning

GOAL = "rlspectral/GridRoomSmall-1-Goal-v0"
QUICK = {
    "eval_every": 0,
    "eval_episodes": 1,
    "callback": {"train_freq": 256, "gradient_steps": 3, "learning_starts": 256, "batch_size": 256},
    "progress": False,
    "threads": 1,
}


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    out = tmp_path_factory.mktemp("run")
    n = torch.get_num_threads()
    with warnings.catch_warnings():
        warnings.simplefilter("error", UntrainedSpectralWarning)  # this run's features are trained
        res = train(GOAL, "ppo", "spectral", steps=1024, seed=3, out=out, normalize=True, **QUICK)
    torch.set_num_threads(n)
    assert res["spectral_updates"] > 0
    return out


def test_train_writes_what_evaluate_needs(run_dir):
    run = json.loads((run_dir / "run.json").read_text())
    assert run["env"] == GOAL and run["algo"] == "ppo" and run["features"] == "spectral" and run["seed"] == 3
    assert run["env_kwargs"] == {"obs": "onehot"} and run["vecnormalize"] == "vecnormalize.pkl"
    assert run["spectral"] == "spectral.pt" and (run_dir / "spectral.pt").is_file()
    # the trap this fixes: the registered id alone gives (x, y) observations, the model reads one-hot cells
    assert gym.make(GOAL).observation_space.shape == (2,)


@pytest.mark.slow
def test_evaluate_command_replays_the_run_on_its_own_env(run_dir, capsys):
    assert main(["evaluate", "--model", str(run_dir), "--episodes", "3", "--seed", "1"]) == 0
    line = capsys.readouterr().out.strip().splitlines()[-1]
    assert line.startswith(f"ppo on {GOAL} (3 episodes, deterministic): return") and "success" in line
    res = json.loads((run_dir / EVALUATION_FILE).read_text())
    assert res["episodes"] == 3 and len(res["returns"]) == 3 and res["deterministic"] is True
    assert 0.0 <= res["success_rate"] <= 1.0 and res["env_kwargs"] == {"obs": "onehot"}
    again = evaluate_run(run_dir / "model.zip", episodes=3, seed=1, out=run_dir / "again.json")  # same seed
    assert again["returns"] == res["returns"]
    stochastic = evaluate_run(run_dir, episodes=2, deterministic=False, out=run_dir / "stochastic.json")
    assert stochastic["deterministic"] is False and (run_dir / "stochastic.json").is_file()


def test_older_runs_without_run_json_are_read_from_results(run_dir, tmp_path):
    old = tmp_path / "old"
    old.mkdir()
    for name in ("model.zip", "results.json", "vecnormalize.pkl"):
        (old / name).write_bytes((run_dir / name).read_bytes())
    run = read_run(old)
    assert run["env_kwargs"] == {"obs": "onehot"} and run["vecnormalize"] == "vecnormalize.pkl"
    assert evaluate_run(old, episodes=1)["episodes"] == 1


def test_bad_model_dirs_are_one_line_exit_2(run_dir, tmp_path, capsys):
    (tmp_path / "empty").mkdir()
    (tmp_path / "nomodel").mkdir()
    (tmp_path / "nomodel" / "run.json").write_text((run_dir / "run.json").read_text())
    cases = {
        tmp_path / "missing": "no such directory",
        tmp_path / "empty": "not a run directory",
        tmp_path / "nomodel": "no saved model",
    }
    for path, message in cases.items():
        assert main(["evaluate", "--model", str(path)]) == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and err.startswith("rlspectral evaluate: error:") and message in err, err
    with pytest.raises(SpectralError, match="episodes must be >= 1"):
        evaluate_run(run_dir, episodes=0)


@pytest.mark.slow
def test_untrained_spectral_features_warn_loudly(tmp_path, capsys):
    out = tmp_path / "untrained"
    argv = ["train", "--env", GOAL, "--features", "spectral", "--steps", "256", "--out", str(out), "--no-progress",
            "--threads", "1", "--n-envs", "2"]  # fmt: skip
    with pytest.warns(UntrainedSpectralWarning) as caught:
        assert main(argv) == 0
    messages = [str(w.message) for w in caught if issubclass(w.category, UntrainedSpectralWarning)]
    assert any("cannot reach the first spectral update" in m for m in messages)  # at the start
    assert any("never trained" in m for m in messages)  # and at the end
    err = capsys.readouterr().err
    assert "rlspectral train: warning: the spectral features were never trained" in err
    results = json.loads((out / "results.json").read_text())
    assert results["spectral_updates"] == 0
    assert main(["evaluate", "--model", str(out), "--episodes", "1"]) == 0
    assert json.loads((out / EVALUATION_FILE).read_text())["spectral_updates"] == 0


def test_evaluate_help_does_not_import_stable_baselines3():
    code = "import sys, argparse; from rlspectral.cli.evaluate import add_evaluate_arguments; "
    code += "add_evaluate_arguments(argparse.ArgumentParser()); print('stable_baselines3' in sys.modules)"
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert res.stdout.strip() == "False", res.stderr[-1000:]
