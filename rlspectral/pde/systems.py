"""Schrodinger operators ``H = -kappa Delta + V`` on R^d with closed-form spectra and eigenfunctions (docs/design.md,
"Differential operators"). ``kappa = 1/2`` is atomic units; ``kappa = 1`` is the ``-Delta`` convention of the
NeuralSVD code (2D hydrogen ground state -1). With the mass ``m = 1 / (2 kappa)``:

* hydrogen-like ``V = -Z / r``: ``E_n = -m Z^2 / (2 (n - 1/2)^2)`` in 2D (degeneracy 2n - 1),
  ``E_n = -m Z^2 / (2 n^2)`` in 3D (degeneracy n^2); eigenfunctions ``R_nl(r) Y_l(angles)`` with
  ``R_nl ~ rho^l exp(-rho / 2) L^(alpha)_(n_r)(rho)`` (generalized Laguerre; alpha = 2|l| in 2D, 2l + 1 in 3D),
  real angular parts (cos / sin of l theta in 2D, real spherical harmonics in 3D);
* harmonic oscillator ``V = 1/2 sum_a omega_a^2 x_a^2``: ``E = sum_a Omega_a (n_a + 1/2)`` with
  ``Omega_a = omega_a sqrt(2 kappa)``; eigenfunctions products of Hermite functions of ``sqrt(alpha_a) x_a``,
  ``alpha_a = omega_a / sqrt(2 kappa)``.

States are listed by energy ascending; :attr:`System.shells` groups degenerate ones. Every eigenfunction is real and
normalized in L2(R^d, dx).
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from scipy import special

from rlspectral.config import check, is_int, is_real
from rlspectral.errors import ConfigError

MAX_SHELL = 8  # hydrogen: shells n <= 8 are tabulated (2D: 64 states, 3D: 204)
MAX_OSCILLATOR_STATES = 200


@dataclass(frozen=True)
class State:
    """One eigenstate: its energy and quantum numbers (hydrogen: (n, l, m); oscillator: (n_1, ..., n_d))."""

    energy: float
    numbers: tuple[int, ...]


@dataclass
class System:
    """``H = -kappa Delta + V`` with a closed-form spectrum: ``kind`` hydrogen (``charge`` Z) or oscillator
    (``omega``, one frequency per axis), in ``dim`` = 2 or 3 dimensions. Plain data (stored in checkpoints)."""

    kind: str = "hydrogen"
    dim: int = 2
    charge: float = 1.0
    omega: tuple[float, ...] = ()
    kinetic: float = 0.5
    states: list[State] = field(default_factory=list, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        check(self.kind in ("hydrogen", "oscillator"), "system", self.kind, "pass hydrogen or oscillator")
        check(is_int(self.dim) and self.dim in (2, 3), "dim", self.dim, "pass 2 or 3")
        ok = is_real(self.kinetic) and self.kinetic > 0
        check(ok, "kinetic", self.kinetic, "pass a coefficient > 0 (0.5: -Delta/2)")
        if self.kind == "hydrogen":
            check(is_real(self.charge) and self.charge > 0, "charge", self.charge, "pass a nuclear charge Z > 0")
            self.omega = ()
        else:
            omega = tuple(float(w) for w in self.omega) or (1.0,) * self.dim
            if len(omega) == 1:
                omega = omega * self.dim
            check(len(omega) == self.dim, "omega", self.omega, f"pass 1 or {self.dim} frequencies (one per axis)")
            check(all(is_real(w) and w > 0 for w in omega), "omega", self.omega, "every frequency must be > 0")
            self.omega = omega
        self.states = self._hydrogen_states() if self.kind == "hydrogen" else self._oscillator_states()

    # ----------------------------------------------------------------- spectrum
    @property
    def mass(self) -> float:
        return 1.0 / (2.0 * self.kinetic)

    def _hydrogen_states(self) -> list[State]:
        m, Z, d = self.mass, self.charge, self.dim
        states = []
        for n in range(1, MAX_SHELL + 1):
            energy = -m * Z**2 / (2 * (n - 0.5) ** 2) if d == 2 else -m * Z**2 / (2 * n**2)
            for ell in range(n):
                for mm in ((0,) if ell == 0 else (ell, -ell)) if d == 2 else range(-ell, ell + 1):
                    states.append(State(energy, (n, ell, mm)))
        return states

    def _oscillator_states(self) -> list[State]:
        Omega = [w * math.sqrt(2 * self.kinetic) for w in self.omega]
        top = int(math.ceil(MAX_OSCILLATOR_STATES ** (1 / self.dim))) + 2
        states = []
        for ns in itertools.product(range(top * 3), repeat=self.dim):
            states.append(State(sum(o * (n + 0.5) for o, n in zip(Omega, ns)), tuple(ns)))
        states.sort(key=lambda s: (round(s.energy, 9), s.numbers))
        return states[:MAX_OSCILLATOR_STATES]

    def energies(self, k: int) -> np.ndarray:
        """The k lowest exact energies, ascending."""
        self.check_modes(k)
        return np.array([s.energy for s in self.states[:k]])

    def check_modes(self, k: int, shift: float | None = None) -> None:
        """``k`` states exist in the table and, with the operator ``shift - H``, all k lie below ``shift``."""
        n = len(self.states)
        what = f"shells n <= {MAX_SHELL}" if self.kind == "hydrogen" else "the tabulated states"
        check(is_int(k) and 1 <= k <= n, "modes", k, f"pass 1..{n} ({self.kind} {self.dim}D: {what})")
        if shift is not None and not self.states[k - 1].energy < shift:
            below = sum(s.energy < shift for s in self.states)
            raise ConfigError.invalid(
                "modes", k, f"only {below} states lie below the shift {shift:g} (shift - H must be positive on the "
                f"top k): pass --modes <= {below} or a larger --shift"
            )  # fmt: skip

    def shells(self, k: int, tol: float = 1e-9) -> list[np.ndarray]:
        """Indices of the degenerate groups among the states needed to cover the first k (the last group may extend
        past k: a shell the cut-off splits is listed whole)."""
        e = np.array([s.energy for s in self.states])
        groups, start = [], 0
        while start < k:
            end = start + 1
            while end < len(e) and abs(e[end] - e[start]) <= tol * max(1.0, abs(e[start])):
                end += 1
            groups.append(np.arange(start, end))
            start = end
        return groups

    def default_shift(self, k: int) -> float:
        """``c`` of the operator ``c - H``. Hydrogen: ``2 |E_k|``, so the continuum [0, inf) of H maps to values up to
        c > 0 below the k bound states (with c = 0, a mode that has not found its bound state sits at NestedLoRA's
        zero optimum, a saddle it leaves slowly). Oscillator: the first energy above the k-th state's shell (exactly the
        top k shells of c - H are positive)."""
        if self.kind == "hydrogen":
            return 2.0 * abs(self.states[k - 1].energy)
        last = self.shells(k)[-1][-1]
        return float(self.states[min(last + 1, len(self.states) - 1)].energy)

    # ----------------------------------------------------------------- potential and eigenfunctions
    def potential(self, x: Any) -> Any:
        """``V(x)`` for points ``x [n, d]`` (numpy or torch, same type back)."""
        if self.kind == "hydrogen":
            r = (x * x).sum(-1) ** 0.5
            return -self.charge / (r + 1e-30) if isinstance(x, np.ndarray) else -self.charge / r.clamp_min(1e-30)
        w2 = (np.asarray(self.omega) ** 2) if isinstance(x, np.ndarray) else x.new_tensor(self.omega) ** 2
        return 0.5 * (x * x * w2).sum(-1)

    def length_scale(self, k: int) -> float:
        """A typical radius of the first k states (the mean radius of the outermost one)."""
        if self.kind == "hydrogen":
            n = self.states[k - 1].numbers[0]
            return (2 * (n - 1) + self.dim) / self.decay(n)
        top = [max(s.numbers[a] for s in self.states[:k]) for a in range(self.dim)]
        return float(max(math.sqrt((2 * n + 1) / al) for n, al in zip(top, self.alpha)))

    @property
    def alpha(self) -> np.ndarray:
        """Oscillator: ``alpha_a = omega_a / sqrt(2 kappa)``, eigenfunctions decay like exp(-alpha_a x_a^2 / 2)."""
        return np.asarray(self.omega) / math.sqrt(2 * self.kinetic)

    def decay(self, n: int) -> float:
        """Hydrogen: ``beta_n``; shell n decays like exp(-beta_n r / 2) (``rho = beta_n r``)."""
        bohr = 1.0 / (self.mass * self.charge)
        return 2.0 / ((n - 0.5 if self.dim == 2 else n) * bohr)

    def eigenfunctions(self, x: np.ndarray, k: int) -> np.ndarray:
        """The first k exact eigenfunctions at points ``x [N, d]`` (float64 ``[N, k]``), orthonormal in L2(dx)."""
        x = np.asarray(x, dtype=np.float64)
        out = np.empty((x.shape[0], k))
        for i, s in enumerate(self.states[:k]):
            out[:, i] = self._hydrogen(x, *s.numbers) if self.kind == "hydrogen" else self._oscillator(x, s.numbers)
        return out

    def _oscillator(self, x: np.ndarray, ns: tuple[int, ...]) -> np.ndarray:
        out = np.ones(x.shape[0])
        for a, n in enumerate(ns):
            al = self.alpha[a]
            z = math.sqrt(al) * x[:, a]
            norm = (al / math.pi) ** 0.25 / math.sqrt(2.0**n * math.factorial(n))
            out *= norm * special.eval_hermite(n, z) * np.exp(-0.5 * z * z)
        return out

    def _hydrogen(self, x: np.ndarray, n: int, ell: int, m: int) -> np.ndarray:
        d = self.dim
        r = np.sqrt((x * x).sum(1))
        beta = self.decay(n)
        rho = beta * r
        nr, a = n - ell - 1, (2 * ell if d == 2 else 2 * ell + 1)
        integral = math.exp(math.lgamma(nr + a + 1) - math.lgamma(nr + 1)) * (2 * nr + a + 1)
        radial = (
            beta ** (d / 2) / math.sqrt(integral) * rho**ell * np.exp(-rho / 2) * special.eval_genlaguerre(nr, a, rho)
        )
        if d == 2:
            theta = np.arctan2(x[:, 1], x[:, 0])
            if ell == 0:
                return radial / math.sqrt(2 * math.pi)
            return radial * (np.cos(ell * theta) if m > 0 else np.sin(ell * theta)) / math.sqrt(math.pi)
        return radial * real_spherical_harmonic(ell, m, x, r)


def real_spherical_harmonic(ell: int, m: int, x: np.ndarray, r: np.ndarray) -> np.ndarray:
    """Real ``Y_lm`` at directions ``x / r``: ``N P_l^|m|(cos theta)`` times ``sqrt 2 cos(m phi)`` (m > 0), 1 (m = 0)
    or ``sqrt 2 sin(|m| phi)`` (m < 0); orthonormal on the unit sphere."""
    cos_t = np.clip(x[:, 2] / np.maximum(r, 1e-300), -1.0, 1.0)
    phi = np.arctan2(x[:, 1], x[:, 0])
    am = abs(m)
    norm = math.sqrt((2 * ell + 1) / (4 * math.pi) * math.factorial(ell - am) / math.factorial(ell + am))
    leg = special.lpmv(am, ell, cos_t)
    if m == 0:
        return norm * leg
    return math.sqrt(2) * norm * leg * (np.cos(am * phi) if m > 0 else np.sin(am * phi))
