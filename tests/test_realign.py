"""The Rayleigh-Ritz step on the output layer (``SpectralLearner.realign``) against exact linear algebra."""

import numpy as np
import pytest
import torch

from rlspectral import LearnerConfig, PairSampler, SpectralLearner, cosine_similarity
from rlspectral.envs import load_grid, transition_eigenpairs
from rlspectral.envs.replay import random_walk_buffer


def _operator_on_span(F: np.ndarray, top: np.ndarray, rest: np.ndarray, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """A symmetric T on n states (uniform rho) whose top-k eigenvectors span the columns of F, as a random rotation
    of an orthonormal basis of that span; returns (T, eigenvectors sorted by eigenvalue, top-k first)."""
    n, k = F.shape
    rng = np.random.default_rng(seed)
    Q, _ = np.linalg.qr(F)
    R, _ = np.linalg.qr(rng.standard_normal((k, k)))
    top_vecs = Q @ R
    comp, _ = np.linalg.qr(np.concatenate([top_vecs, rng.standard_normal((n, n - k))], axis=1))
    vecs = np.concatenate([top_vecs, comp[:, k:]], axis=1)
    T = vecs @ np.diag(np.concatenate([top, rest])) @ vecs.T
    return T, vecs


@pytest.mark.parametrize("method", ["nested-lora", "nested-omm"])
def test_realign_turns_a_mixed_span_into_ordered_eigenfunctions(method):
    n, k, shift = 12, 4, 0.1
    cfg = LearnerConfig(obs_shape=(n,), k=k, method=method, hidden=(), objective_kwargs={"shift": shift})
    learner = SpectralLearner(cfg)
    X = torch.eye(n)
    F = learner.features(X).detach().double().numpy()
    top = np.array([0.9, 0.7, 0.69, 0.4])  # a near-degenerate pair inside the top-k
    T, vecs = _operator_on_span(F, top, np.linspace(0.3, 0.0, n - k))
    # Exact moments under uniform rho: M = F^T F / n, C = F^T (T + shift I) F / n (the learner's C carries the shift).
    learner.running_Mf.copy_(torch.from_numpy(F.T @ F / n))
    learner.running_Mg.copy_(torch.from_numpy(F.T @ F / n))
    learner.running_C.copy_(torch.from_numpy(F.T @ (T + shift * np.eye(n)) @ F / n))
    learner.step = 1  # as if trained: the moments above stand for the running ones
    before = cosine_similarity(F, vecs[:, :k])[0]
    assert before.min() < 0.9  # the outputs start mixed
    B = learner.realign()
    assert B is not None
    G = learner.features(X).detach().double().numpy()
    cos = cosine_similarity(G, vecs[:, :k])[0]  # no rotation inside blocks: the order itself must be right
    np.testing.assert_allclose(cos, 1.0, atol=1e-4)
    norms = np.sqrt((G**2).mean(0))
    want = np.sqrt(top + shift) if method == "nested-lora" else np.ones(k)
    np.testing.assert_allclose(norms, want, rtol=1e-4)
    # The running moments follow the outputs, and the eigenvalue estimates are the true ones in order.
    np.testing.assert_allclose(learner.running_Mf.double().numpy(), G.T @ G / n, atol=1e-5)
    np.testing.assert_allclose(learner.eigenvalues, top, atol=1e-4)


def test_a_rank_deficient_span_is_skipped_unless_completed():
    """An output that vanishes (an extra mode that never left zero, in practice) makes the span rank k - 1:
    a guarded step declines it; ``complete`` (a fit's last step) puts the k - 1 Ritz functions first, exact, in
    order, and the null direction last."""
    n, k, shift = 10, 4, 0.1
    learner = SpectralLearner(LearnerConfig(obs_shape=(n,), k=k, hidden=(), objective_kwargs={"shift": shift}))
    X = torch.eye(n)
    with torch.no_grad():
        layer = learner.f.output_layer()
        layer.weight[3] = 0.0  # output 3 vanishes
        if layer.bias is not None:
            layer.bias[3] = 0.0
    F = learner.features(X).detach().double().numpy()
    top = np.array([0.9, 0.6, 0.4])
    T, vecs = _operator_on_span(F[:, :3], top, np.linspace(0.3, 0.0, n - 3))
    learner.running_Mf.copy_(torch.from_numpy(F.T @ F / n))
    learner.running_Mg.copy_(torch.from_numpy(F.T @ F / n))
    learner.running_C.copy_(torch.from_numpy(F.T @ (T + shift * np.eye(n)) @ F / n))
    learner.step = 1
    w = learner.f.output_layer().weight.detach().clone()
    assert learner.realign(max_condition=0.0) is None
    assert torch.equal(learner.f.output_layer().weight, w)
    B = learner.realign(max_condition=0.0, complete=True)
    assert B is not None and B.shape == (k, k) and torch.linalg.matrix_rank(B) == k
    G = learner.features(X).detach().double().numpy()
    np.testing.assert_allclose(cosine_similarity(G[:, :3], vecs[:, :3])[0], 1.0, atol=1e-4)
    np.testing.assert_allclose(np.sqrt((G[:, :3] ** 2).mean(0)), np.sqrt(top + shift), rtol=1e-4)
    assert np.abs(G[:, 3]).max() < 1e-6  # the null direction: still the vanishing output


def test_realign_skips_an_ill_conditioned_basis_and_rejects_baselines():
    n, k = 8, 3
    learner = SpectralLearner(LearnerConfig(obs_shape=(n,), k=k, hidden=()))
    assert learner.realign() is None  # before any update there are no moments to solve
    learner.step = 1
    learner.running_Mf.copy_(torch.diag(torch.tensor([1.0, 1.0, 1e-6])))
    learner.running_C.copy_(torch.diag(torch.tensor([0.9, 0.5, 1e-7])))
    w = learner.f.output_layer().weight.detach().clone()
    assert learner.realign(max_condition=10.0) is None
    assert torch.equal(learner.f.output_layer().weight, w)
    with pytest.raises(ValueError, match="realign_every"):
        SpectralLearner(LearnerConfig(obs_shape=(n,), k=k, method="allo", realign_every=10))


def test_fit_with_realign_orders_the_modes_of_a_sampled_gridworld():
    """NestedOMM orders its modes slowly (2400 steps in test_sampled_gridworld); with the step, 600 suffice."""
    grid = load_grid("GridRoomSmall-1")
    k = 8
    vals, vecs = transition_eigenpairs(grid, k)
    buf = random_walk_buffer(grid, "onehot", n_episodes=4000, episode_length=50, seed=1)
    steps = 600
    cfg = LearnerConfig(
        obs_shape=buf.obs_shape, k=k, method="nested-omm", hidden=(), lr=3e-2, schedule="cosine",
        total_steps=steps, objective_kwargs={"shift": 0.1}, realign_every=100,
    )  # fmt: skip
    learner = SpectralLearner(cfg)
    learner.fit(PairSampler(buf, learner.operator, seed=0), steps, batch_size=4096, progress=False)
    values, phi = learner.eigenfunctions(torch.from_numpy(grid.observations("onehot")))
    cos, mean = cosine_similarity(phi.numpy(), vecs, vals)
    assert mean >= 0.99, cos
    np.testing.assert_allclose(learner.operator.to_transition(values), vals, atol=0.02)


@pytest.mark.parametrize("final", [50, 0])
def test_a_fit_ends_in_the_rayleigh_ritz_basis_of_fresh_batches(final, monkeypatch):
    """With ``final_realign_batches`` the last step of fit() re-estimates the moments on fresh batches (not the
    lagging EMA) and rotates the outputs onto their Rayleigh-Ritz basis: the modes a user gets as learned are the
    ``solve=True`` modes of the moments the fit ends with."""
    grid = load_grid("GridRoomSmall-1")
    k = 8
    buf = random_walk_buffer(grid, "onehot", n_episodes=2000, episode_length=50, seed=1)
    cfg = LearnerConfig(
        obs_shape=buf.obs_shape, k=k, method="nested-lora", hidden=(), lr=3e-2, total_steps=200,
        objective_kwargs={"shift": 0.1}, realign_every=100, final_realign_batches=final,
    )  # fmt: skip
    learner = SpectralLearner(cfg)
    refreshed = []
    refresh = learner.refresh_moments
    spy = lambda *a, **kw: refreshed.append((learner.step, kw)) or refresh(*a, **kw)  # noqa: E731
    monkeypatch.setattr(learner, "refresh_moments", spy)
    learner.fit(PairSampler(buf, learner.operator, seed=0), 200, batch_size=2048, progress=False)
    assert refreshed == ([(200, {"batches": final, "batch_size": 2048})] if final else [])
    x = torch.from_numpy(grid.observations("onehot"))
    _, raw = learner.eigenfunctions(x)
    _, solved = learner.eigenfunctions(x, solve=True)
    raw, solved = raw.numpy(), solved.numpy()
    cos = np.abs(np.sum(raw * solved, axis=0)) / (np.linalg.norm(raw, axis=0) * np.linalg.norm(solved, axis=0))
    assert cos.min() > 0.9999, cos


def test_fit_guards_its_rayleigh_ritz_steps_except_the_last(monkeypatch):
    """Intermediate steps are skipped above ``realign_max_condition``; the last one is never skipped for
    conditioning, so a fit ends in the Rayleigh-Ritz basis of its final moments (GridMaze-9 fresh seed 12 ended
    with mixed modes, 0.44 as learned vs 0.998 solved, when its last step was declined at condition > 10)."""
    grid = load_grid("GridRoomSmall-1")
    buf = random_walk_buffer(grid, "onehot", n_episodes=200, episode_length=50, seed=1)
    cfg = LearnerConfig(obs_shape=buf.obs_shape, k=4, hidden=(), lr=1e-2, objective_kwargs={"shift": 0.1},
                        realign_every=20, final_realign_batches=0, realign_max_condition=2.5)  # fmt: skip
    learner = SpectralLearner(cfg)
    calls: list[tuple[int, float]] = []
    realign = SpectralLearner.realign

    def spy(self, max_condition=10.0, complete=False):
        calls.append((self.step, max_condition, complete))
        return realign(self, max_condition, complete)

    monkeypatch.setattr(SpectralLearner, "realign", spy)
    learner.fit(PairSampler(buf, learner.operator, seed=0), 50, batch_size=256, progress=False)
    assert calls == [(20, 2.5, False), (40, 2.5, False), (50, 0.0, True)]
    with pytest.raises(ValueError, match="realign_max_condition"):
        LearnerConfig(obs_shape=(3,), k=2, realign_max_condition=-1.0)
