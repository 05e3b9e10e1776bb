"""SB3 plugin: every algorithm trains with the extractor and the callback, and each SB3 trap has its test
(ortho_init, separate SAC/TD3 extractors, VecNormalize dropping bonuses, pickled policy_kwargs)."""

import csv
import subprocess
import sys
import textwrap

import gymnasium as gym
import numpy as np
import pytest
import torch
from stable_baselines3 import A2C, DQN, PPO, SAC, TD3
from stable_baselines3.common.callbacks import BaseCallback
from stable_baselines3.common.env_util import make_vec_env
from stable_baselines3.common.logger import configure
from stable_baselines3.common.vec_env import VecNormalize

from rlspectral import CheckpointError, LearnerConfig, SpectralLearner
from rlspectral.buffer import EpisodicBuffer
from rlspectral.sb3 import (
    BonusReplayBuffer,
    BonusRolloutBuffer,
    EigenFeatures,
    EigenpurposeBonus,
    EllipticalBonus,
    EpisodeStream,
    GoalBonus,
    IntrinsicReward,
    NoveltyBonus,
    ObservationSpaceError,
    SpectralCallback,
    SpectralFeaturesExtractor,
    spectral_policy_kwargs,
)

GRID = "rlspectral/GridRoomSmall-1-v0"  # 36 free cells, reward always 0 (no goal)
ONEHOT = {"obs": "onehot"}


@pytest.fixture(autouse=True)
def _one_thread():
    torch.set_num_threads(1)


def grid_env(n_envs=2, seed=0, **kwargs):
    return make_vec_env(GRID, n_envs=n_envs, seed=seed, env_kwargs={**ONEHOT, **kwargs})


def pendulum_env(seed=0):
    return make_vec_env("Pendulum-v1", n_envs=1, seed=seed)


def make_checkpoint(path, obs_shape, hidden=(), k=4):
    """A learner with a few updates on random pairs: the weights only need to be distinctive."""
    learner = SpectralLearner(LearnerConfig(obs_shape=obs_shape, k=k, hidden=hidden, lr=1e-2, seed=3))
    x = torch.rand(256, *obs_shape)
    for _ in range(3):
        learner.update(x, x.roll(1, 0))
    return learner, learner.save(path)


ALGOS = {
    "ppo": (PPO, grid_env, {"n_steps": 64, "batch_size": 64, "n_epochs": 2}),
    "a2c": (A2C, grid_env, {"n_steps": 8}),
    "dqn": (DQN, grid_env, {"learning_starts": 100, "train_freq": 4}),
    "sac": (SAC, pendulum_env, {"learning_starts": 100, "policy_kwargs": {"net_arch": [32, 32]}}),
    "td3": (TD3, pendulum_env, {"learning_starts": 100, "policy_kwargs": {"net_arch": [32, 32]}}),
}
N_EXTRACTORS = {"ppo": 1, "a2c": 1, "dqn": 2, "sac": 3, "td3": 4}


def build(algo, policy_kwargs_extra=None, bonus=False, **kw):
    cls, make_env, defaults = ALGOS[algo]
    env = make_env()
    kwargs = {**defaults, **kw}
    extra = {**kwargs.pop("policy_kwargs", {}), **(policy_kwargs_extra or {})}
    if bonus:
        key = "replay_buffer_class" if algo in ("dqn", "sac", "td3") else "rollout_buffer_class"
        kwargs[key] = BonusReplayBuffer if key == "replay_buffer_class" else BonusRolloutBuffer
    return cls("MlpPolicy", env, seed=0, policy_kwargs=extra, **kwargs)


# --------------------------------------------------------------------------- all algorithms
@pytest.mark.parametrize("algo", list(ALGOS))
def test_trains_with_extractor_and_callback(algo, tmp_path):
    hidden = [] if algo in ("ppo", "a2c", "dqn") else [32]
    pk = spectral_policy_kwargs(learner={"k": 4, "hidden": hidden}, concat=algo == "ppo")
    model = build(algo, pk, bonus=True)
    model.set_logger(configure(str(tmp_path), ["csv"]))
    cb = SpectralCallback(train_freq=100, gradient_steps=5, learning_starts=100, batch_size=256, bonus=NoveltyBonus())
    model.learn(400, callback=cb)
    model.logger.dump(model.num_timesteps)

    assert cb.learner.step >= 5 * 3
    exts = cb.extractors
    assert len(exts) == N_EXTRACTORS[algo]  # SAC: actor, critic, critic target; TD3: + actor target
    obs = torch.as_tensor(np.stack([model.observation_space.sample() for _ in range(16)]))
    by_mode = torch.empty(16, 4)  # the bonus features, columns back in the network's mode index order
    by_mode[:, cb.features.order] = cb.features(obs)
    for ext in exts:  # every copy holds the learner's latest eigenfunctions, bit for bit, in its own fixed order
        assert ext.eigen.is_loaded
        assert torch.equal(ext(obs)[:, :4], by_mode[:, ext.eigen.order])
        assert torch.equal(ext.eigen.order, exts[0].eigen.order)
    with open(tmp_path / "progress.csv") as f:
        columns = set(next(csv.reader(f)))
    assert {"spectral/loss", "spectral/eigenvalue_00", "intrinsic/reward_mean"} <= columns
    if algo in ("ppo", "a2c", "dqn"):  # 50-step gridworld episodes ended: returns logged, intrinsic apart
        assert {"intrinsic/ep_return_mean", "extrinsic/ep_return_mean"} <= columns


# --------------------------------------------------------------------------- frozen / finetune / ortho_init
@pytest.mark.parametrize("algo", ["ppo", "dqn", "sac"])
def test_frozen_features_stay_bit_identical(algo, tmp_path):
    shape = (36,) if algo != "sac" else (3,)
    learner, path = make_checkpoint(tmp_path / "f.pt", shape, hidden=(16,))
    model = build(algo, spectral_policy_kwargs(checkpoint=path, mode="frozen"), learning_rate=1e-2)
    exts = [m for m in model.policy.modules() if isinstance(m, SpectralFeaturesExtractor)]
    before = [{k: v.clone() for k, v in e.state_dict().items()} for e in exts]
    x = torch.rand(32, *shape)
    _, phi = learner.eigenfunctions(x)
    torch.testing.assert_close(exts[0](x), phi)  # the checkpoint's normalized, sorted eigenfunctions
    model.learn(300)
    for e, b in zip(exts, before):
        after = e.state_dict()
        assert all(torch.equal(after[k], b[k]) for k in b)
        assert not any(p.requires_grad for p in e.parameters())  # invisible to optimizers and Polyak updates


@pytest.mark.parametrize("algo", ["ppo", "sac"])
def test_finetune_changes_features(algo, tmp_path):
    shape = (36,) if algo != "sac" else (3,)
    _, path = make_checkpoint(tmp_path / "f.pt", shape, hidden=(16,))
    model = build(algo, spectral_policy_kwargs(checkpoint=path, mode="finetune"), learning_rate=1e-2)
    ext = model.policy.actor.features_extractor if algo == "sac" else model.policy.features_extractor
    x = torch.rand(32, *shape)
    before = ext(x).detach().clone()
    model.learn(300)
    assert not torch.allclose(ext(x), before)


@pytest.mark.parametrize("mode", ["frozen", "finetune"])
@pytest.mark.parametrize("algo", ["ppo", "a2c"])
def test_ortho_init_keeps_pretrained_weights(algo, mode, tmp_path):
    learner, path = make_checkpoint(tmp_path / "f.pt", (36,), hidden=(16,))
    model = build(algo, spectral_policy_kwargs(checkpoint=path, mode=mode, ortho_init=True))
    net = model.policy.features_extractor.eigen.net
    for key, value in learner.f.state_dict().items():
        assert torch.equal(net.state_dict()[key], value), key
    # ortho_init did run on the rest of the policy: the action head has SB3's tiny gain 0.01
    assert model.policy.action_net.weight.abs().max() < 0.05


# --------------------------------------------------------------------------- VecNormalize and intrinsic rewards
class ConstantBonus(IntrinsicReward):
    """A bonus that only itself can explain: every transition gets ``coef``."""

    name = "constant"

    @property
    def ready(self) -> bool:
        return True

    def reward(self, obs, next_obs):
        return torch.ones(len(obs))


def test_vecnormalize_off_policy_bonus_reaches_update():
    env = VecNormalize(grid_env(), norm_obs=True, norm_reward=True)
    model = DQN("MlpPolicy", env, seed=0, learning_starts=100, train_freq=4, replay_buffer_class=BonusReplayBuffer)
    cb = SpectralCallback(learner={"k": 4, "hidden": []}, train_freq=100, gradient_steps=2, learning_starts=100,
                          batch_size=128, bonus=ConstantBonus(coef=0.5, normalize=False))  # fmt: skip
    seen = []
    sample = model.replay_buffer.sample

    def recording_sample(*args, **kwargs):
        batch = sample(*args, **kwargs)
        seen.append(batch.rewards.clone())
        return batch

    model.replay_buffer.sample = recording_sample  # what DQN.train feeds its TD targets
    model.learn(300, callback=cb)
    assert seen, "DQN never sampled"
    rewards = torch.cat(seen)
    assert torch.equal(rewards, torch.full_like(rewards, 0.5))  # env reward is 0: all of it is the bonus
    assert np.all(model.replay_buffer.rewards[: model.replay_buffer.pos] == 0)  # the stored reward stays extrinsic
    # The spectral buffer keeps what the env emitted (one-hot rows; terminal ones are un-normalized, as SB3 does)
    # and normalizes like the policy when sampling.
    n = len(cb.buffer)
    rows = cb.buffer.obs[:n][torch.from_numpy(cb.buffer.room[:n] > 0)]
    assert torch.equal(rows.sum(1), torch.ones(len(rows))) and set(rows.unique().tolist()) == {0.0, 1.0}
    x, _ = cb._sample(8)
    assert not torch.allclose(x.sum(1), torch.ones(8))


@pytest.mark.parametrize("algo", ["ppo", "a2c"])
def test_vecnormalize_on_policy_bonus_reaches_returns(algo):
    env = VecNormalize(grid_env(), norm_obs=True, norm_reward=True)
    cls, _, defaults = ALGOS[algo]
    model = cls("MlpPolicy", env, seed=0, gamma=0.0, rollout_buffer_class=BonusRolloutBuffer, **defaults)
    cb = SpectralCallback(learner={"k": 4, "hidden": []}, train_freq=100, gradient_steps=2, learning_starts=100,
                          batch_size=128, bonus=ConstantBonus(coef=0.5, normalize=False))  # fmt: skip
    model.learn(200, callback=cb)
    buf = model.rollout_buffer
    assert np.all(buf.extrinsic == 0) and np.all(buf.intrinsic == 0.5)
    np.testing.assert_allclose(buf.rewards, 0.5)
    np.testing.assert_allclose(buf.returns, 0.5, atol=1e-6)  # gamma = 0: the return is the reward


def test_bonus_without_bonus_buffer_is_one_line_error():
    model = DQN("MlpPolicy", grid_env(), seed=0)
    cb = SpectralCallback(learner={"k": 4, "hidden": []}, bonus=NoveltyBonus())
    with pytest.raises(ValueError, match="replay_buffer_class=BonusReplayBuffer") as e:
        model.learn(10, callback=cb)
    assert "\n" not in str(e.value)


def linear_features():
    """phi(x) = x[:, :2] (one-hot inputs, identity weights, unit norms)."""
    features = EigenFeatures(LearnerConfig(obs_shape=(3,), k=2, hidden=()))
    features.net.body.body[0].weight.copy_(torch.eye(2, 3))
    features.net.body.body[0].bias.zero_()
    features.loaded.fill_(True)
    return features


def test_bonus_definitions():
    eye = torch.eye(3)
    s, s_next = eye[[0, 1, 2]], eye[[1, 1, 0]]
    purpose = EigenpurposeBonus(mode=1, coef=2.0, normalize=False)
    purpose.features = linear_features()
    np.testing.assert_allclose(purpose(s, s_next), 2.0 * (s_next[:, 1] - s[:, 1]))
    goal = GoalBonus(goal=[1.0, 0.0, 0.0], coef=1.0, normalize=False)
    goal.features = linear_features()
    np.testing.assert_allclose(goal(s, s_next), [-np.sqrt(2), -np.sqrt(2), 0.0], atol=1e-6)
    novelty = NoveltyBonus(memory=4, neighbors=1, coef=1.0, normalize=False)
    novelty.features = linear_features()
    novelty.observe(eye[[0, 0, 0]])
    np.testing.assert_allclose(novelty(s, eye[[0, 1, 2]]), [0.0, np.sqrt(2), 1.0], atol=1e-6)  # visited: 0
    normalized = EigenpurposeBonus(mode=0, coef=1.0, normalize=True)
    normalized.features = linear_features()
    rng = torch.Generator().manual_seed(0)
    for _ in range(20):
        x = torch.rand(64, 3, generator=rng) * 10
        r = normalized(x, x.flip(0))
    assert 0.5 < float(r.std()) < 2.0  # running std brings a scale-10 reward to unit scale
    assert not EigenpurposeBonus().ready  # no features yet: the bonus is 0
    np.testing.assert_array_equal(EigenpurposeBonus()(s, s_next), 0)


def test_elliptical_bonus_is_e3b_quadratic_form_per_env_and_episode():
    """r_t = u^T (ridge I + sum of u u^T over the episode's states so far, its first included)^{-1} u with
    u = phi(s'), per env, restarted from the new first state at done (E3B eq. 2): checked against explicit matrix
    inverses over a stream with episode ends."""
    gen = torch.Generator().manual_seed(0)
    features = EigenFeatures(LearnerConfig(obs_shape=(5,), k=3, hidden=(8,)))
    features.loaded.fill_(True)
    bonus = EllipticalBonus(ridge=0.5, coef=1.0, normalize=False)
    bonus.features = features
    n_envs, ridge = 3, 0.5
    obs = torch.rand(n_envs, 5, generator=gen)
    history: list[list[np.ndarray]] = [[u] for u in features(obs).double().numpy()]
    for t in range(12):
        next_obs = torch.rand(n_envs, 5, generator=gen)
        got = bonus(obs, next_obs).numpy()
        u = features(next_obs).double().numpy()
        for i in range(n_envs):
            cov = ridge * np.eye(3) + sum(np.outer(v, v) for v in history[i])
            np.testing.assert_allclose(got[i], u[i] @ np.linalg.solve(cov, u[i]), rtol=1e-6)
            history[i].append(u[i])
        bonus.observe(next_obs)
        dones = np.array([t % 4 == 3, t % 5 == 4, False])
        obs = torch.where(torch.as_tensor(dones)[:, None], torch.rand(n_envs, 5, generator=gen), next_obs)
        bonus.episode_end(dones, obs)  # SB3 auto-reset: the done envs emit their new episode's first state
        first = features(obs).double().numpy()
        for i in np.flatnonzero(dones):
            history[i] = [first[i]]
    first = bonus(obs, obs)
    bonus.observe(obs)
    assert torch.all(bonus(obs, obs) < first)  # a state seen in this episode earns less the second time
    with pytest.raises(ValueError, match="ridge must be > 0"):
        EllipticalBonus(ridge=0.0)


def test_episodic_bonus_off_policy_is_one_line_error():
    model = DQN("MlpPolicy", grid_env(), seed=0, replay_buffer_class=BonusReplayBuffer)
    cb = SpectralCallback(learner={"k": 4, "hidden": []}, bonus=EllipticalBonus())
    with pytest.raises(ValueError, match="episodic and needs an on-policy agent") as e:
        model.learn(10, callback=cb)
    assert "\n" not in str(e.value)


def test_keep_order_holds_the_columns_when_eigenvalue_estimates_cross():
    torch.manual_seed(0)
    cfg = LearnerConfig(obs_shape=(3,), k=4, hidden=(16,))
    learner = SpectralLearner(cfg)
    online, pretrained, sorted_ = EigenFeatures(cfg), EigenFeatures(cfg), EigenFeatures(cfg)

    def set_estimates(v: list[float]) -> None:  # diag M = v, diag C = v^2: Rayleigh (C/M) and LoRA (M) agree on order
        with torch.no_grad():
            learner.running_Mf.copy_(torch.diag(torch.tensor(v)))
            learner.running_C.copy_(torch.diag(torch.tensor(v) ** 2))

    set_estimates([0.3, 0.9, 0.7, 0.5])
    pretrained.load_learner(learner)  # a checkpoint's features: sorted when loaded
    x = torch.randn(8, 3)
    for v in ([0.9, 0.7, 0.5, 0.3], [0.9, 0.5, 0.7, 0.3]):  # estimates of modes 1 and 2 cross
        set_estimates(v)
        online.load_learner(learner, keep_order=True)
        pretrained.load_learner(learner, keep_order=True)
        sorted_.load_learner(learner)
        assert torch.equal(online.order, torch.arange(4))  # first load: the network's own order, then kept
        assert torch.equal(pretrained.order, torch.tensor([1, 2, 3, 0]))  # the order it had, kept
        torch.testing.assert_close(online(x), learner.f(x) / torch.tensor(v).sqrt())
        np.testing.assert_allclose(online.eigenvalues.numpy(), learner.eigenvalues, rtol=1e-6)
        assert np.all(np.diff(sorted_.eigenvalues.numpy()) <= 0)  # the default: eigenvalues descending
        for j in range(4):  # same functions and normalization, only the column order differs
            torch.testing.assert_close(online(x)[:, j], sorted_(x)[:, int((sorted_.order == j).nonzero())])
    assert torch.equal(sorted_.order, torch.tensor([0, 2, 1, 3]))
    with pytest.raises(ValueError, match="permutation of range"):
        learner.mode_normalization(torch.tensor([0, 0, 1, 2]))


def test_novelty_cache_matches_fresh_embeddings_across_new_states_and_weight_changes():
    torch.manual_seed(0)
    cfg = LearnerConfig(obs_shape=(3,), k=4, hidden=(16,))
    cached = NoveltyBonus(memory=50, neighbors=3, normalize=False)
    learner = SpectralLearner(cfg)
    cached.features = EigenFeatures(cfg)
    cached.features.load_learner(learner)
    query = torch.randn(20, 3)
    for t in range(8):
        cached.observe(torch.randn(17, 3))  # wraps the ring of 50 several times
        if t == 4:  # the learner moves: the cache must be redone
            with torch.no_grad():
                next(learner.f.parameters()).add_(0.5)
            cached.features.load_learner(learner)
        fresh = NoveltyBonus(memory=50, neighbors=3, normalize=False)
        fresh.features = cached.features
        fresh.memory, fresh.size, fresh.pos = cached.memory.clone(), cached.size, cached.pos
        np.testing.assert_allclose(cached(query, query), fresh(query, query), rtol=1e-5, atol=1e-6)
    state = cached.features.state_dict()
    version = cached.features.version
    cached.features.load_state_dict(state)
    assert cached.features.version > version


def test_episode_stream_never_crosses_episodes():
    buf = EpisodicBuffer(100, (1,))
    stream = EpisodeStream(buf, n_envs=2, max_length=4)
    obs = np.array([[0.0], [10.0]])
    for t in range(1, 7):
        new = np.array([[float(t)], [10.0 + t]])
        dones = np.array([t == 2, False])
        terminal = [new[0].copy() if t == 2 else None, None]
        if t == 2:
            new[0] = 100.0  # the reset observation of the next episode
        stream.step(obs, new, dones, terminal)
        obs = new
    stream.flush()
    rows = buf.obs[: len(buf), 0].tolist()
    rooms = buf.room[: len(buf)].tolist()
    # env 0: [0, 1, 2] ends; [100, 3, 4, 5, 6] continues; env 1 is cut at 4 states sharing the boundary state
    episodes, current = [], []
    for value, room in zip(rows, rooms):
        current.append(value)
        if room == 0:
            episodes.append(current)
            current = []
    assert [0.0, 1.0, 2.0] in episodes
    assert [10.0, 11.0, 12.0, 13.0] in episodes and [13.0, 14.0, 15.0, 16.0] in episodes
    assert all(100.0 not in e or e[0] == 100.0 for e in episodes)  # a reset state always starts an episode


# --------------------------------------------------------------------------- spaces and errors
def test_unsupported_spaces_and_bad_kwargs_are_one_line_errors(tmp_path):
    d = gym.spaces.Dict({"a": gym.spaces.Box(0, 1, (2,)), "b": gym.spaces.Box(0, 1, (3,))})
    for space in (d, gym.spaces.Discrete(5)):
        with pytest.raises(ObservationSpaceError) as e:
            SpectralFeaturesExtractor(space, learner={"k": 2})
        assert "\n" not in str(e.value) and "wrap" in str(e.value).lower() + "wrapper"
    box = gym.spaces.Box(0, 1, (3,))
    with pytest.raises(CheckpointError, match="not found"):
        SpectralFeaturesExtractor(box, checkpoint=str(tmp_path / "missing.pt"))
    # A saved model whose checkpoint is gone: built from its config, usable once its state_dict is loaded.
    orphan = SpectralFeaturesExtractor(box, learner={"k": 2, "hidden": []}, checkpoint=str(tmp_path / "gone.pt"))
    with pytest.raises(CheckpointError, match="no saved weights"):
        orphan(torch.rand(4, 3))
    donor = SpectralFeaturesExtractor(box, learner={"k": 2, "hidden": []})
    donor.eigen.loaded.fill_(True)
    orphan.load_state_dict(donor.state_dict())
    assert torch.equal(orphan(torch.ones(1, 3)), donor(torch.ones(1, 3)))
    with pytest.raises(ValueError, match="frozen or finetune"):
        SpectralFeaturesExtractor(box, learner={"k": 2}, mode="freeze")
    with pytest.raises(ValueError, match="needs k"):
        SpectralFeaturesExtractor(box, learner={"hidden": []})


def test_image_observations(tmp_path):
    env = make_vec_env(GRID, n_envs=2, seed=0, env_kwargs={"obs": "pixels"})
    pk = spectral_policy_kwargs(learner={"k": 4, "hidden": [32]}, concat=True)
    model = PPO("MlpPolicy", env, seed=0, n_steps=64, batch_size=64, n_epochs=1, policy_kwargs=pk)
    cb = SpectralCallback(train_freq=64, gradient_steps=3, learning_starts=64, batch_size=128)
    model.learn(128, callback=cb)
    assert cb.buffer.obs.dtype == torch.uint8 and cb.learner.step > 0
    obs = np.stack([env.observation_space.sample() for _ in range(8)])
    preprocessed = model.policy.obs_to_tensor(obs)[0]
    feats = model.policy.extract_features(preprocessed, model.policy.features_extractor)
    # SB3 hands the extractor images scaled to [0, 1]; the learner reads uint8 and scales itself: same features
    by_mode = torch.empty_like(feats[:, :4])  # the bonus features sort modes; the policy's keep the index order
    by_mode[:, cb.features.order] = cb.features(torch.as_tensor(obs))
    torch.testing.assert_close(feats[:, :4], by_mode)
    assert feats.shape[1] == 4 + int(np.prod(env.observation_space.shape))
    learner, steps = cb.learner, cb.learner.step
    model.learn(128, callback=cb, reset_num_timesteps=False)  # a second learn() keeps training the same learner
    assert cb.learner is learner and learner.step > steps


# --------------------------------------------------------------------------- save / load
def test_save_load_in_fresh_process_without_checkpoint(tmp_path):
    _, path = make_checkpoint(tmp_path / "pretrained.pt", (36,), hidden=(16,))
    ppo = PPO("MlpPolicy", grid_env(), seed=0, n_steps=64, batch_size=64, n_epochs=1,
              policy_kwargs=spectral_policy_kwargs(checkpoint=path, mode="finetune", concat=True))  # fmt: skip
    ppo.learn(128, callback=SpectralCallback(train_freq=64, gradient_steps=2, learning_starts=64, batch_size=128))
    sac = SAC("MlpPolicy", pendulum_env(), seed=0, learning_starts=50, replay_buffer_class=BonusReplayBuffer,
              policy_kwargs=spectral_policy_kwargs(learner={"k": 4, "hidden": [16]}, net_arch=[16]))  # fmt: skip
    sac.learn(150, callback=SpectralCallback(train_freq=50, gradient_steps=2, learning_starts=50, batch_size=64,
                                              bonus=EigenpurposeBonus()))  # fmt: skip
    ppo.save(tmp_path / "ppo.zip")
    sac.save(tmp_path / "sac.zip")
    path.unlink()  # the pretrained checkpoint is gone: the weights must travel in the policy's state_dict
    grid_obs = np.eye(36, dtype=np.float32)
    pend_obs = np.stack([pendulum_env().observation_space.sample() for _ in range(16)])
    np.save(tmp_path / "grid_obs.npy", grid_obs)
    np.save(tmp_path / "pend_obs.npy", pend_obs)
    expected = {
        "ppo": ppo.predict(grid_obs, deterministic=True)[0],
        "sac": sac.predict(pend_obs, deterministic=True)[0],
    }
    code = textwrap.dedent(
        f"""
        import numpy as np, torch
        torch.set_num_threads(1)
        from stable_baselines3 import PPO, SAC
        d = {str(tmp_path)!r}
        ppo, sac = PPO.load(d + "/ppo.zip", device="cpu"), SAC.load(d + "/sac.zip", device="cpu")
        np.save(d + "/ppo_actions.npy", ppo.predict(np.load(d + "/grid_obs.npy"), deterministic=True)[0])
        np.save(d + "/sac_actions.npy", sac.predict(np.load(d + "/pend_obs.npy"), deterministic=True)[0])
        """
    )
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert res.returncode == 0, res.stderr[-2000:]
    np.testing.assert_array_equal(np.load(tmp_path / "ppo_actions.npy"), expected["ppo"])
    np.testing.assert_array_equal(np.load(tmp_path / "sac_actions.npy"), expected["sac"])


def test_episodic_count_bonus_counts_exact_states_per_env_and_episode():
    from rlspectral.sb3 import EpisodicCountBonus

    bonus = EpisodicCountBonus(coef=1.0, normalize=False)
    a, b = torch.tensor([[0.0, 1.0]]), torch.tensor([[1.0, 0.0]])
    two = lambda x, y: torch.cat([x, y])  # noqa: E731 - two envs
    np.testing.assert_allclose(bonus(two(a, a), two(a, b)), [1 / np.sqrt(2), 1.0])  # env 0 is back at its start
    np.testing.assert_allclose(bonus(two(a, b), two(a, b)), [1 / np.sqrt(3), 1 / np.sqrt(2)])
    bonus.episode_end(np.array([True, False]), two(b, b))  # env 0 restarts at b
    np.testing.assert_allclose(bonus(two(b, b), two(a, b)), [1.0, 1 / np.sqrt(3)])


def test_raw_observation_bonus_gets_unnormalized_states_under_vecnormalize():
    from rlspectral.sb3 import EpisodicCountBonus

    seen = []

    class Spy(EpisodicCountBonus):
        def reward(self, obs, next_obs):
            seen.append(next_obs.clone())
            return super().reward(obs, next_obs)

    env = VecNormalize(grid_env(), norm_reward=False)
    kw = {"n_steps": 32, "batch_size": 32, "n_epochs": 1, "seed": 0, "rollout_buffer_class": BonusRolloutBuffer}
    model = PPO("MlpPolicy", env, **kw)
    model.learn(64, callback=SpectralCallback(bonus=Spy(coef=0.1)))
    states = torch.cat(seen)
    assert set(torch.unique(states).tolist()) <= {0.0, 1.0} and torch.all(states.sum(1) == 1)  # one-hot, as emitted


def test_elliptical_bonus_default_ridge_is_the_dimension_of_u():
    """ridge=None puts C = k I + sum u u^T (k = the number of modes, |u|^2 ~ k for unit-variance eigenfunctions)."""
    features = EigenFeatures(LearnerConfig(obs_shape=(5,), k=3, hidden=(8,)))
    features.loaded.fill_(True)
    bonus = EllipticalBonus(coef=1.0, normalize=False)
    bonus.features = features
    obs, next_obs = torch.rand(2, 5, generator=torch.Generator().manual_seed(1)).split(1)
    u0, u1 = features(obs).double()[0], features(next_obs).double()[0]
    want = u1 @ torch.linalg.solve(3.0 * torch.eye(3, dtype=torch.float64) + torch.outer(u0, u0), u1)
    np.testing.assert_allclose(bonus(obs, next_obs).numpy(), [want.item()], rtol=1e-6)
    assert bonus.ridge is None and bonus.ridge_value(3) == 3.0


@pytest.mark.parametrize("anchored", [False, True])
def test_elliptical_bonus_in_blocks_equals_one_step_at_a_time(anchored):
    """``steps`` (one forward pass per block) gives the rewards and the episodic state of ``step`` called once per
    vectorized step, episode ends, restarts, running-std normalization and anchoring included."""
    gen = torch.Generator().manual_seed(0)
    features = EigenFeatures(LearnerConfig(obs_shape=(5,), k=3, hidden=(8,), anchored=anchored))
    features.loaded.fill_(True)
    one, block = EllipticalBonus(coef=0.5), EllipticalBonus(coef=0.5)
    one.features = block.features = features
    n_envs, n_steps = 3, 24
    obs = [torch.rand(n_envs, 5, generator=gen)]
    nxt, new, dones = [], [], []
    for t in range(n_steps):
        nxt.append(torch.rand(n_envs, 5, generator=gen))
        dones.append(np.array([t % 4 == 3, t % 7 == 6, t == 10]))
        new.append(torch.where(torch.as_tensor(dones[-1])[:, None], torch.rand(n_envs, 5, generator=gen), nxt[-1]))
        obs.append(new[-1])
    want = torch.stack([one.step(obs[t], nxt[t], dones[t], new[t]) for t in range(n_steps)])
    got, start = [], 0
    for size in (5, 1, 11, 7):  # blocks of any length, cut anywhere
        s = slice(start, start + size)
        got.append(block.steps(torch.stack(obs[s]).numpy(), torch.stack(nxt[s]).numpy(), np.stack(dones[s]),
                               torch.stack(new[s]).numpy()))  # fmt: skip
        start += size
    assert torch.count_nonzero(want) == want.numel()
    torch.testing.assert_close(torch.cat(got), want, rtol=1e-5, atol=1e-7)
    torch.testing.assert_close(block.inverse, one.inverse, rtol=1e-6, atol=1e-8)
    assert block.rms.count == one.rms.count


def test_batched_bonus_gives_the_per_step_bonus_in_ppo():
    """SpectralCallback(batch_bonus=True) writes the per-step path's intrinsic rewards into the rollouts: spectral
    rounds fall mid-rollout (train_freq 100, rollouts of 2 x 64 steps) and the bonus of the steps before a round
    must come from the eigenfunctions before it."""

    def run(batch_bonus: bool) -> tuple[list[np.ndarray], list[float]]:
        env = VecNormalize(grid_env(), norm_obs=True, norm_reward=False)
        model = PPO("MlpPolicy", env, seed=0, n_steps=64, batch_size=64, n_epochs=1,
                    rollout_buffer_class=BonusRolloutBuffer)  # fmt: skip
        cb = SpectralCallback(learner={"k": 4, "hidden": [16], "seed": 1}, train_freq=100, gradient_steps=2,
                              learning_starts=100, batch_size=64, seed=2, bonus=EllipticalBonus(coef=1.0),
                              batch_bonus=batch_bonus)  # fmt: skip
        seen: list[np.ndarray] = []

        class Grab(BaseCallback):
            def _on_step(self) -> bool:
                return True

            def _on_rollout_end(self) -> None:
                seen.append(self.model.rollout_buffer.intrinsic.copy())

        model.learn(64 * 2 * 4, callback=[cb, Grab()])
        return seen, list(cb._intrinsic_returns)

    (per_step, ret_a), (batched, ret_b) = run(False), run(True)
    assert len(per_step) == 4 and np.count_nonzero(per_step[-1]) > 0
    for a, b in zip(per_step, batched):
        np.testing.assert_allclose(b, a, rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(ret_b, ret_a, rtol=1e-4, atol=1e-6)
