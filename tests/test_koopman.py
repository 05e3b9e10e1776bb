"""Koopman post-processing against exact linear algebra, generator moments, baselines (exact subspaces), the saved
model, and a 1-D double-well fit."""

import numpy as np
import pytest
import torch
from torch import nn

from rlspectral import exact_moments, make_objective
from rlspectral.envs.langevin import reference_spectrum, trajectories
from rlspectral.errors import CheckpointError, ConfigError, SpectralError
from rlspectral.koopman import (
    GeneratorLearner,
    StateSampler,
    TrajFitConfig,
    covariances,
    dirichlet_moments,
    fit_trajectories,
    generator_model,
    implied_timescales,
    input_jacobian,
    koopman_model,
    lagged_pairs,
    load,
    select_rank,
    singular_values,
    svd_koopman_from_moments,
    svd_koopman_model,
    vamp2_score,
    vamp_e_score,
)
from rlspectral.learner import LearnerConfig, SpectralLearner
from rlspectral.metrics import cosine_similarity
from rlspectral.objectives.vampnet import DPNet, VAMPNet, metric_distortion, vamp2


@pytest.fixture(autouse=True)
def _one_thread():
    torch.set_num_threads(1)


def _reversible_chain(n: int = 6, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    W = rng.random((n, n))
    W = W + W.T + n * np.eye(n)  # symmetric weights, lazy enough to keep every eigenvalue positive
    return W / W.sum(1, keepdims=True), W.sum(1) / W.sum()


def _exact_pairs(P: np.ndarray, pi: np.ndarray, A: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Feature rows whose (co)variances are exactly C00 = A^T D A, C01 = A^T D P A (D = diag pi)."""
    i, j = np.nonzero(P > 0)
    w = np.sqrt(pi[i] * P[i, j] * len(i))
    return w[:, None] * A[i], w[:, None] * A[j]


def test_koopman_model_recovers_a_reversible_chain_in_any_basis():
    P, pi = _reversible_chain()
    true = np.sort(np.linalg.eigvals(P).real)[::-1]
    A = np.random.default_rng(1).standard_normal((6, 6))  # an invertible mix of the indicator functions
    F0, F1 = _exact_pairs(P, pi, A)
    model = koopman_model(F0, F1, lag_time=2.0)
    np.testing.assert_allclose(model.values, true, atol=1e-10)
    np.testing.assert_allclose(model.timescales()[1:], implied_timescales(true, 2.0)[1:], rtol=1e-8)
    phi = model.eigenfunctions(A)  # orthonormal in L2(pi), right eigenvectors of P
    np.testing.assert_allclose(phi.T @ (pi[:, None] * phi), np.eye(6), atol=1e-9)
    np.testing.assert_allclose(P @ phi, phi * model.values, atol=1e-9)
    # Prediction: psi^T K^n b = P^n h at every state.
    h = np.arange(6.0)[:, None]
    w = np.sqrt(pi * 6)[:, None]
    b = model.project(w * A, w * h)  # least squares in L2(pi): h = A b exactly
    np.testing.assert_allclose(b, np.linalg.solve(A, h), atol=1e-9)
    np.testing.assert_allclose(model.predict(A, b, 5), np.linalg.matrix_power(P, 5) @ h, atol=1e-9)
    # The general (non-reversible) estimator agrees on reversible data.
    general = koopman_model(F0, F1, lag_time=2.0, reversible=False)
    np.testing.assert_allclose(np.real(general.values), true, atol=1e-9)
    np.testing.assert_allclose(general.predict(A, b, 5), np.linalg.matrix_power(P, 5) @ h, atol=1e-8)


def test_svd_koopman_model_recovers_a_non_reversible_chain():
    """Truncated SVD of (f, g) with full-rank features on a non-reversible chain: the complex eigenvalues of P and
    the n-step predictions P^n h are exact, in any bases f = A, g = B of the indicator functions."""
    rng = np.random.default_rng(3)
    n = 6
    P = rng.random((n, n)) ** 3 + np.roll(np.eye(n), 1, axis=1) * 2  # a drift around a cycle: not reversible
    P /= P.sum(1, keepdims=True)
    vals, vecs = np.linalg.eig(P.T)
    pi = np.real(vecs[:, np.argmin(np.abs(vals - 1))])
    pi /= pi.sum()
    true = np.linalg.eigvals(P)
    assert np.abs(true.imag).max() > 0.05  # complex pairs
    A, B = rng.standard_normal((2, n, n))
    i, j = np.nonzero(P > 0)
    w = np.sqrt(pi[i] * P[i, j] * len(i))[:, None]
    model = svd_koopman_model(w * A[i], w * B[j], w * A[j], w * B[i], lag_time=1.0)
    assert np.abs(np.sort_complex(model.values) - np.sort_complex(true)).max() < 1e-9
    assert model.offset == 1 and model.readout == "g"
    h = rng.standard_normal((n, 2))
    b = model.project(w * B[i], w * h[i])  # E[g h] over rho
    for steps in (1, 2, 5):
        np.testing.assert_allclose(model.predict(A, b, steps), np.linalg.matrix_power(P, steps) @ h, atol=1e-9)
    np.testing.assert_allclose(A @ model.matrix @ b, P @ h, atol=1e-9)


def _low_rank_chain(seed: int) -> tuple[np.ndarray, np.ndarray]:
    """A 6-state chain ``P = M N`` (M 6x3, N 3x6 row-stochastic): a stochastic matrix of rank 3, not reversible."""
    rng = np.random.default_rng(seed)
    M, N = rng.random((6, 3)) ** 2, rng.random((3, 6)) ** 2
    P = (M / M.sum(1, keepdims=True)) @ (N / N.sum(1, keepdims=True))
    vals, vecs = np.linalg.eig(P.T)
    pi = np.real(vecs[:, np.argmin(np.abs(vals - 1))])
    return P, pi / pi.sum()


def test_truncated_svd_model_keeps_the_exact_spectrum_of_a_low_rank_chain():
    """Rank 3 of 6 full-rank features on a rank-3 chain loses nothing: the 3 non-zero eigenvalues and P^n h exact;
    ``select_rank`` on exact covariances picks 3 (the scores stop growing there, ties go to the smaller rank)."""
    P, pi = _low_rank_chain(seed=4)
    rng = np.random.default_rng(5)
    A, B = rng.standard_normal((2, 6, 6))
    i, j = np.nonzero(P > 0)
    w = np.sqrt(pi[i] * P[i, j] * len(i))[:, None]
    F0, G1, F1, G0 = w * A[i], w * B[j], w * A[j], w * B[i]
    true = np.linalg.eigvals(P)
    nonzero = true[np.abs(true) > 1e-9]
    assert len(nonzero) == 3
    model = svd_koopman_model(F0, G1, F1, G0, lag_time=1.0, rank=3)
    assert np.abs(np.sort_complex(model.values) - np.sort_complex(nonzero)).max() < 1e-9
    h = rng.standard_normal((6, 2))
    b = model.project(w * B[i], w * h[i])
    for steps in (1, 3):
        np.testing.assert_allclose(model.predict(A, b, steps), np.linalg.matrix_power(P, steps) @ h, atol=1e-9)
    cov = covariances(F0, G1)
    assert select_rank(cov, cov) == 3
    assert vamp_e_score(cov, cov, rank=3) == pytest.approx(vamp_e_score(cov, cov), abs=1e-10)
    with pytest.raises(ValueError, match="rank 7 is out of range"):
        svd_koopman_model(F0, G1, F1, G0, lag_time=1.0, rank=7)
    F, G = np.concatenate([F0, F1]), np.concatenate([G0, G1])
    same = svd_koopman_from_moments(cov, G.T @ F / len(F), lag_time=1.0, rank=3)  # the same model from its moments
    np.testing.assert_array_equal(same.values, model.values)
    np.testing.assert_array_equal(same.W_inv, model.W_inv)
    with pytest.raises(ValueError, match="moments of mismatched shapes"):
        svd_koopman_from_moments(cov, G.T @ F[:, :5] / len(F), lag_time=1.0)  # gf of 5 f functions, not 6


def test_select_rank_drops_the_modes_that_sampling_noise_made():
    """Sampled pairs of the rank-3 chain: the 3 noise singular values fitted on the training pairs score below zero
    on independent pairs (VAMP-E penalises a mode that does not generalise), so the held-out choice is rank 3."""
    P, pi = _low_rank_chain(seed=4)
    rng = np.random.default_rng(6)
    A, B = rng.standard_normal((2, 6, 6))

    def pairs(n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        x0 = rng.choice(6, size=n, p=pi)
        x1 = (rng.random(n)[:, None] > np.cumsum(P[x0], axis=1)).sum(1)
        return covariances(A[x0], B[x1])

    train = pairs(20_000)
    assert np.sum(singular_values(*train) > 1e-3) == 6  # noise gives the null modes non-zero estimates
    assert select_rank(train, train) == 6  # in sample, every mode seems to help
    assert select_rank(train, pairs(20_000)) == 3


def test_vamp_scores_and_singular_values():
    P, pi = _reversible_chain(seed=2)
    F0, F1 = _exact_pairs(P, pi, np.eye(6))
    cov = (F0.T @ F0 / len(F0), F0.T @ F1 / len(F0), F1.T @ F1 / len(F0))
    sym = np.diag(np.sqrt(pi)) @ P @ np.diag(1 / np.sqrt(pi))
    sigma = np.sort(np.abs(np.linalg.eigvalsh(0.5 * (sym + sym.T))))[::-1]
    np.testing.assert_allclose(singular_values(*cov), sigma, atol=1e-10)
    assert vamp2_score(*cov) == pytest.approx(np.sum(sigma**2), abs=1e-10)
    assert vamp_e_score(cov, cov) == pytest.approx(np.sum(sigma**2), abs=1e-10)  # VAMP-E = VAMP-2 in-sample
    # A rank-2 feature space scores exactly the top two squared singular values.
    U = np.diag(1 / np.sqrt(pi)) @ np.linalg.eigh(0.5 * (sym + sym.T))[1][:, ::-1][:, :2]
    G0, G1 = _exact_pairs(P, pi, U)
    low = (G0.T @ G0 / len(G0), G0.T @ G1 / len(G0), G1.T @ G1 / len(G0))
    assert vamp2_score(*low) == pytest.approx(np.sum(sigma[:2] ** 2), abs=1e-10)
    # The torch VAMP-2 used for training agrees with the numpy score.
    t = [torch.tensor(c) for c in cov]
    assert float(vamp2(t[1], t[0], t[2], eps=0.0)) == pytest.approx(vamp2_score(*cov), rel=1e-9)
    assert float(metric_distortion(torch.eye(3, dtype=torch.float64), eps=0.0)) == pytest.approx(0.0, abs=1e-12)


class _Poly(nn.Module):
    def forward(self, x):
        return torch.cat([torch.ones_like(x), x, x**2 - 1.0], dim=1)


def test_input_jacobian_and_dirichlet_moments():
    x = torch.linspace(-2, 2, 8)[:, None]
    F, J = input_jacobian(_Poly(), x)
    np.testing.assert_allclose(J[0].detach().numpy(), torch.cat([0 * x, 1 + 0 * x, 2 * x], 1).numpy(), atol=1e-6)
    net = nn.Sequential(nn.Linear(2, 16), nn.Tanh(), nn.Linear(16, 3))
    y = torch.randn(5, 2)
    _, Jn = input_jacobian(net, y)
    for d in range(2):
        e = torch.zeros(2)
        e[d] = 1e-3
        fd = (net(y + e) - net(y - e)) / 2e-3
        np.testing.assert_allclose(Jn[d].detach().numpy(), fd.detach().numpy(), atol=1e-3)
    # C_s = shift M_s - beta^-1 sum_d J_d^T J_d / B per chunk, and gradients reach the parameters.
    m = dirichlet_moments(F, J, beta=2.0, shift=3.0, splits=2)
    f0, j0 = F[:4].detach(), J[0, :4].detach()
    np.testing.assert_allclose(m.C[0].detach(), 3.0 * f0.T @ f0 / 4 - j0.T @ j0 / 4 / 2.0, atol=1e-6)
    _, Jg = input_jacobian(net, y)
    Jg.sum().backward()
    assert net[0].weight.grad is not None and net[0].weight.grad.abs().sum() > 0


def test_generator_model_ornstein_uhlenbeck():
    """V = x^2 / 2, rho = N(0, 1/beta); on {1, x, x^2} the generator's eigenvalues are 0, -1, -2 exactly."""
    beta = 2.0
    s2 = 1.0 / beta  # E x^2; E x^4 = 3 s2^2
    M = np.array([[1, 0, s2], [0, s2, 0], [s2, 0, 3 * s2**2]])
    D = np.array([[0, 0, 0], [0, 1, 0], [0, 0, 4 * s2]])  # E[f_i' f_j']
    model = generator_model(M, -D / beta, lag_time=0.5)
    np.testing.assert_allclose(model.rates, [0.0, -1.0, -2.0], atol=1e-12)
    np.testing.assert_allclose(model.values, np.exp(0.5 * np.array([0.0, -1.0, -2.0])), atol=1e-12)
    np.testing.assert_allclose(model.timescales()[1:], [1.0, 0.5], atol=1e-12)


def test_generator_learner_reports_generator_eigenvalues():
    cfg = LearnerConfig(obs_shape=(1,), k=3, hidden=(16,), constant_mode=True)
    learner = GeneratorLearner(cfg, beta=2.0, shift=5.0)
    sampler = StateSampler(torch.randn(256, 1) / np.sqrt(2.0), seed=0)
    learner.fit(sampler, 5, batch_size=64, progress=False)
    values, phi = learner.eigenfunctions(torch.randn(10, 1), solve=True)
    assert values.shape == (3,) and phi.shape == (10, 3) and values[0] <= 1e-3
    with pytest.raises(ConfigError, match="shift"):
        GeneratorLearner(cfg, beta=2.0, shift=0.0)


@pytest.mark.parametrize("method,cls", [("vampnet", VAMPNet), ("dpnet", DPNet)])
def test_baselines_train_in_the_same_learner(method, cls):
    cfg = LearnerConfig(obs_shape=(1,), k=3, method=method, operator="time-lag:1", svd=True, hidden=(16,), lr=1e-2)
    learner = SpectralLearner(cfg)
    assert isinstance(learner.objective, cls) and learner.svd
    x = torch.randn(512, 1)
    y = 0.8 * x + 0.6 * torch.randn(512, 1)  # AR(1): a reversible Gaussian chain
    first = learner.update(x, y)["loss"]
    for _ in range(30):
        last = learner.update(x, y)["loss"]
    assert last < first


@pytest.mark.parametrize("method,steps", [("vampnet", 600), ("dpnet", 1500)])
def test_baselines_recover_the_top_singular_subspaces(method, steps):
    """Exact moments of a known non-symmetric A = U diag(s) V^T, free matrices F, G: VAMP-2 and DPNet's relaxed
    score are maximal on the top-K left / right singular subspaces (any basis of them); the Koopman post-processing
    on the learned pair then gives the top-K singular values."""
    g = torch.Generator().manual_seed(3)
    n, m, K = 30, 24, 4
    U, _ = torch.linalg.qr(torch.randn(n, n, generator=g, dtype=torch.float64))
    V, _ = torch.linalg.qr(torch.randn(m, m, generator=g, dtype=torch.float64))
    sv = torch.linspace(1.0, 0.05, m, dtype=torch.float64) ** 1.5
    A = U[:, :m] @ torch.diag(sv) @ V.T
    obj = make_objective(method, K).double()
    F = torch.nn.Parameter(0.1 * torch.randn(n, K, generator=g, dtype=torch.float64))
    G = torch.nn.Parameter(0.1 * torch.randn(m, K, generator=g, dtype=torch.float64))
    opt = torch.optim.Adam([F, G], lr=2e-2)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, steps, eta_min=2e-5)
    for _ in range(steps):
        loss = obj(exact_moments(F, A, G))[0]
        opt.zero_grad()
        loss.backward()
        opt.step()
        sched.step()
    F, G = F.detach(), G.detach()
    for learned, true in ((F, U[:, :K]), (G, V[:, :K])):  # cosines of the principal angles between the spans
        cos = torch.linalg.svdvals(torch.linalg.qr(learned)[0].T @ true)
        assert cos.min() >= 0.999, cos
    s = singular_values((F.T @ F).numpy(), (F.T @ A @ G).numpy(), (G.T @ G).numpy())
    np.testing.assert_allclose(s, sv[:K].numpy(), rtol=1e-3)


# ----------------------------------------------------------------------------------------------- 1-D double well
TOL_TIMESCALE = 0.05  # CI budget: 1000 trajectories x 10 time units, 1000 steps; measured errors <= 2.1%
MODES = 3  # all three are simple eigenvalues; mode 1 is the only metastable one (gap ~17x)


@pytest.fixture(scope="module")
def double_well(tmp_path_factory):
    torch.set_num_threads(1)
    data = trajectories("double-well-1d", 1000, 1000, seed=0, cache_dir=tmp_path_factory.mktemp("cache"))
    ref = reference_spectrum("double-well-1d", k=MODES + 1)
    common = dict(lag=10, dt=0.01, k=MODES + 1, steps=1000, batch_size=512, lr=3e-3, hidden=(64, 64))
    common.update(fourier_scale=0.5, beta=2.0, shift=12.0, eval_pairs=100_000)
    fits = {
        "svd": fit_trajectories(data, TrajFitConfig(method="nested-lora", svd=True, **common)),
        "evd": fit_trajectories(data, TrajFitConfig(method="nested-lora", svd=False, **common)),
        "generator": fit_trajectories(data, TrajFitConfig(method="generator", **common)),
    }
    return data, ref, fits


def _cosines(fit, ref):
    phi = fit.eigenfunctions(ref.centers)[:, 1 : MODES + 1]
    w = np.sqrt(ref.pi)[:, None]
    return cosine_similarity(phi * w, ref.functions[:, 1 : MODES + 1] * w)[0]


@pytest.mark.parametrize("which", ["svd", "evd", "generator"])
def test_double_well_timescales_and_eigenfunctions(double_well, which):
    _, ref, fits = double_well
    fit = fits[which]
    ts = fit.model.timescales()[1 : MODES + 1]
    err = ts / ref.timescales()[:MODES] - 1
    assert np.all(np.abs(err) < TOL_TIMESCALE), err
    assert _cosines(fit, ref).min() >= 0.99
    mu = np.real(fit.model.values[1 : MODES + 1])
    np.testing.assert_allclose(mu, ref.transfer_values(0.1)[1 : MODES + 1], rtol=0.02)


def test_double_well_svd_and_evd_agree(double_well):
    data, ref, fits = double_well
    svd, evd = fits["svd"], fits["evd"]
    np.testing.assert_allclose(svd.model.timescales()[1:], evd.model.timescales()[1:], rtol=0.015)
    x = ref.sample(5000, np.random.default_rng(0))
    a, b = svd.eigenfunctions(x)[:, 1:], evd.eigenfunctions(x)[:, 1:]
    assert cosine_similarity(a, b)[0].min() > 0.995
    # On reversible stationary data the learned singular values are the eigenvalues.
    np.testing.assert_allclose(svd.stats["singular_values"][: MODES + 1], np.real(svd.model.values), atol=0.02)
    # Held-out scores: VAMP-2 close to the reference sum of squared eigenvalues (k = 4 modes).
    scores = svd.scores(*lagged_pairs(list(data[:200]), 10, None))
    assert scores["vamp2"] == pytest.approx(np.sum(ref.transfer_values(0.1) ** 2), rel=0.03)


@pytest.mark.parametrize("which", ["svd", "generator"])
def test_fetched_model_saves_and_loads_the_fit(double_well, tmp_path, which):
    """deeptime style: fit -> fetch_model() -> save -> load gives the same eigenfunctions, values and timescales on
    new states, from plain tensors (weights_only) and without the learner."""
    _, ref, fits = double_well
    fit = fits[which]
    path = fit.fetch_model().save(tmp_path / "model.pt")
    model = load(path)
    assert torch.load(path, weights_only=True)["format"] == "rlspectral-koopman-fit"
    x = ref.sample(500, np.random.default_rng(1))
    np.testing.assert_allclose(model.eigenfunctions(x), fit.eigenfunctions(x), rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(model.transform(x), model.eigenfunctions(x))
    np.testing.assert_allclose(model.values, fit.model.values)
    np.testing.assert_allclose(model.timescales(), fit.model.timescales())
    assert (model.rates is None) == (which != "generator")
    assert (model.method, model.config.shift, model.config.beta, model.lag_time) == (
        fit.config.method,
        fit.config.shift,
        fit.config.beta,
        fit.config.lag * fit.config.dt,
    )
    x0, x1 = lagged_pairs(list(double_well[0][:50]), 10, None)
    assert model.scores(x0, x1) == pytest.approx(fit.scores(x0, x1), rel=1e-9)


def test_loading_a_bad_file_is_one_checkpoint_error(tmp_path):
    (tmp_path / "garbage.pt").write_bytes(b"not a torch file")
    torch.save({"format": "something-else"}, tmp_path / "other.pt")
    torch.save({"format": "rlspectral-koopman-fit", "version": 1, "config": {}}, tmp_path / "partial.pt")
    cases = {"missing.pt": "not found", "garbage.pt": "not a readable", "other.pt": "not an rlspectral Koopman fit"}
    cases["partial.pt"] = "incomplete or inconsistent"
    for name, message in cases.items():
        with pytest.raises(CheckpointError, match=message) as info:
            load(tmp_path / name)
        assert "\n" not in str(info.value)


@pytest.mark.parametrize(
    "field,value",
    [("method", "nested-omm"), ("lag", 0), ("k", 1), ("steps", 0), ("batch_size", 2.5), ("lr", 0.0), ("dt", -1.0)]
    + [("beta", float("nan")), ("shift", 0), ("hidden", (64, 0)), ("fourier_features", -1), ("eval_pairs", 0)],
)
def test_traj_fit_config_names_a_bad_field(field, value):
    with pytest.raises(ConfigError, match=f"^{field}=") as info:
        TrajFitConfig(**{field: value})
    assert "\n" not in str(info.value) and "pass" in str(info.value)


def test_fit_errors_are_spectral_errors():
    with pytest.raises(ConfigError, match="lag=5: no trajectory is longer than the lag"):
        fit_trajectories(np.zeros((5, 1)), TrajFitConfig(lag=5))
    with pytest.raises(SpectralError, match="trajectories must be"):
        fit_trajectories(np.zeros((2, 3, 4, 1)), TrajFitConfig(lag=1))


def test_best_on_held_out_restores_the_best_weights_not_the_last():
    from rlspectral.koopman.validation import BestOnHeldOut

    rng = np.random.default_rng(0)
    x = np.cumsum(rng.standard_normal((4000, 1)) * 0.1, axis=0) % 1.0  # a random walk on the circle
    pairs = (x[:-1], x[1:])
    learner = type("L", (), {})()
    learner.f, learner.g, learner.step = nn.Linear(1, 3), nn.Linear(1, 3), 0
    with torch.no_grad():  # f = g = (1, x, x): VAMP-E > 1 (x_t, x_t+1 correlate)
        for net in (learner.f, learner.g):
            net.weight.copy_(torch.tensor([[0.0], [1.0], [1.0]]))
            net.bias.copy_(torch.tensor([1.0, 0.0, 0.0]))
    stop = BestOnHeldOut(pairs, pairs, np.zeros(1), np.ones(1))
    learner.step = 100
    good = stop(learner)["vamp_e_valid"]
    best = [p.detach().clone() for p in learner.f.parameters()]
    with torch.no_grad():  # f loses x: only the constant is left, VAMP-E = 1
        learner.f.weight.zero_()
    learner.step = 200
    worse = stop(learner)["vamp_e_valid"]
    assert good > 1.2 and worse == pytest.approx(1.0, abs=1e-9) and stop.best_step == 100
    stop.restore(learner)
    for p, q in zip(learner.f.parameters(), best):
        assert torch.equal(p, q)
    assert stop.score(learner) == pytest.approx(good, rel=1e-12)


def test_fit_trajectories_early_stopping_and_svd_rank(tmp_path):
    data = trajectories("double-well-1d", 200, 1000, seed=1, cache_dir=tmp_path)
    cfg = TrajFitConfig(lag=10, dt=0.01, k=3, steps=300, batch_size=256, hidden=(32, 32), validate_every=100,
                        eval_pairs=20_000, estimator="svd-rank")  # fmt: skip
    fit = fit_trajectories(data[:150], cfg, valid=data[150:])
    steps = [s for s, _ in fit.stats["vamp_e_valid"]]
    scores = [v for _, v in fit.stats["vamp_e_valid"]]
    assert steps == [100, 200, 300] and fit.stats["best_step"] == steps[int(np.argmax(scores))]
    x0, x1 = lagged_pairs(list(data[150:]), 10, 20_000, seed=cfg.seed + 3)
    assert fit.scores(x0, x1)["vamp_e"] == pytest.approx(max(scores), rel=1e-9)  # the kept networks score the best
    rank = select_rank(fit.train_cov, covariances(fit.features(x0), fit.features(x1, "g")))
    assert fit.stats["modes"] == len(fit.model.values) == rank  # svd-rank: the rank held-out VAMP-E picks
    with pytest.raises(ConfigError, match="^estimator=svd-rank: the rank is chosen on held-out trajectories"):
        fit_trajectories(data[:150], TrajFitConfig(lag=10, estimator="svd-rank"))
    with pytest.raises(ConfigError, match="^validate_every=100: early stopping needs held-out trajectories"):
        fit_trajectories(data[:150], cfg)
    with pytest.raises(ConfigError, match=r"^valid: states of \[1, 2\] coordinates"):
        fit_trajectories(data[:150], cfg, valid=np.zeros((50, 20, 2)))
    with pytest.raises(ConfigError, match="^estimator='svd-rank': this estimator needs two networks"):
        TrajFitConfig(estimator="svd-rank", svd=False)
    with pytest.raises(ConfigError, match="^validate_every=5: early stopping scores VAMP-E"):
        TrajFitConfig(method="generator", validate_every=5)
