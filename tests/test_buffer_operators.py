"""Pair sampling: offsets follow the operator's law and never cross an episode boundary."""

import numpy as np
import torch

from rlspectral import EpisodicBuffer, PairSampler, lazy_transition, successor, time_lag, transition


def tagged_buffer(n_episodes=200, length=50, capacity=None):
    # observation = (episode id, time step): pairs are easy to audit
    buf = EpisodicBuffer(capacity or n_episodes * (length + 1), (2,))
    for e in range(n_episodes):
        buf.add_episode(np.stack([np.full(length + 1, e), np.arange(length + 1)], 1).astype(np.float32))
    return buf


def test_successor_offsets_are_geometric_and_stay_in_episode():
    buf = tagged_buffer()
    x, y = PairSampler(buf, successor(0.9), seed=0)(200_000)
    assert torch.equal(x[:, 0], y[:, 0])  # same episode
    k = (y[:, 1] - x[:, 1]).numpy()
    assert k.min() >= 1 and k.max() <= 50
    # Geometric(0.1) cut at the episode length: P(k) ~ 0.9^(k-1)
    freq = np.bincount(k.astype(int), minlength=51)[1:] / k.size
    law = 0.1 * 0.9 ** np.arange(50)
    law /= law.sum()
    np.testing.assert_allclose(freq[:10], law[:10], rtol=0.05)


def test_start_state_is_uniform_among_states_with_room_and_cache_follows_new_episodes():
    buf = tagged_buffer(n_episodes=100, length=20)
    x, y = PairSampler(buf, successor(0.9), seed=3)(400_000)
    t, k = x[:, 1].numpy().astype(int), (y[:, 1] - x[:, 1]).numpy().astype(int)
    for lag in (1, 5, 15):  # given k, x_t is uniform over t = 0..20 - k (every episode has the same length)
        counts = np.bincount(t[k == lag], minlength=21)[: 21 - lag]
        assert counts.min() > 0 and np.all(np.bincount(t[k == lag], minlength=21)[21 - lag :] == 0)
        np.testing.assert_allclose(counts / counts.mean(), 1.0, atol=0.1)
    buf.add_episode(np.stack([np.full(61, 999), np.arange(61)], 1).astype(np.float32))  # a longer episode
    x, y = PairSampler(buf, successor(0.9), seed=4)(200_000)
    assert (y[:, 1] - x[:, 1]).max() > 20 and torch.all(x[(y[:, 1] - x[:, 1]) > 20, 0] == 999)


def test_fixed_offsets_and_wrapping_ring():
    buf = tagged_buffer(n_episodes=30, length=10, capacity=100)  # the ring wraps several times
    assert len(buf) == 100
    for op, lag in ((transition(), 1), (lazy_transition(), 1), (time_lag(3), 3)):
        x, y = PairSampler(buf, op, seed=1)(5000)
        assert torch.equal(x[:, 0], y[:, 0])
        assert torch.all(y[:, 1] - x[:, 1] == lag)
    assert time_lag(3).self_adjoint is False and successor(0.5).self_adjoint


def test_successor_eigenvalue_map_roundtrip():
    op = successor(0.9)
    p = np.linspace(-0.9, 1.0, 11)
    np.testing.assert_allclose(op.to_transition(op.from_transition(p)), p, atol=1e-12)
    np.testing.assert_allclose(lazy_transition().from_transition(p), (1 + p) / 2)
