"""Sampled pairs: a uniform random walk on a gridworld, one-hot states, successor operator (lambda = 0.9)."""

import numpy as np
import pytest
import torch

from rlspectral import LearnerConfig, PairSampler, SpectralLearner, cosine_similarity
from rlspectral.envs import load_grid, transition_eigenpairs
from rlspectral.envs.replay import random_walk_buffer


@pytest.mark.parametrize("method", ["nested-lora", "nested-omm"])
def test_learns_gridworld_eigenvectors_from_pairs(method):
    grid = load_grid("GridRoomSmall-1")
    k = 8
    vals, vecs = transition_eigenpairs(grid, k)
    buf = random_walk_buffer(grid, "onehot", n_episodes=4000, episode_length=50, seed=1)
    steps = 1200 if method == "nested-lora" else 2400  # NestedOMM orders its modes more slowly
    cfg = LearnerConfig(
        obs_shape=buf.obs_shape,
        k=k,
        method=method,
        operator="successor:0.9",
        hidden=(),
        lr=3e-2,
        schedule="cosine",
        total_steps=steps,
        seed=0,
    )
    learner = SpectralLearner(cfg)
    learner.fit(PairSampler(buf, learner.operator, seed=0), steps, batch_size=4096, progress=False)
    values, phi = learner.eigenfunctions(torch.from_numpy(grid.observations("onehot")))
    cos, mean = cosine_similarity(phi.numpy(), vecs, vals)
    assert mean >= 0.99, cos
    # Eigenvalues of P recovered from the successor estimates, within sampling error.
    p = learner.operator.to_transition(values)
    np.testing.assert_allclose(p, vals, atol=0.02)
