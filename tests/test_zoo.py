"""RL Zoo integration: ``rl_zoo3.train`` with the example Python hyperparameters file trains a PPO agent on an
``rlspectral/*`` id with online-learned spectral features (no ``__import__`` tricks)."""

import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest

from rlspectral.sb3.zoo import SPECTRAL_CALLBACK, zoo_hyperparams

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "zoo" / "spectral_ppo.py"
ENV = "rlspectral/GridRoom-4-Goal-v0"


def test_zoo_hyperparams_entries():
    entry = zoo_hyperparams({"k": 4, "hidden": []}, 1000, schedule={"train_freq": 10}, n_envs=2)
    assert entry["n_timesteps"] == 1000 and entry["n_envs"] == 2 and entry["policy"] == "MlpPolicy"
    assert entry["policy_kwargs"]["features_extractor_kwargs"]["learner"] == {"k": 4, "hidden": []}
    assert entry["callback"] == [{SPECTRAL_CALLBACK: {"train_freq": 10}}]
    namespace: dict = {}
    exec(EXAMPLE.read_text(), namespace)  # what rl_zoo3 does with -conf file.py
    assert ENV in namespace["hyperparams"]


@pytest.mark.slow
@pytest.mark.skipif(importlib.util.find_spec("rl_zoo3") is None, reason="rl_zoo3 not installed (the zoo extra)")
def test_rl_zoo3_trains_with_the_spectral_extractor(tmp_path):
    from stable_baselines3 import PPO

    from rlspectral.sb3 import SpectralFeaturesExtractor

    quick = "[{'rlspectral.sb3.SpectralCallback': dict(learning_starts=64, train_freq=64, gradient_steps=2, batch_size=64)}]"  # noqa: E501
    cmd = [sys.executable, "-m", "rl_zoo3.train", "--algo", "ppo", "--env", ENV, "--gym-packages", "rlspectral",
           "--env-kwargs", "obs:'onehot'", "-conf", str(EXAMPLE), "-n", "256", "-f", str(tmp_path / "logs"),
           "--seed", "0", "--eval-freq", "-1", "--log-interval", "-1", "--num-threads", "1", "--verbose", "0",
           "-params", "n_envs:2", "n_steps:64", "batch_size:64", f"callback:{quick}"]  # fmt: skip
    res = subprocess.run(cmd, capture_output=True, text=True, timeout=300, cwd=tmp_path)
    assert res.returncode == 0, res.stderr[-3000:]
    assert "UntrainedSpectralWarning" not in res.stderr  # the spectral updates ran
    (path,) = (tmp_path / "logs" / "ppo").glob("*/rlspectral-GridRoom-4-Goal-v0.zip")
    model = PPO.load(path)
    assert isinstance(model.policy.features_extractor, SpectralFeaturesExtractor)
    assert model.policy.features_extractor.eigen.is_loaded  # the online eigenfunctions reached the policy
    assert model.observation_space.shape[0] > 2 and model.num_timesteps == 256  # one-hot cells, -n honoured
