"""Random Network Distillation: the reward falls on what was seen and stays high on what was not; it needs no
eigenfunctions, so the callback runs it with no learner, on-policy (rollout buffer) and off-policy (replay)."""

import pickle

import numpy as np
import torch
from stable_baselines3 import DQN, PPO
from stable_baselines3.common.env_util import make_vec_env

import rlspectral.envs  # noqa: F401 - registers rlspectral/<Layout>-v0
from rlspectral.sb3 import (
    BONUSES,
    BonusReplayBuffer,
    BonusRolloutBuffer,
    RNDBonus,
    SpectralCallback,
    make_bonus,
)


def test_rnd_is_registered_and_needs_no_features():
    bonus = make_bonus("rnd", coef=0.5, lr=1e-3)
    assert isinstance(bonus, RNDBonus) and BONUSES["rnd"] is RNDBonus and bonus.coef == 0.5
    assert bonus.needs_features is False and bonus.features is None and not bonus.ready
    assert torch.equal(bonus(torch.zeros(3, 4), torch.zeros(3, 4)), torch.zeros(3))  # 0 before any observation


def test_rnd_reward_falls_on_familiar_observations_and_stays_high_on_novel_ones():
    rng = np.random.default_rng(0)
    familiar = torch.as_tensor(rng.integers(0, 2, (16, 40)), dtype=torch.float32)
    novel = torch.as_tensor(rng.integers(0, 2, (16, 40)), dtype=torch.float32)
    bonus = RNDBonus(coef=1.0, normalize=False, hidden=(64, 64), out_dim=16, lr=1e-3, batch_size=32, warmup=16)
    bonus.observe(familiar)  # statistics and networks from the familiar states only
    before_fam = bonus(familiar, familiar).mean().item()
    before_new = bonus(novel, novel).mean().item()
    for _ in range(300):  # 150 predictor steps on the familiar states
        bonus.observe(familiar)
    after_fam = bonus(familiar, familiar).mean().item()
    after_new = bonus(novel, novel).mean().item()
    assert bonus.updates == 150 and bonus.ready
    assert after_fam < 0.05 * before_fam  # learned what it saw ...
    assert after_new > 0.3 * before_new and after_new > 20 * after_fam  # ... and nothing else
    # one reward per transition, from s' only; the normalized version keeps the ranking
    assert bonus(novel, familiar).shape == (16,) and torch.allclose(bonus(novel, familiar), bonus(familiar, familiar))
    clone = pickle.loads(pickle.dumps(bonus))  # SB3 may copy or pickle what holds the bonus
    assert torch.allclose(clone(novel, novel), bonus(novel, novel))


def test_update_proportion_subsamples_the_predictor_data():
    x = torch.rand(64, 8)
    full = RNDBonus(batch_size=16, update_proportion=1.0)
    quarter = RNDBonus(batch_size=16, update_proportion=0.25)
    for _ in range(8):
        full.observe(x)
        quarter.observe(x)
    assert full.updates == 32 and 4 <= quarter.updates <= 12 and quarter.seen == full.seen == 512


def test_callback_runs_rnd_with_no_learner_on_policy():
    env = make_vec_env("rlspectral/GridRoomSmall-1-v0", n_envs=2, seed=0, env_kwargs={"obs": "onehot"})
    model = PPO("MlpPolicy", env, n_steps=64, batch_size=64, n_epochs=1, rollout_buffer_class=BonusRolloutBuffer,
                seed=0, policy_kwargs={"net_arch": [16]})  # fmt: skip
    bonus = RNDBonus(coef=0.1, hidden=(32,), batch_size=32, warmup=32)
    cb = SpectralCallback(bonus=bonus, train_freq=64)
    model.learn(256, callback=cb)
    assert cb.learner is None and cb.stream is None  # no spectral learning at all
    assert bonus.seen == 256 and bonus.updates == 8
    assert np.all(model.rollout_buffer.intrinsic > 0)  # past warmup: every step earns a positive bonus
    model.learn(128, callback=cb, reset_num_timesteps=False)  # a second learn() keeps the same bonus state
    assert bonus.seen == 384


def test_callback_runs_rnd_with_no_learner_off_policy():
    env = make_vec_env("rlspectral/GridRoomSmall-1-v0", n_envs=1, seed=0, env_kwargs={"obs": "onehot"})
    model = DQN("MlpPolicy", env, learning_starts=64, buffer_size=1000, batch_size=32, train_freq=4,
                replay_buffer_class=BonusReplayBuffer, seed=0, policy_kwargs={"net_arch": [16]})  # fmt: skip
    bonus = RNDBonus(coef=0.1, hidden=(32,), batch_size=32, warmup=32)
    cb = SpectralCallback(bonus=bonus)
    model.learn(200, callback=cb)
    assert cb.learner is None and model.replay_buffer.intrinsic is bonus
    assert model.replay_buffer.last_intrinsic_mean > 0  # added at sample time
