"""Koopman / transfer operators and diffusion generators: moments, post-processing, and one fitting harness.

Time-lag pairs (x_t, x_{t+tau}) of a stationary process define the transfer operator T_tau; its singular
functions are learned by NestedLoRA SVD (two networks), its eigenfunctions by NestedLoRA EVD when the process
is reversible (DESIGN: "time-lag T_tau"). This module adds:

* Generator moments from stationary samples alone. For a reversible diffusion with generator L and
  stationary density rho, the Dirichlet form is ``<f, -L g>_rho = beta^-1 E_rho[grad f . grad g]``. NestedLoRA
  learns the top eigenpairs of the shifted operator ``kappa I + L`` (rescaled by 1 / kappa) from
  ``C = M - (kappa beta)^-1 E[J J^T]`` (J the input Jacobian of the network, by autograd) and the Gram M, each
  estimated per independent chunk (:func:`dirichlet_moments`); eigenvalues are ``lambda = kappa (sigma - 1)``.
* Post-processing of learned functions psi: covariances ``C00 = E[psi(x_t) psi(x_t)^T]``,
  ``C01 = E[psi(x_t) psi(x_{t+tau})^T]``, ``C11``; the k x k Koopman matrix ``K = C00^-1 C01`` (so that
  ``E[psi(x_{t+tau})^T b | x_t = x] ~ psi(x)^T K b``), solved by whitening + a small dense eigenproblem;
  VAMP-2 ``||C00^-1/2 C01 C11^-1/2||_F^2`` and VAMP-E (Wu & Noe 2020); implied timescales
  ``t_i = -tau / ln mu_i``.
* :func:`fit_trajectories`: every method (NestedLoRA SVD/EVD, generator, VAMPnet, DPNet) on the same data,
  network and budget.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field, replace
from typing import Any

import numpy as np
import torch
from torch import Tensor, nn

from rlspectral.buffer import EpisodicBuffer, PairSampler
from rlspectral.learner import LearnerConfig, SpectralLearner
from rlspectral.moments import Moments
from rlspectral.nesting import moment
from rlspectral.objectives import METHODS
from rlspectral.objectives.vampnet import DPNet, VAMPNet

KOOPMAN_OBJECTIVES = {"vampnet": VAMPNet, "dpnet": DPNet}
TRAJ_METHODS = ("nested-lora", "nested-lora-seq", "generator", "vampnet", "dpnet")


# ----------------------------------------------------------------------------------------------- generator
def input_jacobian(net: nn.Module, x: Tensor) -> tuple[Tensor, Tensor]:
    """``(F, J)``: ``F = net(x) [B, k]`` and ``J[d] = dF/dx_d [B, k]`` for each input dimension, differentiable
    in the parameters (double-backward: ``u -> grad_x <u, F>`` is linear in u, its u-gradient is the Jacobian)."""
    x = x.detach().float().requires_grad_(True)
    with torch.enable_grad():
        F = net(x)
        u = torch.zeros_like(F, requires_grad=True)
        (gx,) = torch.autograd.grad(F, x, u, create_graph=True)
        gx = gx.flatten(1)
        J = [torch.autograd.grad(gx[:, j].sum(), u, create_graph=True)[0] for j in range(gx.shape[1])]
    return F, torch.stack(J)


def dirichlet_moments(
    F: Tensor,
    J: Tensor,
    beta: float,
    *,
    shift: float,
    splits: int = 2,
    sequential: bool = False,
    inv_scale: Tensor | None = None,
) -> Moments:
    """Chunk-wise moments of ``shift I + L``: ``C_s = shift M_s - beta^-1 sum_d J_d^T J_d / B``, ``M_s = F^T F / B``.

    ``inv_scale [d]`` rescales the Jacobian when the network sees standardized inputs ``z = (x - m) / s``
    (``dF/dx_d = s_d^-1 dF/dz_d``).
    """
    B = F.shape[0]
    if B < splits:
        raise ValueError(f"a batch of {B} states cannot be cut into {splits} independent chunks")
    if inv_scale is not None:
        J = J * inv_scale.to(J)[:, None, None]
    size = B // splits
    Cs, Ms = [], []
    for s in range(splits):
        f, jac = F[s * size : (s + 1) * size], J[:, s * size : (s + 1) * size]
        M = moment(f, f, sequential)
        dirichlet = sum(moment(jac[d], jac[d], sequential) for d in range(jac.shape[0])) / beta
        Cs.append(shift * M - dirichlet)
        Ms.append(M)
    return Moments(C=Cs, Mf=Ms, Mg=Ms, F=F, G=F)


class GeneratorLearner(SpectralLearner):
    """A one-network learner of the top eigenpairs of the generator L of a reversible diffusion
    ``dx = -grad V dt + sqrt(2 / beta) dW``, from stationary samples alone (pairs are not needed).

    NestedLoRA sees the operator ``I + L / kappa`` (moments :func:`dirichlet_moments` with ``beta * kappa`` and
    shift 1): kappa I + L rescaled so its top eigenvalues lie in (0, 1] like a transfer operator's.
    ``kappa`` must exceed ``-lambda`` of the fastest mode to be learned. ``eigenvalues`` and
    ``eigenfunctions(solve=True)`` return the generator's eigenvalues ``lambda = kappa (sigma - 1)``.
    Batches come from a sampler returning ``(x, None)`` (:class:`StateSampler`).
    """

    def __init__(
        self,
        config: LearnerConfig,
        beta: float,
        kappa: float,
        device: str | torch.device = "cpu",
        inv_scale: Sequence[float] | None = None,
    ):
        if kappa <= 0:
            raise ValueError(f"the generator shift kappa must be > 0, got {kappa}")
        kwargs = {**config.objective_kwargs, "shift": 1.0}
        super().__init__(replace(config, svd=False, dedup=False, objective_kwargs=kwargs), device=device)
        self.beta, self.kappa = float(beta), float(kappa)
        self.inv_scale = None if inv_scale is None else torch.as_tensor(inv_scale, dtype=torch.float32)

    def moments(self, x: Tensor, y: Tensor | None = None) -> Moments:
        x = x.to(self.device) if y is None else torch.cat([x, y]).to(self.device)
        F, J = input_jacobian(self.f, x)
        return dirichlet_moments(
            F,
            J,
            self.beta * self.kappa,
            shift=self.objective.shift,
            splits=self.objective.splits,
            sequential=self.objective.sequential,
            inv_scale=self.inv_scale,
        )

    @property
    def eigenvalues(self) -> np.ndarray:
        """Running estimates of the generator's eigenvalues lambda, in mode order."""
        return self.kappa * super().eigenvalues

    def eigenfunctions(self, x: Tensor, solve: bool = False) -> tuple[np.ndarray, Tensor]:
        values, phi = super().eigenfunctions(x, solve=solve)
        return self.kappa * values, phi


class StateSampler:
    """Uniform batches of stored states: ``sampler(n) -> (x, None)`` (stationary samples for the generator)."""

    def __init__(self, states: Tensor, seed: int | None = None):
        self.states = states
        self.gen = torch.Generator().manual_seed(seed if seed is not None else 0)

    def __call__(self, batch_size: int) -> tuple[Tensor, None]:
        idx = torch.randint(0, self.states.shape[0], (batch_size,), generator=self.gen)
        return self.states[idx], None


def make_learner(config: LearnerConfig, device: str | torch.device = "cpu") -> SpectralLearner:
    """A :class:`SpectralLearner`, also for the Koopman baselines ``vampnet`` / ``dpnet`` before they are
    registered in :func:`rlspectral.objectives.make_objective` (built as nested-lora, then the objective is
    swapped: neither baseline has parameters, so the optimizer is unaffected)."""
    if config.method in METHODS or config.method not in KOOPMAN_OBJECTIVES:
        return SpectralLearner(config, device=device)
    learner = SpectralLearner(replace(config, method="nested-lora", objective_kwargs={}), device=device)
    learner.config = config
    learner.objective = KOOPMAN_OBJECTIVES[config.method](config.k, **config.objective_kwargs).to(learner.device)
    return learner


# ----------------------------------------------------------------------------------------------- post-processing
def covariances(F0: np.ndarray, F1: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(C00, C01, C11)``: uncentred (co)variances of features at x_t and x_{t+tau}, float64."""
    F0, F1 = np.asarray(F0, dtype=np.float64), np.asarray(F1, dtype=np.float64)
    n = F0.shape[0]
    return F0.T @ F0 / n, F0.T @ F1 / n, F1.T @ F1 / n


def inv_sqrt(C: np.ndarray, eps: float = 1e-10) -> np.ndarray:
    """``W`` with ``W^T C W = I`` on the numerically non-null part of C (eigen-directions below ``eps * max``
    are dropped, so W may have fewer columns than C)."""
    C = 0.5 * (C + C.T)
    w, V = np.linalg.eigh(C)
    keep = w > eps * max(float(w.max()), 1e-300)
    return V[:, keep] / np.sqrt(w[keep])


def whitened_cross(C00: np.ndarray, C01: np.ndarray, C11: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(Kbar, W0, W1)``: ``Kbar = W0^T C01 W1`` with whitening maps ``W0`` of C00 and ``W1`` of C11."""
    W0, W1 = inv_sqrt(C00), inv_sqrt(C11)
    return W0.T @ C01 @ W1, W0, W1


def singular_values(C00: np.ndarray, C01: np.ndarray, C11: np.ndarray) -> np.ndarray:
    """Singular values of the transfer operator restricted to the learned spaces: ``svd(C00^-1/2 C01 C11^-1/2)``."""
    return np.linalg.svd(whitened_cross(C00, C01, C11)[0], compute_uv=False)


def vamp2_score(C00: np.ndarray, C01: np.ndarray, C11: np.ndarray) -> float:
    """VAMP-2: ``||C00^-1/2 C01 C11^-1/2||_F^2`` (includes the constant mode's 1 when psi spans constants)."""
    return float(np.sum(whitened_cross(C00, C01, C11)[0] ** 2))


def vamp_e_score(
    train: tuple[np.ndarray, np.ndarray, np.ndarray], test: tuple[np.ndarray, np.ndarray, np.ndarray]
) -> float:
    """VAMP-E (Wu & Noe 2020): the model ``T ~ U S V^T`` fitted on ``train`` covariances, scored on ``test``:
    ``tr(2 S U^T C01 V - S U^T C00 U S V^T C11 V)`` with ``U = W0 U'``, ``V = W1 V'`` from ``svd(Kbar) = U' S V'^T``."""
    Kbar, W0, W1 = whitened_cross(*train)
    Ub, s, Vbt = np.linalg.svd(Kbar, full_matrices=False)
    U, V, S = W0 @ Ub, W1 @ Vbt.T, np.diag(s)
    C00, C01, C11 = test
    return float(np.trace(2 * S @ U.T @ C01 @ V - S @ U.T @ C00 @ U @ S @ V.T @ C11 @ V))


def implied_timescales(mu: np.ndarray, lag_time: float) -> np.ndarray:
    """``t_i = -lag / ln mu_i``; NaN where mu is not in (0, 1)."""
    mu = np.real(np.asarray(mu, dtype=np.complex128))
    with np.errstate(divide="ignore", invalid="ignore"):
        t = -lag_time / np.log(mu)
    return np.where((mu > 0) & (mu < 1), t, np.nan)


@dataclass
class KoopmanModel:
    """A k x k Koopman model on features psi: ``K^n = W diag(mu^n) W_inv`` and ``gram`` = E[psi psi^T].

    ``eigenfunctions(F) = F @ W`` (orthonormal in L2(rho) for reversible / generator models); values sorted
    by decreasing real part. Prediction: ``E[h(x_{t + n tau}) | x_t = x] ~ psi(x)^T K^n b`` with the
    projection ``b = gram^-1 E[psi h]`` (:meth:`project`).
    """

    values: np.ndarray  # mu_i, transfer eigenvalues at the model lag
    W: np.ndarray  # [k, m] eigenvector coefficients
    W_inv: np.ndarray  # [m, k]
    gram: np.ndarray  # [k, k]
    lag_time: float
    rates: np.ndarray | None = None  # generator eigenvalues lambda_i (generator models)

    @property
    def matrix(self) -> np.ndarray:
        """``K = C00^-1 C01`` (reconstructed from the eigen decomposition)."""
        return np.real((self.W * self.values) @ self.W_inv)

    def timescales(self) -> np.ndarray:
        if self.rates is not None:
            with np.errstate(divide="ignore"):
                return np.where(np.real(self.rates) < 0, -1.0 / np.real(self.rates), np.nan)
        return implied_timescales(self.values, self.lag_time)

    def eigenfunctions(self, F: np.ndarray) -> np.ndarray:
        return np.real(np.asarray(F, dtype=np.float64) @ self.W)

    def project(self, F: np.ndarray, h: np.ndarray) -> np.ndarray:
        """Least-squares coefficients ``b [k, m]`` of observables ``h [n, m]`` on the features ``F [n, k]``."""
        F, h = np.asarray(F, dtype=np.float64), np.asarray(h, dtype=np.float64).reshape(len(F), -1)
        return np.linalg.lstsq(self.gram, F.T @ h / len(F), rcond=1e-10)[0]

    def predict(self, F0: np.ndarray, b: np.ndarray, n: int) -> np.ndarray:
        """``psi(x_0)^T K^n b``: the model's ``E[h(x_{n tau}) | x_0]``, ``[n_points, m]``."""
        Kn = (self.W * self.values**n) @ self.W_inv
        return np.real(np.asarray(F0, dtype=np.float64) @ Kn @ b)


def _sorted_model(values: np.ndarray, W: np.ndarray, W_inv: np.ndarray, gram: np.ndarray, lag_time: float, rates=None):
    order = np.argsort(-np.real(values if rates is None else rates), kind="stable")
    return KoopmanModel(
        values[order], W[:, order], W_inv[order], gram, lag_time, None if rates is None else rates[order]
    )


def koopman_model(F0: np.ndarray, F1: np.ndarray, lag_time: float, reversible: bool = True) -> KoopmanModel:
    """Koopman matrix on features ``F0 = psi(x_t)``, ``F1 = psi(x_{t+tau})``.

    ``reversible``: the detailed-balance estimator ``C00 <- (C00 + C11) / 2``, ``C01 <- (C01 + C10) / 2``; the
    problem ``C01 w = mu C00 w`` is then symmetric: whiten ``W0^T C00 W0 = I`` and solve ``eigh(W0^T C01 W0)``.
    Otherwise ``K = C00^+ C01`` and a general (complex) eigendecomposition.
    """
    C00, C01, C11 = covariances(F0, F1)
    if reversible:
        C00, C01 = 0.5 * (C00 + C11), 0.5 * (C01 + C01.T)
        W0 = inv_sqrt(C00)
        mu, U = np.linalg.eigh(W0.T @ C01 @ W0)
        W = W0 @ U
        return _sorted_model(mu, W, W.T @ C00, C00, lag_time)
    W0 = inv_sqrt(C00)
    K = W0 @ W0.T @ C01  # C00^+ C01 on the non-null part
    mu, W = np.linalg.eig(K)
    keep = np.argsort(-np.abs(mu))[: W0.shape[1]]
    mu, W = mu[keep], W[:, keep]
    return _sorted_model(mu, W, np.linalg.pinv(W), C00, lag_time)


def generator_model(M: np.ndarray, L: np.ndarray, lag_time: float) -> KoopmanModel:
    """From the Gram ``M`` and the generator matrix ``L_ij = <psi_i, L psi_j>`` (= ``-beta^-1 E[J_i . J_j]``):
    ``L w = lambda M w`` by whitening; the model's transfer eigenvalues are ``exp(lambda tau)``."""
    M, L = 0.5 * (M + M.T), 0.5 * (L + L.T)
    W0 = inv_sqrt(M)
    lam, U = np.linalg.eigh(W0.T @ L @ W0)
    W = W0 @ U
    return _sorted_model(np.exp(lam * lag_time), W, W.T @ M, M, lag_time, rates=lam)


# ----------------------------------------------------------------------------------------------- harness
@dataclass
class TrajFitConfig:
    """One fit on trajectories; defaults are the benchmark's (no per-method tuning)."""

    method: str = "nested-lora"  # one of TRAJ_METHODS
    svd: bool = True  # two networks (f at x_t, g at x_{t+tau}); ignored by the generator (one network)
    lag: int = 10  # tau, in saved steps
    dt: float = 1.0  # time between saved steps (timescales are reported in these units)
    k: int = 4  # modes, including the constant one
    steps: int = 3000
    batch_size: int = 1024
    lr: float = 1e-3
    hidden: tuple[int, ...] = (64, 64)
    fourier_features: int = 32
    fourier_scale: float = 1.0
    beta: float = 1.0  # generator: inverse temperature (noise sqrt(2 / beta))
    shift: float = 10.0  # generator: kappa of I + L / kappa, above -lambda of the fastest mode wanted
    reversible: bool = True  # detailed-balance Koopman estimator
    standardize: bool = False  # the network sees (x - mean) / std of the training data
    eval_pairs: int = 200_000
    seed: int = 0
    objective_kwargs: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {key: list(v) if isinstance(v, tuple) else v for key, v in asdict(self).items()}


@dataclass
class TrajFit:
    """A trained learner, its Koopman model, and the input transform the network expects."""

    config: TrajFitConfig
    learner: SpectralLearner
    model: KoopmanModel
    mean: np.ndarray
    scale: np.ndarray
    stats: dict[str, Any] = field(default_factory=dict)
    states: np.ndarray | None = field(default=None, repr=False)  # training states behind the model
    basis: np.ndarray | None = field(default=None, repr=False)  # f at those states
    train_cov: tuple[np.ndarray, np.ndarray, np.ndarray] | None = field(default=None, repr=False)

    def features(self, x: np.ndarray, which: str = "f", batch: int = 65536) -> np.ndarray:
        """Learned functions at states ``x [n, d]``: ``f`` (or ``g``, the x_{t+tau} network of an SVD), float64."""
        net = self.learner.f if which == "f" or self.learner.g is None else self.learner.g
        z = ((np.asarray(x, dtype=np.float64) - self.mean) / self.scale).astype(np.float32)
        with torch.no_grad():
            out = [net(torch.from_numpy(z[i : i + batch])).double().numpy() for i in range(0, len(z), batch)]
        return np.concatenate(out) if out else np.zeros((0, self.learner.config.k))

    def eigenfunctions(self, x: np.ndarray) -> np.ndarray:
        """The model's eigenfunctions ``phi = psi W`` at ``x``, orthonormal in L2(rho), sorted by value."""
        return self.model.eigenfunctions(self.features(x))

    def scores(self, x0: np.ndarray, x1: np.ndarray) -> dict[str, float]:
        """VAMP-2 and VAMP-E of the learned pair (f, g) on pairs (x0, x1) (e.g. held-out trajectories);
        VAMP-E's model comes from the training pairs."""
        test = covariances(self.features(x0), self.features(x1, "g"))
        assert self.train_cov is not None
        return {"vamp2": vamp2_score(*test), "vamp_e": vamp_e_score(self.train_cov, test)}

    def project(self, observable: Callable[[np.ndarray], np.ndarray]) -> np.ndarray:
        """Coefficients ``b`` of ``observable`` on the features, from the training states (for :meth:`predict`)."""
        assert self.states is not None and self.basis is not None
        return self.model.project(self.basis, observable(self.states))

    def predict(self, x0: np.ndarray, b: np.ndarray, n: int) -> np.ndarray:
        """The model's ``E[h(x_{t + n tau}) | x_t = x0]`` for coefficients ``b`` from :meth:`project`."""
        return self.model.predict(self.features(x0), b, n)


def as_trajectories(data: np.ndarray | Sequence[np.ndarray]) -> list[np.ndarray]:
    """``[T, d]`` -> one trajectory, ``[n_traj, T, d]`` or a list of ``[T_i, d]`` -> trajectories (float32)."""
    if isinstance(data, np.ndarray):
        if data.ndim == 2:
            return [data.astype(np.float32)]
        if data.ndim == 3:
            return [t.astype(np.float32) for t in data]
        raise ValueError(f"trajectories must be [T, d] or [n_traj, T, d], got shape {data.shape}")
    return [np.asarray(t, dtype=np.float32) for t in data]


def lagged_pairs(trajs: Sequence[np.ndarray], lag: int, n: int | None, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """All (or ``n`` random, without replacement) pairs ``(x_t, x_{t+lag})`` within trajectories."""
    x0 = np.concatenate([t[:-lag] for t in trajs if len(t) > lag])
    x1 = np.concatenate([t[lag:] for t in trajs if len(t) > lag])
    if n is not None and n < len(x0):
        idx = np.random.default_rng(seed).choice(len(x0), size=n, replace=False)
        x0, x1 = x0[idx], x1[idx]
    return x0, x1


def _generator_matrices(fit: TrajFit, x: np.ndarray, batch: int = 8192) -> tuple[np.ndarray, np.ndarray]:
    """``(M, L)`` with ``M = E[psi psi^T]`` and ``L = -beta^-1 E[J J^T]`` over states ``x``."""
    learner = fit.learner
    assert isinstance(learner, GeneratorLearner)
    k = learner.config.k
    M, D = np.zeros((k, k)), np.zeros((k, k))
    z = ((x - fit.mean) / fit.scale).astype(np.float32)
    for i in range(0, len(z), batch):
        F, J = input_jacobian(learner.f, torch.from_numpy(z[i : i + batch]))
        if learner.inv_scale is not None:
            J = J * learner.inv_scale[:, None, None]
        F, J = F.detach().double(), J.detach().double()
        M += (F.T @ F).numpy()
        D += torch.einsum("dbi,dbj->ij", J, J).numpy()
    return M / len(z), -D / len(z) / learner.beta


def fit_trajectories(train: np.ndarray | Sequence[np.ndarray], cfg: TrajFitConfig, progress: bool = False) -> TrajFit:
    """Fit ``cfg.method`` on training trajectories; the Koopman model (whitening + small dense solve) comes
    from ``cfg.eval_pairs`` training pairs (or stationary states, for the generator)."""
    if cfg.method not in TRAJ_METHODS:
        raise ValueError(f"unknown method {cfg.method!r}; choose one of {', '.join(TRAJ_METHODS)}")
    trajs = as_trajectories(train)
    if not trajs or max(len(t) for t in trajs) <= cfg.lag:
        raise ValueError(f"no trajectory is longer than the lag {cfg.lag}")
    allx = np.concatenate(trajs).astype(np.float64)
    d = allx.shape[1]
    mean = allx.mean(0) if cfg.standardize else np.zeros(d)
    scale = allx.std(0) + 1e-12 if cfg.standardize else np.ones(d)
    buffer = EpisodicBuffer(len(allx), (d,))
    for t in trajs:
        buffer.add_episode(((t - mean) / scale).astype(np.float32))
    generator = cfg.method == "generator"
    lcfg = LearnerConfig(
        obs_shape=(d,),
        k=cfg.k,
        method="nested-lora" if generator else cfg.method,
        operator=f"time-lag:{cfg.lag}",
        svd=False if generator else cfg.svd,
        hidden=tuple(cfg.hidden),
        fourier_features=cfg.fourier_features,
        fourier_scale=cfg.fourier_scale,
        constant_mode=True,
        lr=cfg.lr,
        schedule="cosine",
        total_steps=cfg.steps,
        seed=cfg.seed,
        objective_kwargs=dict(cfg.objective_kwargs),
    )
    if generator:
        learner: SpectralLearner = GeneratorLearner(lcfg, cfg.beta, cfg.shift, inv_scale=1.0 / scale)
        sampler: Any = StateSampler(buffer.obs[: buffer.size], seed=cfg.seed + 1)
    else:
        learner = make_learner(lcfg)
        sampler = PairSampler(buffer, learner.operator, seed=cfg.seed + 1)
    t0 = time.perf_counter()
    learner.fit(sampler, cfg.steps, cfg.batch_size, progress=progress)
    wall = time.perf_counter() - t0
    fit = TrajFit(cfg, learner, None, mean, scale)  # type: ignore[arg-type]
    x0, x1 = lagged_pairs(trajs, cfg.lag, cfg.eval_pairs, seed=cfg.seed + 2)
    lag_time = cfg.lag * cfg.dt
    F0, F1 = fit.features(x0), fit.features(x1)
    t1 = time.perf_counter()
    if generator:
        M, L = _generator_matrices(fit, np.concatenate([x0, x1])[: cfg.eval_pairs].astype(np.float64))
        fit.model = generator_model(M, L, lag_time)
    else:
        fit.model = koopman_model(F0, F1, lag_time, reversible=cfg.reversible)
    fit.states, fit.basis = x0, F0
    fit.train_cov = covariances(F0, fit.features(x1, "g"))
    raw = learner.eigenvalues
    fit.stats = {
        "wall_time_s": wall,
        "post_time_s": time.perf_counter() - t1,
        "steps": learner.step,
        "steps_per_s": learner.step / max(wall, 1e-9),
        "raw_values": raw.tolist(),
        "singular_values": singular_values(*fit.train_cov).tolist(),
        "vamp2_train": vamp2_score(*fit.train_cov),
    }
    if not all(math.isfinite(v) for v in fit.model.values.real):
        raise ValueError("the Koopman model has non-finite eigenvalues: the learned features are degenerate")
    return fit
