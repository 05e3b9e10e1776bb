"""The noisy logistic map and its exact transfer-operator spectrum (docs/design.md: time-lag operators).

    x' = F(x) + xi  (mod 1),   F(x) = r x (1 - x)  (r = 4),   xi ~ c_N cos^N(pi xi) on [-1/2, 1/2],  N even

(Ostruszka et al. 2000; the synthetic benchmark of Kostic et al. 2022 and of Jeong, Ryu et al., NeurIPS 2025.) The
transition density ``p(y | x) = c_N cos^N(pi (y - F(x)))`` is 1-periodic in y (N even); the binomial expansion of
``cos^N`` writes it with N + 1 Fourier modes ``e_k(y) = exp(2 pi i k y)``, ``|k| <= N / 2``:

    p(y | x) = sum_k c_k e_k(y) u_k(x),   u_k(x) = conj(e_k(F(x))),   c_k = binom(N, N/2 + k) / binom(N, N/2)

so the Koopman operator ``(K g)(x) = E[g(x') | x] = sum_k u_k(x) c_k <e_k, g>`` has rank N + 1 and maps everything
into span{u_k}. On that span it is the (N+1) x (N+1) matrix ``A_kl = c_k <e_k, u_l>`` (``K u_l = sum_k u_k A_kl``,
``<a, b> = int_0^1 a b dy``): its eigenvalues are the nonzero (complex) eigenvalues of K and of the transfer
operator. The stationary density is ``pi = sum_k c_k a_k e_k`` with ``a = A^T a``, ``a_0 = 1``. As an operator on
L2(pi), ``K = U V^*`` with ``U e_k = u_k``, ``V e_k = c_k conj(e_k) / pi``: its singular values are those of
``L^* R`` where ``L L^* = <u_j, u_k>_pi`` and ``R R^* = <v_j, v_k>_pi`` (Cholesky factors of the two Gram matrices).
Conditional expectations are exact too: ``(K^n g)(x) = u(x)^T A^(n-1) w`` with ``w_k = c_k <e_k, g>``.

Every integral is a Gauss-Legendre sum on [0, 1] (the integrands are entire or analytic; ``quadrature`` nodes,
default 1024, converge to machine precision: tests/test_logistic.py checks entries against adaptive quadrature
and the eigenvalues against a brute-force transfer matrix on a fine grid). Noise is sampled exactly:
``sin(pi xi) = 2 B - 1`` with ``B ~ Beta((N + 1) / 2, (N + 1) / 2)``.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property

import numpy as np
from scipy.special import comb, roots_legendre

from rlspectral.errors import ConfigError, DataError

_ASIN = np.frompyfunc(math.asin, 1, 1)

Array = np.ndarray


@dataclass(frozen=True)
class NoisyLogisticMap:
    """``x' = r x (1 - x) + xi (mod 1)`` with ``xi ~ c_N cos^N(pi xi)`` on [-1/2, 1/2] (module doc)."""

    N: int = 20
    r: float = 4.0
    quadrature: int = 1024  # Gauss-Legendre nodes on [0, 1] for every integral of the exact spectrum

    def __post_init__(self) -> None:
        if not (isinstance(self.N, (int, np.integer)) and self.N >= 2 and self.N % 2 == 0):
            raise ConfigError(f"N={self.N!r}: the cos^N noise needs an even N >= 2 (a 1-periodic density)")
        if not (0 < self.r <= 4):
            raise ConfigError(f"r={self.r!r}: pass 0 < r <= 4 (F maps [0, 1] into itself)")
        if not (isinstance(self.quadrature, (int, np.integer)) and self.quadrature >= 16):
            raise ConfigError(f"quadrature={self.quadrature!r}: pass at least 16 Gauss-Legendre nodes")

    # ------------------------------------------------------------------------------------------- dynamics
    @property
    def rank(self) -> int:
        """Rank of the transfer operator: N + 1."""
        return self.N + 1

    @property
    def modes(self) -> Array:
        """Fourier indices ``k = -N/2 .. N/2``."""
        return np.arange(-(self.N // 2), self.N // 2 + 1)

    @property
    def coefficients(self) -> Array:
        """``c_k = binom(N, N/2 + k) / binom(N, N/2)`` (c_0 = 1)."""
        return comb(self.N, self.N // 2 + self.modes, exact=False) / comb(self.N, self.N // 2, exact=False)

    def logistic(self, x: Array) -> Array:
        """``F(x) = r x (1 - x)``."""
        return self.r * x * (1.0 - x)

    def noise_density(self, xi: Array) -> Array:
        """``c_N cos^N(pi xi)`` on [-1/2, 1/2] (zero outside), ``c_N = 2^N / binom(N, N/2)``."""
        xi = np.asarray(xi, dtype=np.float64)
        c = 1.0 / (comb(self.N, self.N // 2, exact=False) / 2.0**self.N)
        return np.where(np.abs(xi) <= 0.5, c * np.cos(np.pi * xi) ** self.N, 0.0)

    def noise(self, size: int | tuple[int, ...], rng: np.random.Generator) -> Array:
        """Exact samples of xi: ``arcsin(2 B - 1) / pi`` with ``B ~ Beta((N+1)/2, (N+1)/2)``.

        The arcsine is C's (``math.asin``), not numpy's: numpy picks its vectorized arcsine by the CPU's instruction
        set, and the map is chaotic (a last-bit difference doubles every step), so a seed's trajectory could depend on
        the machine after ~50 steps. Every other operation of a step is exactly rounded."""
        a = 0.5 * (self.N + 1)
        b = 2.0 * rng.beta(a, a, size) - 1.0
        return np.asarray(_ASIN(b), dtype=np.float64) / math.pi

    def transition_density(self, x: Array, y: Array) -> Array:
        """``p(y | x) = c_N cos^N(pi (y - F(x)))`` (broadcasting)."""
        d = np.asarray(y, dtype=np.float64) - self.logistic(np.asarray(x, dtype=np.float64))
        return self.noise_density(d - np.round(d))

    def step(self, x: Array, rng: np.random.Generator) -> Array:
        """One step from states ``x`` (any shape)."""
        return np.mod(self.logistic(x) + self.noise(np.shape(x), rng), 1.0)

    def trajectories(self, n_traj: int, length: int, seed: int = 0, x0: Array | None = None) -> Array:
        """``[n_traj, length + 1, 1]`` float64 paths from ``x0`` (default: exact draws of the stationary density)."""
        if n_traj < 1 or length < 1:
            raise ConfigError(f"n_traj={n_traj}, length={length}: pass at least one trajectory of one step")
        rng = np.random.default_rng(seed)
        x = self.sample_stationary(n_traj, rng) if x0 is None else np.asarray(x0, dtype=np.float64).reshape(n_traj)
        out = np.empty((n_traj, length + 1), dtype=np.float64)
        out[:, 0] = x
        for t in range(length):
            x = self.step(x, rng)
            out[:, t + 1] = x
        return out[..., None]

    def sample_stationary(self, n: int, rng: np.random.Generator) -> Array:
        """``n`` draws of the stationary density: a uniform state pushed one step is a draw of ``P 1``; this uses
        rejection against ``max pi`` instead (exact)."""
        bound = 1.05 * float(self.stationary_density(np.linspace(0.0, 1.0, 4097)).max())
        out = np.empty(0)
        while len(out) < n:
            y = rng.random(2 * n)
            keep = rng.random(2 * n) * bound < self.stationary_density(y)
            out = np.concatenate([out, y[keep]])
        return out[:n]

    # ------------------------------------------------------------------------------------------- exact spectrum
    @cached_property
    def _nodes(self) -> tuple[Array, Array]:
        t, w = roots_legendre(self.quadrature)
        return 0.5 * (t + 1.0), 0.5 * w

    def fourier(self, y: Array) -> Array:
        """``e_k(y)`` for every k: ``[len(y), N + 1]`` complex."""
        return np.exp(2j * np.pi * np.asarray(y, dtype=np.float64).reshape(-1, 1) * self.modes)

    def range_basis(self, x: Array) -> Array:
        """``u_k(x) = conj(e_k(F(x)))``: the functions spanning K's range, ``[len(x), N + 1]``."""
        return np.conj(self.fourier(self.logistic(np.asarray(x, dtype=np.float64))))

    @cached_property
    def koopman_matrix(self) -> Array:
        """``A_kl = c_k int_0^1 e_k(y) u_l(y) dy``: K on span{u_k} (``K u_l = sum_k u_k A_kl``)."""
        y, w = self._nodes
        return self.coefficients[:, None] * ((self.fourier(y) * w[:, None]).T @ self.range_basis(y))

    @cached_property
    def eigenvalues(self) -> Array:
        """The N + 1 nonzero-rank eigenvalues of K (complex), sorted by decreasing modulus (then by angle)."""
        mu = np.linalg.eigvals(self.koopman_matrix)
        mu = np.where(np.abs(mu.imag) < 1e-14, mu.real + 0j, mu)
        return mu[np.lexsort((-np.angle(mu), -np.round(np.abs(mu), 12)))]

    @cached_property
    def _stationary_coefficients(self) -> Array:
        """``c_k a_k``: pi's Fourier coefficients (``a`` the left eigenvector of A at eigenvalue 1, a_0 = 1)."""
        vals, vecs = np.linalg.eig(self.koopman_matrix.T)
        a = vecs[:, np.argmin(np.abs(vals - 1.0))]
        a = a / a[self.N // 2]
        return self.coefficients * a

    def stationary_density(self, y: Array) -> Array:
        """The invariant density pi (a trigonometric polynomial of degree N/2), real."""
        return np.real(self.fourier(y) @ self._stationary_coefficients)

    @cached_property
    def _node_bases(self) -> tuple[Array, Array, Array]:
        """At the quadrature nodes: the weights times pi, the range functions ``u_k`` and the co-range functions
        ``v_k = c_k conj(e_k) / pi`` (``K = U V^*`` on L2(pi), module doc)."""
        x, w = self._nodes
        pi = self.stationary_density(x)
        if pi.min() <= 0:  # pragma: no cover - pi > 0 for every even N (F is onto [0, 1])
            raise ConfigError("the stationary density vanishes somewhere: K on L2(pi) is undefined")
        return w * pi, self.range_basis(x), np.conj(self.fourier(x)) * self.coefficients / pi[:, None]

    def _inner(self, a: Array, b: Array) -> Array:
        """``<a_i, b_j>_pi`` of functions given at the quadrature nodes (columns)."""
        return (np.conj(a) * self._node_bases[0][:, None]).T @ b

    @cached_property
    def singular_values(self) -> Array:
        """The N + 1 singular values of K on L2(pi) (decreasing; the first is 1, the constant)."""
        _, U, V = self._node_bases
        L, R = np.linalg.cholesky(self._inner(U, U)), np.linalg.cholesky(self._inner(V, V))
        return np.linalg.svd(np.conj(L).T @ R, compute_uv=False)

    @cached_property
    def range_matrix(self) -> Array:
        """K restricted to its range span{u_k}, in an L2(pi)-orthonormal basis (``L^* A L^-*`` with
        ``L L^* = <u_j, u_k>_pi``): what a Galerkin matrix on an exact range basis estimates. Same nonzero
        eigenvalues as K."""
        L = np.linalg.cholesky(self._inner(self._node_bases[1], self._node_bases[1]))
        return np.conj(L).T @ self.koopman_matrix @ np.linalg.inv(np.conj(L).T)

    @cached_property
    def operator_matrix(self) -> Array:
        """K on L2(pi) in an orthonormal basis of ``W = span{u_k} + span{v_k}`` (range and co-range), complex, at
        most ``2 (N + 1)`` square. K maps W into W and vanishes on its complement, so this matrix (plus 0 elsewhere)
        is all of K: same nonzero eigenvalues, same singular values, same pseudospectra."""
        _, U, V = self._node_bases
        B = np.concatenate([U, V], axis=1)
        lam, Q = np.linalg.eigh(self._inner(B, B))
        keep = lam > 1e-12 * lam.max()
        phi = B @ (Q[:, keep] / np.sqrt(lam[keep]))  # orthonormal in L2(pi)
        return self._inner(phi, U) @ self._inner(V, phi)

    def conditional_expectation(self, g: Callable[[Array], Array], x: Array, steps: int) -> Array:
        """Exact ``E[g(x_{t+n}) | x_t = x]`` for n = 1..steps: ``[len(x), steps, m]`` (g maps ``[n] -> [n, m]``)."""
        y, w = self._nodes
        gy = np.asarray(g(y), dtype=np.float64).reshape(len(y), -1)
        vec = self.coefficients[:, None] * ((self.fourier(y) * w[:, None]).T @ gy)  # w_k = c_k <e_k, g>
        U = self.range_basis(np.asarray(x, dtype=np.float64).ravel())
        out = np.empty((U.shape[0], steps, gy.shape[1]))
        for n in range(steps):
            out[:, n] = np.real(U @ vec)
            vec = self.koopman_matrix @ vec
        return out

    def population_moments(
        self, f: Callable[[Array], Array], g: Callable[[Array], Array]
    ) -> tuple[tuple[Array, Array, Array], Array]:
        """Exact stationary moments of feature maps ``f, g: [n] -> [n, k]``: ``((C00, C01, C11), gf)`` with
        ``C00 = E_pi[f f^T]``, ``C01 = E[f(x_t) g(x_{t+1})^T] = E_pi[f (K g)^T]``, ``C11 = E_pi[g g^T]`` and
        ``gf = E_pi[g f^T]``: what a Koopman estimator reads from samples, without the sampling noise
        (``rlspectral.koopman.svd_koopman_from_moments``)."""
        x, w = self._nodes
        p = (w * self.stationary_density(x))[:, None]
        F, G = (np.asarray(h(x), dtype=np.float64) for h in (f, g))
        for name, H in (("f", F), ("g", G)):
            if H.ndim not in (1, 2) or len(H) != len(x):
                raise DataError(f"{name} maps {len(x)} states to shape {H.shape}: pass feature maps [n] -> [n, k]")
        F, G = F.reshape(len(x), -1), G.reshape(len(x), -1)
        KG = self.conditional_expectation(g, x, 1)[:, 0]
        return (F.T @ (p * F), F.T @ (p * KG), G.T @ (p * G)), G.T @ (p * F)

    def moments(self, g: Callable[[Array], Array]) -> tuple[Array, Array]:
        """Stationary mean and standard deviation of observables ``g`` (``[m]`` each)."""
        y, w = self._nodes
        gy = np.asarray(g(y), dtype=np.float64).reshape(len(y), -1)
        p = w * self.stationary_density(y)
        mean = p @ gy
        return mean, np.sqrt(p @ (gy - mean) ** 2)


def transfer_matrix(system: NoisyLogisticMap, cells: int) -> Array:
    """Brute-force reference: the midpoint (Nystrom / Ulam) transfer matrix ``P_ab = p(y_b | x_a) / cells`` on a
    uniform grid of cell centres; its top eigenvalues converge to K's as the grid is refined."""
    x = (np.arange(cells) + 0.5) / cells
    return system.transition_density(x[:, None], x[None, :]) / cells
