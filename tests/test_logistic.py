"""The noisy logistic map: its finite basis against quadrature and a brute-force transfer matrix, the noise sampler
against its density, exact conditional expectations against Monte Carlo."""

import numpy as np
import pytest
from scipy import integrate, stats

from rlspectral.envs.logistic import NoisyLogisticMap, transfer_matrix
from rlspectral.errors import ConfigError, DataError
from rlspectral.metrics import eigenvalue_backward_error


@pytest.fixture(scope="module")
def system() -> NoisyLogisticMap:
    return NoisyLogisticMap(N=20)


def test_koopman_matrix_entries_match_adaptive_quadrature(system):
    A, c, modes = system.koopman_matrix, system.coefficients, system.modes
    for k, ell in [(0, 0), (-4, 7), (10, -10)]:
        i, j = k + 10, ell + 10

        def integrand(y: float, part, k: int = k, ell: int = ell) -> float:
            return part(np.exp(2j * np.pi * (k * y - ell * system.logistic(y))))

        re = integrate.quad(integrand, 0, 1, args=(np.real,), limit=400, epsabs=1e-13)[0]
        im = integrate.quad(integrand, 0, 1, args=(np.imag,), limit=400, epsabs=1e-13)[0]
        assert modes[i] == k and modes[j] == ell
        assert abs(A[i, j] - c[i] * (re + 1j * im)) < 1e-12
    # p(y | x) = sum_k c_k e_k(y) u_k(x): the expansion reproduces the kernel.
    x, y = np.random.default_rng(0).random((2, 50))
    kernel = np.real(np.sum(system.fourier(y) * c * system.range_basis(x), axis=1))
    np.testing.assert_allclose(kernel, system.transition_density(x, y), rtol=1e-10, atol=1e-12)


def test_exact_eigenvalues_match_a_brute_force_transfer_matrix(system):
    mu = system.eigenvalues
    assert len(mu) == system.rank == 21
    assert abs(mu[0] - 1) < 1e-12
    np.testing.assert_allclose(mu[1:3], [-0.193338 + 0.190943j, -0.193338 - 0.190943j], atol=1e-6)  # a complex pair
    ulam = np.linalg.eigvals(transfer_matrix(system, 300))
    ulam = ulam[np.argsort(-np.abs(ulam))][:8]
    assert np.abs(ulam[:, None] - mu[None, :8]).min(1).max() < 1e-6  # h^4 convergence: 7.5e-8 at 300 cells
    # Converged quadrature: a quarter of the nodes changes nothing.
    coarse = NoisyLogisticMap(N=20, quadrature=256)
    np.testing.assert_allclose(coarse.eigenvalues[:8], mu[:8], atol=1e-10)
    np.testing.assert_allclose(coarse.singular_values, system.singular_values, atol=1e-12)


def test_singular_values_and_stationary_density_match_the_grid(system):
    # pi is invariant: int pi(x) p(y | x) dx = pi(y), by adaptive quadrature.
    for y in (0.05, 0.5, 0.93):

        def push(x: float, y: float = y) -> float:
            return system.stationary_density(x)[0] * system.transition_density(x, y)

        pushed = integrate.quad(push, 0, 1, limit=400, epsabs=1e-13)[0]
        assert abs(pushed - system.stationary_density(y)[0]) < 1e-10
    assert abs(integrate.quad(lambda x: system.stationary_density(x)[0], 0, 1)[0] - 1) < 1e-12

    def grid_values(n: int) -> np.ndarray:  # K on L2(pi) in orthonormal grid coordinates sqrt(pi_a / n) f_a
        x = (np.arange(n) + 0.5) / n
        s = np.sqrt(system.stationary_density(x))
        return np.linalg.svd(s[:, None] * transfer_matrix(system, n) / s[None, :], compute_uv=False)[:12]

    coarse, fine = grid_values(200), grid_values(400)
    assert np.abs(fine - system.singular_values[:12]).max() < 3e-5  # O(h^2) midpoint error
    np.testing.assert_allclose((4 * fine - coarse) / 3, system.singular_values[:12], atol=1e-6)  # Richardson
    assert abs(system.singular_values[0] - 1) < 1e-12


def test_operator_matrix_is_k_on_l2_pi_and_its_pseudospectra_match_the_grid(system):
    M = system.operator_matrix
    # The whole of K: its nonzero eigenvalues and its singular values.
    mu = np.linalg.eigvals(M)
    assert np.abs(mu[:, None] - system.eigenvalues[None, :8]).min(0).max() < 1e-9
    R = system.range_matrix  # K on its range alone: the same nonzero eigenvalues
    assert np.abs(np.linalg.eigvals(R)[:, None] - system.eigenvalues[None, :8]).min(0).max() < 1e-9
    np.testing.assert_allclose(np.linalg.svd(M, compute_uv=False)[:21], system.singular_values, atol=1e-6)
    # sigma_min(z I - K) on L2(pi) against the grid operator in orthonormal coordinates (independent discretization).
    x = (np.arange(400) + 0.5) / 400
    s = np.sqrt(system.stationary_density(x))
    grid = s[:, None] * transfer_matrix(system, 400) / s[None, :]
    z = np.array([0.3, -0.2 + 0.1j, 0.05j, 0.6 - 0.3j])
    beta = eigenvalue_backward_error(M, z, zero_part=True)
    np.testing.assert_allclose(eigenvalue_backward_error(grid, z), beta, rtol=2e-3)
    assert np.all(eigenvalue_backward_error(M, system.eigenvalues[:6], zero_part=True) < 1e-10)
    # Far from normal: points 0.1 away from every eigenvalue are eigenvalues of K + E with ||E|| < 10^-2.
    assert eigenvalue_backward_error(M, np.array([0.1 + 0.1j]), zero_part=True)[0] < 1e-2


def test_backward_error_against_closed_forms():
    # Normal matrix: the distance to the spectrum.
    a = np.diag([1.0, -0.5, 0.2j])
    z = np.array([0.3 + 0.4j, 2.0, -0.5 + 1e-3j])
    np.testing.assert_allclose(eigenvalue_backward_error(a, z), [np.sqrt(0.13), 1.0, 1e-3], rtol=1e-9)
    # Jordan block [[0, 1], [0, 0]]: sigma_min^2 = (2|z|^2 + 1 - sqrt((2|z|^2 + 1)^2 - 4|z|^4)) / 2.
    r2 = np.abs(z) ** 2
    exact = np.sqrt((2 * r2 + 1 - np.sqrt((2 * r2 + 1) ** 2 - 4 * r2**2)) / 2)
    np.testing.assert_allclose(eigenvalue_backward_error(np.array([[0.0, 1.0], [0.0, 0.0]]), z), exact, rtol=1e-9)
    np.testing.assert_allclose(eigenvalue_backward_error(a, z, zero_part=True), [np.sqrt(0.13), 1.0, 1e-3], rtol=1e-9)
    assert eigenvalue_backward_error(a, np.array([0.01]), zero_part=True)[0] == pytest.approx(0.01)
    with pytest.raises(DataError, match="square"):
        eigenvalue_backward_error(np.ones((2, 3)), z)


def test_noise_sampler_follows_the_cos_power_density(system):
    xi = system.noise(20_000, np.random.default_rng(1))
    assert np.abs(xi).max() <= 0.5

    def cdf(t: np.ndarray) -> np.ndarray:
        return np.array([integrate.quad(system.noise_density, -0.5, v)[0] for v in np.atleast_1d(t)])

    grid = np.linspace(-0.5, 0.5, 401)
    table = cdf(grid)
    assert abs(table[-1] - 1) < 1e-10  # the density is normalized
    assert stats.kstest(xi, lambda t: np.interp(t, grid, table)).pvalue > 0.01
    var = integrate.quad(lambda t: t * t * system.noise_density(t), -0.5, 0.5)[0]
    assert abs(xi.var() / var - 1) < 0.05
    assert abs(xi.mean()) < 4 * np.sqrt(var / len(xi))


def test_conditional_expectations_match_monte_carlo(system):
    rng = np.random.default_rng(2)
    x0 = np.array([0.1, 0.37, 0.8])

    def g(x: np.ndarray) -> np.ndarray:
        return np.stack([np.cos(2 * np.pi * x), x], axis=-1)

    exact = system.conditional_expectation(g, x0, 3)
    x = np.repeat(x0, 40_000)
    for n in range(3):
        x = system.step(x, rng)
        mc = g(x).reshape(3, -1, 2)
        err = mc.std(1) / np.sqrt(mc.shape[1])
        assert np.all(np.abs(mc.mean(1) - exact[:, n]) < 5 * err)
    mean, std = system.moments(g)
    sample = g(system.sample_stationary(50_000, rng))
    assert np.all(np.abs(sample.mean(0) - mean) < 5 * std / np.sqrt(50_000))


def test_population_moments_give_the_exact_spectrum_and_match_samples(system):
    """Exact range / co-range bases through the svd model with exact moments: every eigenvalue and singular value
    of K; for other functions the moments are the limit of the sample moments (within 5 standard errors)."""
    from rlspectral.koopman import singular_values, svd_koopman_from_moments

    ks = np.arange(system.N // 2 + 1)

    def trig(t: np.ndarray) -> np.ndarray:
        return np.concatenate([np.cos(2 * np.pi * ks * t[:, None]), np.sin(2 * np.pi * ks[1:] * t[:, None])], axis=1)

    cov, gf = system.population_moments(
        lambda x: trig(system.logistic(x)), lambda y: trig(y) / system.stationary_density(y)[:, None]
    )
    mu = np.asarray(svd_koopman_from_moments(cov, gf, 1.0).values)
    exact = system.eigenvalues
    assert np.abs(mu[:, None] - exact[None, :]).min(0).max() < 1e-8  # each exact eigenvalue is found
    assert np.abs(mu[:, None] - exact[None, :]).min(1).max() < 1e-8  # and nothing else
    np.testing.assert_allclose(singular_values(*cov), system.singular_values, atol=1e-12)

    def f(x: np.ndarray) -> np.ndarray:
        return np.stack([np.ones_like(x), np.cos(2 * np.pi * x), x**2], axis=1)

    def g(y: np.ndarray) -> np.ndarray:
        return np.stack([np.sin(2 * np.pi * y), y], axis=1)

    (C00, C01, C11), gf = system.population_moments(f, g)
    rng = np.random.default_rng(7)
    x = system.sample_stationary(200_000, rng)
    y = system.step(x, rng)  # independent stationary pairs
    for exact, prod in [(C00, f(x)[:, :, None] * f(x)[:, None]), (C01, f(x)[:, :, None] * g(y)[:, None]),
                        (C11, g(y)[:, :, None] * g(y)[:, None]), (gf, g(x)[:, :, None] * f(x)[:, None])]:  # fmt: skip
        se = prod.std(0) / np.sqrt(len(x)) + 1e-12
        assert np.all(np.abs(prod.mean(0) - exact) < 5 * se)
    assert C00[0, 0] == pytest.approx(1.0, abs=1e-12)
    with pytest.raises(DataError, match=r"f maps 1024 states to shape \(10, 3\)"):
        system.population_moments(lambda x: f(x)[:10], g)  # a feature map that drops states


def test_other_noise_orders_and_errors():
    small = NoisyLogisticMap(N=4)
    mu = small.eigenvalues
    assert len(mu) == 5
    ulam = np.linalg.eigvals(transfer_matrix(small, 200))
    ulam = ulam[np.argsort(-np.abs(ulam))][:5]
    assert np.abs(ulam[:, None] - mu[None, :]).min(1).max() < 1e-6
    paths = small.trajectories(3, 10, seed=5)
    assert paths.shape == (3, 11, 1) and np.all((paths >= 0) & (paths < 1))
    np.testing.assert_array_equal(paths, small.trajectories(3, 10, seed=5))
    for bad in (3, 0, 2.0):
        with pytest.raises(ConfigError, match="even N"):
            NoisyLogisticMap(N=bad)
    with pytest.raises(ConfigError, match="r="):
        NoisyLogisticMap(r=5.0)


@pytest.mark.slow
def test_nested_lora_svd_learns_the_logistic_map_and_the_model_reloads(system, tmp_path):
    """Two networks on the circle embedding, a short fit: singular values near the exact ones, the truncated-SVD
    model's one-step prediction of E[cos 2 pi x_1 | x_0] near the exact one, and the
    saved model predicts the same after loading."""
    import torch

    from rlspectral.koopman import TrajFitConfig, fit_trajectories, load

    torch.set_num_threads(1)
    x = system.trajectories(1, 20_000, seed=3)[0, :, 0]

    def embed(t: np.ndarray) -> np.ndarray:
        return np.stack([np.cos(2 * np.pi * t), np.sin(2 * np.pi * t)], axis=1).astype(np.float32)

    cfg = TrajFitConfig(lag=1, k=6, steps=300, batch_size=512, lr=2e-3, hidden=(64, 64), fourier_features=16,
                        estimator="svd", reversible=False, eval_pairs=20_000)  # fmt: skip
    fit = fit_trajectories(embed(x), cfg)
    sv = np.array(fit.stats["singular_values"])
    np.testing.assert_allclose(sv[:5], system.singular_values[:5], atol=0.03)
    assert abs(fit.model.values[0] - 1) < 1e-6  # (a rank-6 truncation's other eigenvalues are not K's)
    starts = x[:64]

    def cos(t: np.ndarray) -> np.ndarray:
        return np.cos(2 * np.pi * np.asarray(t)).reshape(-1, 1)

    truth = system.conditional_expectation(cos, starts, 3)[:, :, 0]
    b = fit.project(lambda z: np.cos(2 * np.pi * np.arctan2(z[:, 1], z[:, 0]) / (2 * np.pi))[:, None])
    pred = np.stack([fit.predict(embed(starts), b, n)[:, 0] for n in (1, 2, 3)], axis=1)
    _, std = system.moments(cos)
    # One step is the rank-6 truncation's best-approximated quantity (its powers need more modes: the benchmark).
    assert np.sqrt(np.mean((pred[:, 0] - truth[:, 0]) ** 2)) / std[0] < 0.1
    model = load(fit.fetch_model().save(tmp_path / "model.pt"))
    assert model.koopman.offset == 1 and model.koopman.readout == "g"
    z = embed(x[1000:3000])
    b2 = model.project(z, np.cos(2 * np.pi * x[1000:3000])[:, None])
    reloaded, fitted = model.predict(embed(starts), b2, 2), fit.model.predict(fit.features(embed(starts)), b2, 2)
    np.testing.assert_allclose(reloaded, fitted, rtol=1e-6, atol=1e-8)
    with pytest.raises(ConfigError, match="needs two networks"):
        TrajFitConfig(estimator="svd", svd=False)


def test_a_seed_gives_the_same_trajectory_on_every_machine(system):
    """The map is chaotic (a last-bit difference doubles every step), so step 300 of seed 0 pins every operation of
    the sampler's arithmetic: a seed's data (and every per-seed number of scripts/koopman_logistic.py) must not depend
    on the CPU's instruction set or on library versions."""
    x = system.trajectories(1, 300, seed=0)[0, -1, 0]
    assert x.hex() == "0x1.eb79e5f424bb0p-3"
