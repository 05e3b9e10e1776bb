"""Agent recipes: ``train`` writes model, logs, results and a learning curve; ``rlspectral train`` flags and
one-line errors (exit code 2)."""

import argparse
import json
import subprocess
import sys

import pytest
import torch
from stable_baselines3 import DQN, PPO

from rlspectral.agents import RECIPES, recipe, train
from rlspectral.agents.train import ALGO_NAMES, BONUS_NAMES
from rlspectral.cli.train import add_train_arguments, run_train
from rlspectral.sb3 import BONUSES

QUICK = {  # a CI-sized schedule
    "eval_every": 512,
    "eval_episodes": 2,
    "callback": {"train_freq": 256, "gradient_steps": 5, "learning_starts": 256, "batch_size": 256},
    "progress": False,
    "threads": 1,
}


def parse(*argv):
    parser = argparse.ArgumentParser()
    add_train_arguments(parser)
    return parser.parse_args(list(argv))


def test_train_goal_gridworld_writes_results(tmp_path):
    res = train(
        "rlspectral/GridRoomSmall-1-Goal-v0", "ppo", "both", "novelty", steps=1024, seed=1, out=tmp_path, **QUICK
    )
    for name in ("model.zip", "results.json", "learning_curve.png", "spectral.pt"):
        assert (tmp_path / name).is_file(), name
    assert any((tmp_path / "tb").rglob("events.out.tfevents.*"))
    saved = json.loads((tmp_path / "results.json").read_text())
    assert saved["steps"] == 1024 and saved["config"]["steps"] == 1024 and saved["wall_time_s"] > 0
    assert [e["timesteps"] for e in saved["evaluations"]] == [512, 1024]
    assert all(e["success_rate"] is not None for e in saved["evaluations"])  # the goal env reports is_success
    assert saved["config"]["env_kwargs"] == {"obs": "onehot"} and saved["config"]["mode"] == "frozen"
    assert res["spectral"]["updates"] in (5, 10, 15, 20)  # rounds wait until the first episodes have ended
    model = PPO.load(tmp_path / "model.zip")  # reloads with no callback and no checkpoint
    assert model.policy.features_extractor.eigen.is_loaded


def test_train_continuous_with_overrides(tmp_path):
    res = train("Pendulum-v1", "sac", "spectral", "eigenpurpose", steps=300, out=tmp_path, learning_starts=100,
                spectral={"hidden": [16]}, bonus_kwargs={"coef": 0.01}, **QUICK)  # fmt: skip
    cfg = res["config"]
    assert cfg["algo"]["learning_starts"] == 100  # an unknown key goes to the SB3 algorithm
    assert cfg["spectral"]["hidden"] == [16] and cfg["spectral"]["k"] == 8  # dict keys merge into the recipe
    assert cfg["bonus_kwargs"] == {"coef": 0.01, "normalize": True}
    assert res["final"]["success_rate"] is None  # Pendulum reports no success


def test_run_train_cli(tmp_path, capsys):
    args = parse("--env", "rlspectral/GridRoomSmall-1-v0", "--algo", "dqn", "--features", "spectral", "--steps",
                 "300", "--out", str(tmp_path), "--no-progress", "--threads", "1", "--mode", "finetune",
                 "--obs", "xy")  # fmt: skip
    assert run_train(args) == 0
    assert "dqn on rlspectral/GridRoomSmall-1-v0" in capsys.readouterr().out
    cfg = json.loads((tmp_path / "results.json").read_text())["config"]
    assert cfg["mode"] == "finetune" and cfg["env_kwargs"]["obs"] == "xy"
    assert cfg["spectral"]["fourier_features"] == 64  # (x, y) input: the recipe's Fourier-feature MLP


def test_train_with_pretrained_checkpoint_keeps_it_fixed(tmp_path):
    from rlspectral import LearnerConfig, SpectralLearner

    learner = SpectralLearner(LearnerConfig(obs_shape=(36,), k=4, hidden=()))
    x = torch.eye(36)
    learner.update(x, x.roll(1, 0))
    path = learner.save(tmp_path / "pretrained.pt")
    res = train("rlspectral/GridRoomSmall-1-v0", "dqn", "spectral", "eigenpurpose", steps=300, out=tmp_path / "run",
                checkpoint=str(path), **QUICK)  # fmt: skip
    assert res["spectral"]["updates"] == learner.step  # no online learning on top of the checkpoint
    model = DQN.load(tmp_path / "run" / "model.zip")
    torch.testing.assert_close(model.q_net.features_extractor(x), learner.eigenfunctions(x)[1])


@pytest.mark.parametrize(
    "argv, message",
    [
        (["--env", "NoSuchEnv-v0"], "unknown environment"),
        (["--env", "FrozenLake-v1", "--features", "spectral"], "Discrete observations are not supported"),
        (["--env", "rlspectral/GridRoomSmall-1-v0", "--algo", "sac"], "sac needs continuous"),
        (["--env", "rlspectral/GridRoomSmall-1-v0", "--bonus", "goal"], "goal-reaching env"),
    ],
)
def test_run_train_errors_are_one_line_exit_2(argv, message, tmp_path, capsys):
    assert run_train(parse(*argv, "--steps", "10", "--out", str(tmp_path), "--no-progress")) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1, err


def test_recipes_are_consistent():
    assert BONUS_NAMES == tuple(BONUSES)
    assert {algo for algo, _ in RECIPES} <= set(ALGO_NAMES)
    r = recipe("ppo", "rlspectral/GridRoom-4-Goal-v0")
    assert r["n_envs"] == 8 and r["spectral"]["hidden"] == [] and r["env_kwargs"] == {"obs": "onehot"}
    r["spectral"]["k"] = 99  # recipes are copies: editing one never changes the table
    assert recipe("ppo", "rlspectral/GridRoom-4-Goal-v0")["spectral"]["k"] == 8
    assert recipe("ppo", "SomeOther-v0")["algo"] == {}  # no entry: SB3 defaults


def test_help_does_not_import_stable_baselines3():
    code = "import sys, argparse; from rlspectral.cli.train import add_train_arguments; "
    code += "add_train_arguments(argparse.ArgumentParser()); print('stable_baselines3' in sys.modules)"
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert res.stdout.strip() == "False", res.stderr[-1000:]


@pytest.fixture(autouse=True)
def _restore_threads():
    n = torch.get_num_threads()
    yield
    torch.set_num_threads(n)
