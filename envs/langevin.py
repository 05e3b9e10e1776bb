"""Overdamped Langevin systems with exact reference spectra (docs/design.md: time-lag operators).

    dx = -grad V(x) dt + sqrt(2 / beta) dW,        generator  L f = beta^-1 Laplace f - grad V . grad f

reversible with respect to the Boltzmann density rho(x) ~ exp(-beta V(x)). The transfer (Koopman) operator
over a lag t is T_t = exp(t L): eigenvalues mu_i = exp(lambda_i t) with lambda_0 = 0 > lambda_1 >= ...,
implied timescales t_i = -1 / lambda_i.

* Simulation: Euler-Maruyama, ``substeps`` inner steps of ``dt / substeps`` per saved step; trajectories
  start from the stationary density (so rho is the data distribution) and are cached on disk, seeded.
* Reference: L discretized by finite volumes on a regular cell-centred grid with Scharfetter-Gummel fluxes,
  ``Q_ij = B(beta (V_j - V_i)) / (beta h^2)`` between neighbour cells, ``B(z) = z / (e^z - 1)``. Since
  ``B(z) / B(-z) = e^-z``, ``pi_i Q_ij = pi_j Q_ji`` with ``pi_i ~ exp(-beta V_i)``: the scheme is reversible
  for the Boltzmann weights, and ``D^1/2 Q D^-1/2`` is symmetric (D = diag pi). No-flux boundary.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import numpy as np

from rlspectral.errors import ConfigError

Array = np.ndarray


# ----------------------------------------------------------------------------------------------- potentials
def double_well_potential(x: Array) -> Array:
    """Asymmetric double well ``V(x) = (x^2 - 1)^2 + 0.25 x``: minima near -1.03 (deep) and +0.96."""
    x = x[..., 0]
    return (x**2 - 1.0) ** 2 + 0.25 * x


def double_well_gradient(x: Array) -> Array:
    x0 = x[..., 0]
    return (4.0 * x0 * (x0**2 - 1.0) + 0.25)[..., None]


# Triple well (Metzner, Schuette, Vanden-Eijnden 2006): wells near (-1, 0), (1, 0) and (0, 1.5).
_TW_GAUSSIANS = ((3.0, 0.0, 1.0 / 3.0), (-3.0, 0.0, 5.0 / 3.0), (-5.0, 1.0, 0.0), (-5.0, -1.0, 0.0))


def triple_well_potential(x: Array) -> Array:
    """``V = sum_g a_g exp(-(x - x_g)^2 - (y - y_g)^2) + 0.2 x^4 + 0.2 (y - 1/3)^4``."""
    px, py = x[..., 0], x[..., 1]
    v = 0.2 * px**4 + 0.2 * (py - 1.0 / 3.0) ** 4
    for a, cx, cy in _TW_GAUSSIANS:
        v = v + a * np.exp(-((px - cx) ** 2) - (py - cy) ** 2)
    return v


def triple_well_gradient(x: Array) -> Array:
    px, py = x[..., 0], x[..., 1]
    gx = 0.8 * px**3
    gy = 0.8 * (py - 1.0 / 3.0) ** 3
    for a, cx, cy in _TW_GAUSSIANS:
        e = a * np.exp(-((px - cx) ** 2) - (py - cy) ** 2)
        gx = gx - 2.0 * (px - cx) * e
        gy = gy - 2.0 * (py - cy) * e
    return np.stack([gx, gy], axis=-1)


@dataclass(frozen=True)
class LangevinSystem:
    """A potential, an inverse temperature and a box that holds all but a negligible part of rho."""

    name: str
    beta: float
    bounds: tuple[tuple[float, float], ...]
    potential: Callable[[Array], Array] = field(repr=False)
    gradient: Callable[[Array], Array] = field(repr=False)
    dt: float = 0.01  # default time between saved states
    substeps: int = 50  # Euler-Maruyama steps per saved state (h = 2e-4: EM bias of the rates well below 1%)
    grid: tuple[int, ...] = (2000,)  # reference grid cells per axis

    @property
    def dim(self) -> int:
        return len(self.bounds)


SYSTEMS: dict[str, LangevinSystem] = {
    "double-well-1d": LangevinSystem(
        "double-well-1d", 2.0, ((-2.2, 2.2),), double_well_potential, double_well_gradient, grid=(2000,)
    ),
    "triple-well-2d": LangevinSystem(
        "triple-well-2d",
        1.3,
        ((-2.4, 2.4), (-1.9, 2.9)),
        triple_well_potential,
        triple_well_gradient,
        grid=(240, 240),
    ),
}


def get_system(name: str) -> LangevinSystem:
    """A system of :data:`SYSTEMS` by name."""
    try:
        return SYSTEMS[name]
    except KeyError:
        raise ConfigError(f"unknown Langevin system {name!r}; choose one of {', '.join(SYSTEMS)}") from None


# ----------------------------------------------------------------------------------------------- simulation
def euler_maruyama(
    system: LangevinSystem,
    x0: Array,
    n_steps: int,
    dt: float | None = None,
    substeps: int | None = None,
    rng: np.random.Generator | None = None,
) -> Array:
    """Paths ``[n, n_steps + 1, d]`` from ``x0 [n, d]``: ``x += -grad V(x) h + sqrt(2 h / beta) xi``,
    ``h = dt / substeps``, saved every ``dt``."""
    dt = system.dt if dt is None else dt
    substeps = system.substeps if substeps is None else substeps
    rng = rng if rng is not None else np.random.default_rng()
    h = dt / substeps
    noise = np.sqrt(2.0 * h / system.beta)
    x = np.array(x0, dtype=np.float64, copy=True)
    out = np.empty((x.shape[0], n_steps + 1, x.shape[1]), dtype=np.float64)
    out[:, 0] = x
    for t in range(n_steps):
        for _ in range(substeps):
            x += -system.gradient(x) * h + noise * rng.standard_normal(x.shape)
        out[:, t + 1] = x
    return out


def _cache_dir(cache_dir: str | Path | None) -> Path:
    if cache_dir is not None:
        return Path(cache_dir)
    return Path(os.environ.get("RLSPECTRAL_CACHE", Path.home() / ".cache" / "rlspectral")) / "langevin"


def trajectories(
    system: LangevinSystem | str,
    n_traj: int,
    length: int,
    seed: int = 0,
    dt: float | None = None,
    substeps: int | None = None,
    cache_dir: str | Path | None = None,
) -> Array:
    """Stationary trajectories ``[n_traj, length + 1, d]`` (float32), cached under ``cache_dir``
    (default ``$RLSPECTRAL_CACHE`` or ``~/.cache/rlspectral``, subfolder ``langevin``); same arguments, same data."""
    system = get_system(system) if isinstance(system, str) else system
    dt = system.dt if dt is None else dt
    substeps = system.substeps if substeps is None else substeps
    key = dict(system=system.name, beta=system.beta, n_traj=n_traj, length=length, seed=seed, dt=dt, sub=substeps)
    digest = hashlib.sha1(json.dumps(key, sort_keys=True).encode()).hexdigest()[:12]
    path = _cache_dir(cache_dir) / f"{system.name}-{digest}.npy"
    if path.exists():
        return np.load(path)
    rng = np.random.default_rng(seed)
    x0 = reference_spectrum(system, k=2).sample(n_traj, rng)
    data = euler_maruyama(system, x0, length, dt, substeps, rng).astype(np.float32)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + f".{os.getpid()}.tmp.npy")
    np.save(tmp, data)
    tmp.replace(path)  # atomic: parallel workers never read half a file
    return data


def monte_carlo_expectation(
    system: LangevinSystem,
    x0: Array,
    observable: Callable[[Array], Array],
    horizons: list[int] | Array,
    n_paths: int,
    dt: float | None = None,
    substeps: int | None = None,
    seed: int = 0,
) -> tuple[Array, Array]:
    """Monte Carlo ``E[h(x_{n dt}) | x_0]`` and its standard error, for each start ``x0 [m, d]`` and saved-step
    horizon n (increasing): two arrays ``[m, len(horizons), n_obs]`` (observable maps ``[N, d] -> [N, n_obs]``)."""
    horizons = np.asarray(horizons, dtype=np.int64)
    if np.any(np.diff(horizons) < 0) or horizons.min() < 0:
        raise ConfigError("horizons must be non-negative and increasing")
    rng = np.random.default_rng(seed)
    x = np.repeat(np.asarray(x0, dtype=np.float64), n_paths, axis=0)
    m = len(x0)
    n_obs = observable(x[:1]).shape[-1]
    mean, err = np.zeros((m, len(horizons), n_obs)), np.zeros((m, len(horizons), n_obs))
    t = 0
    for j, n in enumerate(horizons):
        if n > t:
            x = euler_maruyama(system, x, int(n - t), dt, substeps, rng)[:, -1]
            t = int(n)
        h = observable(x).reshape(m, n_paths, n_obs)
        mean[:, j], err[:, j] = h.mean(1), h.std(1) / np.sqrt(n_paths)
    return mean, err


# ----------------------------------------------------------------------------------------------- reference
def _bernoulli(z: Array) -> Array:
    """``B(z) = z / (e^z - 1)``, with B(0) = 1."""
    small = np.abs(z) < 1e-8
    zs = np.where(small, 1.0, z)
    return np.where(small, 1.0 - z / 2.0, zs / np.expm1(zs))


@dataclass
class ReferenceSpectrum:
    """Top eigenpairs of the finite-volume generator on a cell-centred grid.

    ``values`` lambda_0 = 0 > lambda_1 >= ... (descending); ``functions [n_cells, k]`` orthonormal in
    L2(pi) (sum_c pi_c phi_i phi_j = delta_ij), sign fixed so that sum_c pi_c phi_i(c) x_c >= 0 ... for the
    first coordinate; ``pi`` the cell probabilities.
    """

    system: LangevinSystem
    axes: list[Array]
    centers: Array  # [n_cells, d]
    pi: Array  # [n_cells]
    values: Array  # [k]
    functions: Array  # [n_cells, k]
    generator: object = field(repr=False)  # scipy.sparse matrix Q, (Q f)_i = sum_j Q_ij f_j

    @property
    def shape(self) -> tuple[int, ...]:
        return tuple(len(a) for a in self.axes)

    def timescales(self) -> Array:
        """Implied timescales ``t_i = -1 / lambda_i`` of the non-trivial modes."""
        return -1.0 / self.values[1:]

    def transfer_values(self, lag_time: float) -> Array:
        """Transfer-operator eigenvalues ``mu_i = exp(lambda_i t)``."""
        return np.exp(self.values * lag_time)

    def evaluate(self, x: Array, functions: Array | None = None) -> Array:
        """Grid functions ``[n_cells, m]`` (default: the eigenfunctions) interpolated (multilinear) at ``x [n, d]``;
        points outside the grid take the nearest boundary value."""
        from scipy.interpolate import RegularGridInterpolator

        values = self.functions if functions is None else functions
        values = values.reshape(*self.shape, -1)
        interp = RegularGridInterpolator(tuple(self.axes), values, bounds_error=False, fill_value=None)
        lo = np.array([a[0] for a in self.axes])
        hi = np.array([a[-1] for a in self.axes])
        return interp(np.clip(np.asarray(x, dtype=np.float64), lo, hi))

    def sample(self, n: int, rng: np.random.Generator) -> Array:
        """``n`` points of the stationary density: a cell by pi, then uniform inside it."""
        cells = rng.choice(len(self.pi), size=n, p=self.pi)
        widths = np.array([a[1] - a[0] for a in self.axes])
        return self.centers[cells] + (rng.random((n, len(self.axes))) - 0.5) * widths


def generator_matrix(system: LangevinSystem, cells: tuple[int, ...]):
    """``(Q, axes, centers, pi)``: the Scharfetter-Gummel finite-volume generator (module doc), sparse CSR."""
    import scipy.sparse as sp

    if len(cells) != system.dim:
        raise ConfigError(f"{system.name} is {system.dim}-D; got {len(cells)} grid sizes")
    axes = []
    for (lo, hi), n in zip(system.bounds, cells):
        h = (hi - lo) / n
        axes.append(lo + h * (np.arange(n) + 0.5))
    mesh = np.stack(np.meshgrid(*axes, indexing="ij"), axis=-1)
    centers = mesh.reshape(-1, system.dim)
    V = system.potential(centers)
    index = np.arange(len(centers)).reshape(cells)
    rows, cols, rates = [], [], []
    for ax, coords in enumerate(axes):
        h = coords[1] - coords[0]
        a = np.take(index, np.arange(cells[ax] - 1), axis=ax).ravel()
        b = np.take(index, np.arange(1, cells[ax]), axis=ax).ravel()
        dv = system.beta * (V[b] - V[a])
        scale = 1.0 / (system.beta * h * h)
        rows += [a, b]
        cols += [b, a]
        rates += [scale * _bernoulli(dv), scale * _bernoulli(-dv)]
    r, c, q = np.concatenate(rows), np.concatenate(cols), np.concatenate(rates)
    n = len(centers)
    Q = sp.csr_matrix((q, (r, c)), shape=(n, n))
    Q = Q - sp.diags(np.asarray(Q.sum(axis=1)).ravel())
    logpi = -system.beta * (V - V.min())
    pi = np.exp(logpi)
    return Q.tocsr(), axes, centers, pi / pi.sum()


def _reference(system: LangevinSystem, cells: tuple[int, ...], k: int) -> ReferenceSpectrum:
    from scipy.sparse import diags
    from scipy.sparse.linalg import eigsh

    Q, axes, centers, pi = generator_matrix(system, cells)
    # D^1/2 Q D^-1/2 has off-diagonal entries sqrt(Q_ij Q_ji) (detailed balance): symmetric, and free of
    # the under/overflow of pi far up the potential.
    off = Q - diags(Q.diagonal())
    S = off.multiply(off.T).sqrt() + diags(Q.diagonal())
    s = np.sqrt(pi)
    # Shift-invert just right of 0 (the top of the spectrum); S itself is singular.
    vals, vecs = eigsh(S.tocsc(), k=k, sigma=1e-6, which="LM", v0=s + 1e-3)
    order = np.argsort(-vals)
    vals, vecs = vals[order], vecs[:, order]
    # phi = v / sqrt(pi); where pi underflows the eigenvector carries no information: hold it at the
    # value of v's scale there (those cells have negligible weight in every L2(rho) quantity).
    phi = vecs / np.maximum(s, 1e-150)[:, None]
    phi = np.where(s[:, None] > 1e-150, phi, 0.0)
    phi /= np.sqrt((pi[:, None] * phi**2).sum(0))
    sign = np.sign((pi[:, None] * phi * (centers.sum(1) + 1e-3)[:, None]).sum(0))
    phi *= np.where(sign == 0, 1.0, sign)
    vals[0] = 0.0 if abs(vals[0]) < 1e-8 else vals[0]
    return ReferenceSpectrum(system, axes, centers, pi, vals, phi, Q)


@lru_cache(maxsize=8)
def _reference_cached(name: str, cells: tuple[int, ...], k: int) -> ReferenceSpectrum:
    return _reference(get_system(name), cells, k)


def reference_spectrum(
    system: LangevinSystem | str, k: int = 6, cells: int | tuple[int, ...] | None = None
) -> ReferenceSpectrum:
    """Top-k eigenpairs of the generator (cached per registered system, grid and k)."""
    system = get_system(system) if isinstance(system, str) else system
    cells = system.grid if cells is None else cells
    cells = (cells,) * system.dim if isinstance(cells, int) else tuple(cells)
    if SYSTEMS.get(system.name) is system:
        return _reference_cached(system.name, cells, k)
    return _reference(system, cells, k)
