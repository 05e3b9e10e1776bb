"""Exploration peers from RLeXplore (rllte-core) as rollout-level bonuses.

Without rllte (CI): a fake ``rllte.xplore.reward`` module with the same constructor / watch / compute API checks the
plumbing exactly -- which transition lands in which buffer slot, terminal observations and episode flags at episode
ends, the private random stream -- and a missing rllte is a one-line error. With rllte (``.venv-peers``,
``scripts/setup_peers.sh``): E3B's elliptical bonus against its closed form, seeding of the real modules, and a tiny
PPO run per peer with the MiniGrid recipe.
"""

from __future__ import annotations

import sys
import types

import gymnasium as gym
import numpy as np
import pytest
import torch
from stable_baselines3 import DQN, PPO
from stable_baselines3.common.vec_env import DummyVecEnv

from rlspectral.errors import ConfigError, MissingDependencyError
from rlspectral.sb3 import (
    BONUSES,
    BonusReplayBuffer,
    BonusRolloutBuffer,
    E3BPeer,
    RE3Peer,
    RNDPeer,
    RolloutSamples,
    SpectralCallback,
    make_bonus,
)

PEER_NAMES = ("e3b", "re3", "rnd-rllte")


# ----------------------------------------------------------------------------- a fake rllte.xplore.reward
class FakeReward:
    """rllte's BaseReward API: ``(envs, device, beta, kappa, gamma, rwd_norm_type, obs_norm_type, ...)``, ``watch``
    per step, ``compute(samples, sync)`` over a rollout. Reward: next_obs[..., 0] + 10 terminated + 100 truncated
    (+ ``noise`` x torch.rand from the global generator), times beta. Its weights come from the global generator."""

    def __init__(self, envs, device="cpu", beta=1.0, kappa=0.0, gamma=None, rwd_norm_type="rms",
                 obs_norm_type="none", noise=0.0):  # fmt: skip
        self.n_envs, self.beta, self.noise = envs.unwrapped.num_envs, beta, noise
        self.obs_shape = envs.observation_space.shape
        self.kwargs = {"device": device, "kappa": kappa, "rwd_norm_type": rwd_norm_type, "obs_norm": obs_norm_type}
        self.net = torch.nn.Linear(self.obs_shape[0], 1)  # drawn from the global generator, like rllte's nn.init
        self.watched: list[tuple[torch.Size, ...]] = []

    def init_normalization(self):  # rllte would step the envs here
        raise AssertionError("the adapter must not step the envs")

    def watch(self, observations, actions, rewards, terminateds, truncateds, next_observations):
        self.watched.append((observations.shape, actions.shape, terminateds.shape, next_observations.shape))

    def compute(self, samples, sync=True):
        r = samples["next_observations"][..., 0] + 10 * samples["terminateds"] + 100 * samples["truncateds"]
        r = r + self.noise * torch.rand(r.shape) + 0 * self.net(samples["observations"])[..., 0].detach()
        return self.beta * r


class FakeRMSReward(FakeReward):
    def __init__(self, envs, obs_norm_type="rms", **kwargs):
        super().__init__(envs, obs_norm_type=obs_norm_type, **kwargs)
        self.init_normalization()  # like rllte's BaseReward when obs_norm_type == "rms"


@pytest.fixture
def fake_rllte(monkeypatch):
    module = types.ModuleType("rllte.xplore.reward")
    module.E3B, module.RE3, module.RND = FakeReward, FakeRMSReward, FakeReward
    monkeypatch.setitem(sys.modules, "rllte.xplore.reward", module)
    return module


class Counter(gym.Env):
    """obs = (steps into the episode, 0); terminated after ``length`` steps; reward 0."""

    observation_space = gym.spaces.Box(0.0, 100.0, (2,), np.float32)
    action_space = gym.spaces.Discrete(2)

    def __init__(self, length: int):
        self.length, self.t = length, 0

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        self.t = 0
        return np.array([0.0, 0.0], np.float32), {}

    def step(self, action):
        self.t += 1
        return np.array([self.t, 0.0], np.float32), 0.0, self.t >= self.length, False, {}


def _counter_ppo(bonus, n_steps: int = 8) -> PPO:
    env = DummyVecEnv([lambda: Counter(3), lambda: gym.wrappers.TimeLimit(Counter(99), max_episode_steps=4)])
    model = PPO("MlpPolicy", env, n_steps=n_steps, batch_size=n_steps * 2, n_epochs=1, seed=0, device="cpu",
                rollout_buffer_class=BonusRolloutBuffer, gamma=0.0)  # fmt: skip
    model.learn(n_steps * 2, callback=SpectralCallback(bonus=bonus))
    return model


# ----------------------------------------------------------------------------- without rllte
def test_peers_are_registered_bonuses():
    assert tuple(BONUSES)[-3:] == PEER_NAMES
    assert all(BONUSES[n].per_rollout and not BONUSES[n].needs_features for n in PEER_NAMES)
    assert (E3BPeer.module_class, RE3Peer.module_class, RNDPeer.module_class) == ("E3B", "RE3", "RND")


def test_missing_rllte_is_a_one_line_error(monkeypatch, tmp_path, capsys):
    monkeypatch.setitem(sys.modules, "rllte.xplore.reward", None)  # import fails, as without rllte-core
    with pytest.raises(MissingDependencyError, match="scripts/setup_peers.sh") as err:
        make_bonus("e3b")
    assert "\n" not in str(err.value)
    from rlspectral.cli.main import main

    code = main(["train", "--env", "MiniGrid-Empty-5x5-v0", "--bonus", "re3", "--steps", "10", "--out",
                 str(tmp_path), "--no-progress"])  # fmt: skip
    out = capsys.readouterr().err
    assert code == 2 and "rllte-core" in out and out.count("\n") == 1, out


def test_rollout_bonus_fills_the_right_slots(fake_rllte):
    """Env 0 terminates every 3 steps, env 1 is truncated every 4: the bonus of each transition sees its own next
    observation (the terminal one at episode ends, not the reset one) and flags, and enters the rewards before GAE."""
    bonus = make_bonus("e3b", coef=2.0)
    model = _counter_ppo(bonus)
    buf = model.rollout_buffer
    steps = np.arange(8)
    expected = np.stack([steps % 3 + 1 + 10 * (steps % 3 == 2), steps % 4 + 1 + 100 * (steps % 4 == 3)], 1)
    np.testing.assert_allclose(buf.intrinsic, 2.0 * expected)
    np.testing.assert_allclose(buf.terminateds[:, 0], steps % 3 == 2)
    np.testing.assert_allclose(buf.truncateds[:, 1], steps % 4 == 3)
    assert not buf.truncateds[:, 0].any() and not buf.terminateds[:, 1].any()
    np.testing.assert_allclose(buf.next_observations[:, 0, 0], steps % 3 + 1)  # terminal observation 3 at the end
    # rewards = extrinsic + intrinsic; with gamma = 0 the returns are the rewards
    np.testing.assert_allclose(buf.rewards, buf.extrinsic + buf.intrinsic)
    returns = buf.returns.reshape(2, 8).T  # PPO's training pass flattened the buffer env by env
    np.testing.assert_allclose(returns, buf.rewards, rtol=1e-5, atol=1e-5)
    module = bonus.module
    assert module.kwargs == {"device": "cpu", "kappa": 0.0, "rwd_norm_type": "rms", "obs_norm": "none"}
    assert len(module.watched) == 8 and module.watched[0] == ((2, 2), (2, 1), (2,), (2, 2))  # one per step


def test_rms_modules_skip_the_env_warmup_and_normalize_false_means_none(fake_rllte):
    bonus = make_bonus("re3", coef=1.0, normalize=False)
    model = _counter_ppo(bonus)
    assert bonus.module.kwargs["obs_norm"] == "rms" and bonus.module.kwargs["rwd_norm_type"] == "none"
    assert isinstance(bonus.module, FakeRMSReward) and model.rollout_buffer.intrinsic.max() == 104.0


def test_the_private_stream_gives_seeded_rewards_and_leaves_the_global_rng_alone(fake_rllte):
    samples = RolloutSamples(*(torch.zeros(4, 2, *s) for s in [(2,), (1,), (), (), (), (2,)]))
    space = gym.spaces.Box(0.0, 1.0, (2,), np.float32)

    def rewards(seed: int) -> np.ndarray:
        bonus = make_bonus("rnd-rllte", seed=seed, noise=1.0)
        bonus.setup(space, gym.spaces.Discrete(2), 2, "cpu")
        return np.concatenate([bonus.rollout_rewards(samples) for _ in range(2)])

    torch.manual_seed(7)
    before = torch.random.get_rng_state()
    a, b, c = rewards(3), rewards(3), rewards(4)
    assert torch.equal(torch.random.get_rng_state(), before)
    np.testing.assert_array_equal(a, b)
    assert not np.allclose(a, c) and not np.allclose(a[:4], a[4:])  # the stream advances between rollouts


def test_rollout_bonuses_are_on_policy_only(fake_rllte):
    env = DummyVecEnv([lambda: Counter(3)])
    model = DQN("MlpPolicy", env, replay_buffer_class=BonusReplayBuffer, learning_starts=0, device="cpu")
    with pytest.raises(ConfigError, match="ppo or a2c"):
        model.learn(4, callback=SpectralCallback(bonus=make_bonus("e3b")))
    with pytest.raises(Exception, match="whole rollouts"):
        make_bonus("e3b")(torch.zeros(1, 2), torch.zeros(1, 2))


# ----------------------------------------------------------------------------- with rllte-core
@pytest.fixture
def rllte():
    return pytest.importorskip("rllte.xplore.reward")


def _samples(rng: np.random.Generator, t: int = 16, n: int = 2, d: int = 6) -> RolloutSamples:
    obs = torch.as_tensor(rng.normal(size=(t, n, d)), dtype=torch.float32)
    nxt = torch.as_tensor(rng.normal(size=(t, n, d)), dtype=torch.float32)
    act = torch.as_tensor(rng.integers(0, 3, (t, n, 1)), dtype=torch.float32)
    zeros = torch.zeros(t, n)
    return RolloutSamples(obs, act, zeros, zeros, zeros, nxt)


def test_e3b_is_the_elliptical_bonus_reset_at_episode_ends(rllte):
    """One observation repeated within an episode: b_k = b_0 / (1 + k b_0) with b_0 = ||phi||^2 / ridge (C = ridge I
    + k phi phi^T), back to b_0 after the episode ends; unnormalized, coef 1."""
    bonus = E3BPeer(coef=1.0, normalize=False, seed=0, latent_dim=8, ridge=0.1)
    bonus.setup(gym.spaces.Box(-5.0, 5.0, (6,), np.float32), gym.spaces.Discrete(3), 1, "cpu")
    x = torch.ones(6)
    samples = _samples(np.random.default_rng(0), t=6, n=1)
    obs = x.expand(6, 1, 6).clone()
    terminated = torch.zeros(6, 1)
    terminated[3] = 1.0  # the 4th transition ends the episode
    samples = samples._replace(observations=obs, terminateds=terminated)
    with torch.no_grad():
        b0 = float(bonus.module.encoder(x[None]).pow(2).sum()) / 0.1  # encoder before this rollout's update
    r = bonus.rollout_rewards(samples)[:, 0]
    expected = [b0 / (1 + k * b0) for k in (0, 1, 2, 3)] + [b0 / (1 + k * b0) for k in (0, 1)]
    np.testing.assert_allclose(r, expected, rtol=1e-4)


@pytest.mark.parametrize("name", PEER_NAMES)
def test_real_peers_are_seeded_and_leave_the_global_rng_alone(rllte, name):
    space, actions = gym.spaces.Box(-5.0, 5.0, (6,), np.float32), gym.spaces.Discrete(3)

    def rewards(seed: int) -> np.ndarray:
        bonus = make_bonus(name, seed=seed, latent_dim=16, **({} if name == "re3" else {"batch_size": 8}))
        bonus.setup(space, actions, 2, "cpu")
        rng = np.random.default_rng(0)  # the same data for every seed
        return np.concatenate([bonus.rollout_rewards(_samples(rng)) for _ in range(2)])

    torch.manual_seed(11)
    before = torch.random.get_rng_state()
    a, b, c = rewards(1), rewards(1), rewards(2)
    assert torch.equal(torch.random.get_rng_state(), before)
    assert a.shape == (32, 2) and np.isfinite(a).all()
    np.testing.assert_array_equal(a, b)
    assert not np.allclose(a, c)


@pytest.mark.parametrize("name", PEER_NAMES)
def test_tiny_ppo_run_with_each_peer_on_minigrid(rllte, name, tmp_path):
    from stable_baselines3.common.callbacks import BaseCallback

    from rlspectral.agents import train

    class Intrinsic(BaseCallback):
        def _on_step(self) -> bool:
            return True

        def _on_rollout_end(self) -> None:  # after returns: the buffer holds this rollout's bonus
            self.rewards = self.model.rollout_buffer.intrinsic.copy()

    seen = Intrinsic()
    res = train("MiniGrid-Empty-5x5-v0", "ppo", "raw", name, steps=512, seed=0, out=tmp_path, progress=False,
                threads=1, n_envs=2, eval_every=10**6, eval_episodes=1, callbacks=[seen])  # fmt: skip
    assert res["steps"] == 512 and res["config"]["bonus_kwargs"]["coef"] == BONUSES_COEF[name]
    assert seen.rewards.shape == (256, 2) and np.isfinite(seen.rewards).all() and seen.rewards.std() > 0
    model = PPO.load(tmp_path / "model.zip")
    assert model.num_timesteps == 512


BONUSES_COEF = {"e3b": 1.0, "re3": 1.0, "rnd-rllte": 1.0}


@pytest.mark.parametrize("name", ["re3", "rnd-rllte"])
def test_the_first_rollout_initializes_rllte_observation_statistics(rllte, name):
    """rllte would step the envs with random actions to initialize its "rms" statistics; the first rollout does."""
    bonus = make_bonus(name, seed=0, latent_dim=8)
    bonus.setup(gym.spaces.Box(-5.0, 5.0, (6,), np.float32), gym.spaces.Discrete(3), 2, "cpu")
    samples = _samples(np.random.default_rng(1))
    samples = samples._replace(observations=samples.observations * 3.0 + 2.0)
    bonus.rollout_rewards(samples)
    obs = samples.observations.flatten(0, 1)
    torch.testing.assert_close(bonus.module.obs_norm.mean, obs.mean(0), rtol=1e-3, atol=1e-3)
    torch.testing.assert_close(bonus.module.obs_norm.var, obs.var(0), rtol=0.1, atol=0.1)
