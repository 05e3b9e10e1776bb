"""Episode-anchored learning: anchors stay in their pair's episode (ring wraps included), and the anchored learner
finds the within-episode eigenvectors where the plain one spends its modes on episode-constant functions."""

import numpy as np
import pytest
import torch

from rlspectral import ConfigError, LearnerConfig, SpectralLearner
from rlspectral.buffer import EpisodicBuffer, PairSampler
from rlspectral.operators import make_operator


def test_anchors_are_uniform_over_the_kept_part_of_the_pair_episode():
    buf = EpisodicBuffer(50, (2,))
    rng = np.random.default_rng(0)
    for episode in range(12):  # 12 episodes of 5..14 states through a ring of 50: wraps several times
        n = int(rng.integers(5, 15))
        buf.add_episode(np.stack([np.full(n, episode), np.arange(n)], axis=1).astype(np.float32))
        x, y, a = buf.sample_pairs(4000, make_operator("successor:0.5"), rng, anchors=True)
        assert torch.equal(x[:, 0], y[:, 0]) and torch.equal(x[:, 0], a[:, 0])  # one episode per triple
        kept = {int(e): buf.obs[: buf.size][buf.obs[: buf.size, 0] == e, 1] for e in torch.unique(x[:, 0])}
        for e, steps in kept.items():  # anchors range over the kept states of the episode, and only those
            drawn = a[a[:, 0] == e, 1]
            assert set(drawn.tolist()) <= set(steps.tolist())
            if len(drawn) > 400:
                assert set(drawn.tolist()) == set(steps.tolist())
    pairs = PairSampler(buf, make_operator("successor:0.5"), seed=1, anchors=True)(16)
    assert len(pairs) == 3 and all(p.shape == (16, 2) for p in pairs)


def two_ring_buffer(n: int = 6, episodes: int = 120, length: int = 120, seed: int = 0) -> EpisodicBuffer:
    """Lazy random walks (stay 1/2, step +-1 w.p. 1/4) on two disjoint rings of ``n`` states ("layouts" A and B),
    each episode on one ring; one-hot observations of the 2n states."""
    rng = np.random.default_rng(seed)
    buf = EpisodicBuffer(episodes * length, (2 * n,))
    eye = np.eye(2 * n, dtype=np.float32)
    for e in range(episodes):
        ring, s = e % 2, int(rng.integers(n))
        states = [s]
        for _ in range(length - 1):
            s = (s + int(rng.choice([-1, 0, 0, 1]))) % n
            states.append(s)
        buf.add_episode(eye[ring * n + np.array(states)])
    return buf


def fitted_span(anchored: bool, steps: int = 1500) -> np.ndarray:
    """The learned functions (k = 4, linear on one-hot = a free table) as columns over the 12 states."""
    buf = two_ring_buffer()
    cfg = LearnerConfig(obs_shape=(12,), k=4, hidden=(), lr=2e-2, operator="successor:0.9", anchored=anchored, seed=0)
    learner = SpectralLearner(cfg)
    sampler = PairSampler(buf, learner.operator, seed=0, anchors=anchored)
    learner.fit(sampler, steps, batch_size=512, progress=False)
    with torch.no_grad():
        return learner.f(torch.eye(12)).numpy()


def projection(vectors: np.ndarray, span: np.ndarray) -> np.ndarray:
    """Norm of each unit column of ``vectors`` after orthogonal projection onto the columns of ``span``."""
    q, _ = np.linalg.qr(span)
    v = vectors / np.linalg.norm(vectors, axis=0)
    return np.linalg.norm(q.T @ v, axis=0)


@pytest.mark.slow
def test_anchored_learner_finds_within_episode_eigenvectors_not_the_layout():
    n = 6
    angle = 2 * np.pi * np.arange(n) / n
    zero = np.zeros(n)
    # the within-episode top eigenvectors: the ring's first Fourier pair (eigenvalue 1/2 + cos(2 pi / 6) / 2 = 3/4
    # of the lazy walk), on ring A and on ring B: multiplicity 4
    exact = np.stack([np.r_[np.cos(angle), zero], np.r_[np.sin(angle), zero],
                      np.r_[zero, np.cos(angle)], np.r_[zero, np.sin(angle)]], axis=1)  # fmt: skip
    layout = np.r_[np.ones(n), -np.ones(n)][:, None]  # constant on every episode: eigenvalue 1 of the plain operator
    anchored = fitted_span(anchored=True)
    within = anchored - np.repeat(anchored.reshape(2, n, -1).mean(1), n, axis=0)  # anchored f is defined up to
    assert projection(exact, within).min() > 0.95  # a constant per episode, here per ring
    plain = fitted_span(anchored=False)
    assert projection(layout, plain)[0] > 0.9  # the plain learner spends a mode on the layout ...
    plain_within = plain - np.repeat(plain.reshape(2, n, -1).mean(1), n, axis=0)
    assert projection(exact, plain_within).min() < 0.9  # ... and misses a within-episode eigenvector


def test_anchored_config_errors_and_anchor_required():
    with pytest.raises(ConfigError, match="anchored"):
        LearnerConfig(obs_shape=(3,), k=2, anchored=True, constant_mode=True)
    learner = SpectralLearner(LearnerConfig(obs_shape=(3,), k=2, hidden=(), anchored=True))
    x = torch.rand(8, 3)
    with pytest.raises(ConfigError, match="anchors=True"):
        learner.update(x, x)
    assert np.isfinite(learner.update(x, x.roll(1, 0), x.flip(0))["loss"])
