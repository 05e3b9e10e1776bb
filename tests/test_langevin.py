"""Langevin systems: the finite-volume reference (reversible, convergent), simulation and its cache."""

import dataclasses

import numpy as np
import pytest
import torch

from rlspectral.envs.langevin import (
    SYSTEMS,
    euler_maruyama,
    generator_matrix,
    get_system,
    monte_carlo_expectation,
    reference_spectrum,
    trajectories,
)


@pytest.fixture(autouse=True)
def _one_thread():
    torch.set_num_threads(1)


@pytest.mark.parametrize("name", list(SYSTEMS))
def test_generator_is_reversible_and_conservative(name):
    system = get_system(name)
    Q, _, _, pi = generator_matrix(system, (30,) * system.dim)
    Q = Q.toarray()
    np.testing.assert_allclose(Q.sum(1), 0.0, atol=1e-9)  # rows of a rate matrix sum to zero
    assert (Q - np.diag(np.diag(Q)) >= 0).all()
    flux = pi[:, None] * Q
    np.testing.assert_allclose(flux, flux.T, atol=1e-12 * np.abs(flux).max())  # detailed balance for Boltzmann pi
    np.testing.assert_allclose(pi @ Q, 0.0, atol=1e-12 * np.abs(flux).max())


def test_reference_converges_1d():
    """Scharfetter-Gummel is second order: each halving of h cuts the eigenvalue error about 4x."""
    fine = reference_spectrum("double-well-1d", k=4, cells=3200).values[1:]
    errs = [np.abs(reference_spectrum("double-well-1d", k=4, cells=n).values[1:] / fine - 1) for n in (100, 200, 400)]
    for coarse, finer in zip(errs, errs[1:]):
        assert (finer < coarse / 3).all(), errs
    assert errs[-1].max() < 1e-3


def test_reference_converges_2d():
    system = get_system("triple-well-2d")
    fine = reference_spectrum(system, k=6, cells=160).values[1:]
    errs = [np.abs(reference_spectrum(system, k=6, cells=n).values[1:] / fine - 1).max() for n in (20, 40, 80)]
    assert errs[0] > errs[1] > errs[2], errs
    assert errs[2] < 5e-3, errs


def test_reference_eigenfunctions_are_orthonormal_and_constant_first():
    ref = reference_spectrum("double-well-1d", k=4)
    gram = ref.functions.T @ (ref.pi[:, None] * ref.functions)
    np.testing.assert_allclose(gram, np.eye(4), atol=1e-8)
    np.testing.assert_allclose(np.abs(ref.functions[:, 0]), 1.0, atol=1e-6)
    assert ref.values[0] == 0.0 and (np.diff(ref.values) < 0).all()
    np.testing.assert_allclose(ref.timescales(), -1.0 / ref.values[1:])
    # Interpolation at cell centres returns the grid values.
    np.testing.assert_allclose(ref.evaluate(ref.centers[::50]), ref.functions[::50], atol=1e-10)


def test_simulation_matches_the_reference_dynamics():
    """E[phi_1(x_t) | x_0] = exp(lambda_1 t) phi_1(x_0): Monte Carlo against the reference eigenpair."""
    system = dataclasses.replace(get_system("double-well-1d"))
    ref = reference_spectrum("double-well-1d", k=3)
    x0 = np.array([[-1.0], [0.0], [0.9]])
    phi1 = lambda x: ref.evaluate(x)[:, 1:2]  # noqa: E731
    mean, err = monte_carlo_expectation(system, x0, phi1, [50], n_paths=4000, seed=3)
    expected = np.exp(ref.values[1] * 50 * system.dt) * phi1(x0)
    assert np.all(np.abs(mean[:, 0] - expected) < 4 * err[:, 0] + 0.01), (mean[:, 0], expected)


def test_trajectories_are_cached_and_seeded(tmp_path):
    a = trajectories("double-well-1d", 4, 20, seed=1, cache_dir=tmp_path)
    assert a.shape == (4, 21, 1) and a.dtype == np.float32
    assert len(list(tmp_path.glob("*.npy"))) == 1
    np.testing.assert_array_equal(a, trajectories("double-well-1d", 4, 20, seed=1, cache_dir=tmp_path))
    b = trajectories("double-well-1d", 4, 20, seed=2, cache_dir=tmp_path)
    assert not np.array_equal(a, b) and len(list(tmp_path.glob("*.npy"))) == 2


def test_euler_maruyama_shapes_and_unknown_system():
    out = euler_maruyama(get_system("triple-well-2d"), np.zeros((3, 2)), 5, rng=np.random.default_rng(0))
    assert out.shape == (3, 6, 2) and np.isfinite(out).all()
    with pytest.raises(ValueError, match="unknown Langevin system"):
        get_system("nope")
