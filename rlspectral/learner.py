"""SpectralLearner: network(s), objective, optimizer and schedule; running eigenvalue estimates; checkpoints."""

from __future__ import annotations

import functools
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import Tensor

from rlspectral.config import check, check_choice, check_int, config_dict, is_real
from rlspectral.errors import CheckpointError, ConfigError, DivergenceError
from rlspectral.moments import Moments, estimate_moments, null_directions, rayleigh_ritz
from rlspectral.networks import EigenNetwork, NetworkConfig
from rlspectral.objectives import KOOPMAN_BASELINES, METHODS, make_objective
from rlspectral.operators import Operator, make_operator
from rlspectral.seeding import seeded

CHECKPOINT_FORMAT = "rlspectral-learner"
CHECKPOINT_VERSION = 1


@dataclass
class LearnerConfig:
    """Hyperparameters of a :class:`SpectralLearner`; plain data, stored in checkpoints."""

    obs_shape: tuple[int, ...]
    k: int
    method: str = "nested-lora"
    operator: str = "successor:0.9"
    svd: bool | None = None  # two networks (f, g); default: when the operator is not self-adjoint
    hidden: tuple[int, ...] = (256, 256, 256)
    fourier_features: int = 0
    fourier_scale: float = 1.0
    constant_mode: bool = False
    inputs: tuple[int, ...] = ()  # vector observations: the entries the eigenfunctions depend on (empty: all)
    input_low: tuple[float, ...] = ()  # with input_high: rescale the read entries from [low, high] to [-1, 1]
    input_high: tuple[float, ...] = ()
    table: int = 0  # > 0: observations are ids 0..table-1 and f is a free table (a graph's nodes, transductive)
    lr: float = 1e-3
    schedule: str = "constant"  # constant | cosine (to 5% of lr over total_steps)
    total_steps: int = 0
    warmup_steps: int = 0
    grad_clip: float = 0.0
    dedup: bool = False  # evaluate the network once per distinct observation in a batch (discrete state spaces)
    objective_kwargs: dict[str, Any] = field(default_factory=dict)
    ema: float = 0.98
    realign_every: int = 0  # nested methods: Rayleigh-Ritz step on the output layer every N fit() steps and at the end
    realign_batches: int = 0  # moments for that step: 0 = the running EMA (~50 batches), N = N fresh batches
    final_realign_batches: int = 50  # the last step of fit(): moments from N fresh batches (0: as realign_batches)
    # fit()'s Rayleigh-Ritz steps are skipped while the rotation's condition number exceeds this (0: never); the
    # last one is not guarded, so a fit always ends in the Rayleigh-Ritz basis (GridMaze-9: at 10 the early steps
    # destabilized one fresh-seed fit and the guard declined another's last step; docs/benchmarks/gridworld.md)
    realign_max_condition: float = 3.0
    divergence_limit: float = 1e6
    anchored: bool = False  # learn f(x) - f(a), a a random state of x's episode: the within-episode spectrum
    seed: int = 0

    def __post_init__(self) -> None:
        """Check every field; a bad one is a one-line :class:`ConfigError` naming it (the network's fields are
        checked by :class:`NetworkConfig`, the operator string by :func:`make_operator`)."""
        check_choice(self, "method", METHODS + KOOPMAN_BASELINES)
        make_operator(self.operator)
        check(self.svd in (None, True, False), "svd", self.svd, "pass True, False or None (SVD when not self-adjoint)")
        self.network_config()
        check(is_real(self.lr) and self.lr > 0, "lr", self.lr, "pass a learning rate > 0, e.g. 1e-3")
        check_choice(self, "schedule", ("constant", "cosine"))
        check_int(self, 0, "total_steps", "warmup_steps", "realign_every", "realign_batches", "final_realign_batches")
        check(is_real(self.grad_clip) and self.grad_clip >= 0, "grad_clip", self.grad_clip, "pass a norm >= 0 (0: off)")
        check(is_real(self.ema) and 0 <= self.ema < 1, "ema", self.ema, "pass a decay in [0, 1), e.g. 0.98")
        check(is_real(self.realign_max_condition) and self.realign_max_condition >= 0, "realign_max_condition",
              self.realign_max_condition, "pass a condition number >= 1 (0: no guard), e.g. 3")  # fmt: skip
        check(self.divergence_limit > 0, "divergence_limit", self.divergence_limit, "pass a loss magnitude > 0")
        check(isinstance(self.objective_kwargs, dict), "objective_kwargs", self.objective_kwargs, "pass a dict")
        check(self.anchored in (True, False), "anchored", self.anchored, "pass True or False")
        if self.anchored and (self.constant_mode or self.dedup or self.table):
            raise ConfigError("anchored: episode-anchored eigenfunctions exclude constant_mode, dedup and table")

    def network_config(self) -> NetworkConfig:
        return NetworkConfig(
            obs_shape=tuple(self.obs_shape),
            k=self.k,
            hidden=tuple(self.hidden),
            fourier_features=self.fourier_features,
            fourier_scale=self.fourier_scale,
            constant_mode=self.constant_mode,
            inputs=tuple(self.inputs),
            input_low=tuple(self.input_low),
            input_high=tuple(self.input_high),
            table=self.table,
        )

    def to_dict(self) -> dict[str, Any]:
        return config_dict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> LearnerConfig:
        d = dict(d)
        for key in ("obs_shape", "hidden", "inputs", "input_low", "input_high"):
            if key in d:
                d[key] = tuple(d[key])
        return cls(**d)


class SpectralLearner:
    """Learns the top-k eigen- (or singular) functions of an operator from pair batches.

    ``update(x, y)`` takes one gradient step on a pair batch; ``fit(sampler, steps)`` loops with a progress
    bar. ``eigenvalues`` are running estimates for the *sampled operator* (norms for NestedLoRA, Rayleigh
    quotients otherwise); ``eigenfunctions(x)`` returns them normalized in L2(rho) and sorted descending.
    """

    def __init__(
        self,
        config: LearnerConfig,
        device: str | torch.device = "cpu",
        log_dir: str | Path | None = None,
        network: torch.nn.Module | None = None,
    ):
        """``network`` replaces the :class:`EigenNetwork` built from the config as f (one network; it must have an
        ``output_layer()`` for :meth:`realign`), e.g. the PDE network of :mod:`rlspectral.pde`."""
        self.config = config
        self.device = torch.device(device)
        self.operator: Operator = make_operator(config.operator)
        self.svd = (not self.operator.self_adjoint) if config.svd is None else bool(config.svd)
        # The objective's buffers and the networks draw from a generator seeded by config.seed; the caller's torch
        # RNG (an SB3 agent seeded by its user, a test) is left exactly as it was (rlspectral.seeding).
        with seeded(config.seed):
            try:
                self.objective = make_objective(config.method, config.k, **config.objective_kwargs).to(self.device)
            except TypeError as e:  # a keyword the objective does not take
                bad = config.objective_kwargs
                raise ConfigError.invalid("objective_kwargs", bad, f"{config.method}: {e}") from None
            self.f = (EigenNetwork(config.network_config()) if network is None else network).to(self.device)
            self.g = EigenNetwork(config.network_config()).to(self.device) if self.svd else None
        self._check_setup()
        nets = [self.f] + ([self.g] if self.g is not None else [])
        params = [p for net in nets for p in net.parameters()]
        # tables (nn.Embedding with sparse gradients) step with SparseAdam: O(rows in the batch), not O(rows)
        lazy = {id(m.weight) for net in nets for m in net.modules() if isinstance(m, torch.nn.Embedding) and m.sparse}
        self.optimizer = torch.optim.Adam([p for p in params if id(p) not in lazy], lr=config.lr)
        self.scheduler = torch.optim.lr_scheduler.LambdaLR(self.optimizer, self._lr_factor)
        sparse = [p for p in params if id(p) in lazy]
        self.sparse_optimizer = torch.optim.SparseAdam(sparse, lr=config.lr) if sparse else None
        self.sparse_scheduler = (
            torch.optim.lr_scheduler.LambdaLR(self.sparse_optimizer, self._lr_factor) if sparse else None
        )
        self._params = params
        k = config.k
        self.running_C = torch.zeros(k, k, device=self.device)
        self.running_Mf = torch.zeros(k, k, device=self.device)
        self.running_Mg = torch.zeros(k, k, device=self.device)
        self.step = 0
        self.parallel: Any = None  # data-parallel replica (rlspectral.distributed.attach): reduces moments and grads
        self.writer = None
        if log_dir is not None:
            from torch.utils.tensorboard import SummaryWriter

            self.writer = SummaryWriter(str(log_dir))

    def _check_setup(self) -> None:
        """One-line errors for an objective / operator / network combination that cannot work."""
        config = self.config
        if self.svd and not self.objective.supports_svd:
            raise ConfigError.invalid(
                "method", config.method, f"needs a self-adjoint operator ({config.operator} is not): use nested-lora"
            )
        if self.svd and (self.operator.identity_weight or self.objective.shift):
            raise ConfigError.invalid(
                "svd", self.svd, f"the lazy operator and a shift need one network on a self-adjoint operator "
                f"(operator={config.operator}, shift={self.objective.shift}): pass svd=False or drop them"
            )  # fmt: skip
        if config.realign_every and not self._can_realign():
            raise ConfigError.invalid(
                "realign_every", config.realign_every,
                "applies to the nested methods on a self-adjoint operator without constant_mode; set it to 0",
            )  # fmt: skip

    # ----------------------------------------------------------------- training
    def _lr_factor(self, step: int) -> float:
        c = self.config
        if c.warmup_steps and step < c.warmup_steps:
            return (step + 1) / c.warmup_steps
        if c.schedule == "cosine" and c.total_steps > 0:
            t = min(1.0, (step - c.warmup_steps) / max(1, c.total_steps - c.warmup_steps))
            return 0.05 + 0.95 * 0.5 * (1 + math.cos(math.pi * t))
        return 1.0

    def features(self, x: Tensor) -> Tensor:
        return self.f(x.to(self.device))

    def moments(self, x: Tensor, y: Tensor, anchor: Tensor | None = None) -> Moments:
        """Forward both ends of a pair batch and estimate the objective's chunk-wise moments.

        With ``dedup`` the network sees each distinct observation once and the moments come from the pairs' count
        matrices instead of a gathered batch (same values and gradients, ``rlspectral.moments.estimate_moments``).
        An ``anchored`` learner takes ``anchor`` states a (one per pair, drawn uniformly from the pair's episode)
        and estimates the moments of f(x) - f(a), f(y) - f(a) (:meth:`_anchored_moments`)."""
        x, y = x.to(self.device), y.to(self.device)
        B = x.shape[0]
        op = self.operator
        kw = dict(
            self_adjoint=not self.svd,
            splits=self.objective.splits,
            sequential=self.objective.sequential,
            pair_weight=op.pair_weight,
            identity_weight=op.identity_weight + self.objective.shift,
        )
        if self.config.anchored:
            if anchor is None:
                raise ConfigError("an anchored learner needs anchor states: sample pairs with anchors=True")
            return self._anchored_moments(x, y, anchor.to(self.device), kw)
        if self.config.dedup:
            if self.g is None:
                rows, inverse = distinct_rows(torch.cat([x, y], dim=0))
                out = self.f(rows)
                return estimate_moments(out, out, index=(inverse[:B], inverse[B:]), **kw)
            (rx, ix), (ry, iy) = distinct_rows(x), distinct_rows(y)
            return estimate_moments(self.f(rx), self.g(ry), index=(ix, iy), **kw)
        if self.g is None:
            out = self.f(torch.cat([x, y], dim=0))
            return estimate_moments(out[:B], out[B:], **kw)
        return estimate_moments(self.f(x), self.g(y), **kw)

    def _anchored_moments(self, x: Tensor, y: Tensor, a: Tensor, kw: dict[str, Any]) -> Moments:
        """Moments of the anchored features f(x) - f(a), g(y) - g(a), a drawn uniformly from the pair's episode.

        A function constant over an episode (in procedurally generated tasks: any function of the layout, which
        the plain successor operator ranks at eigenvalue 1) is 0 here, so the top-k hold the within-episode
        dynamics. Within an episode of states with mean m and covariance M_w, for a independent of the pair:
        E[(f(x) - f(a))(f(y) - f(a))^T] = C_w + M_w and E[(f(x) - f(a))(f(x) - f(a))^T] = 2 M_w, so the learned
        functions solve C_w w = (2 sigma - 1) M_w w: the within-episode eigenfunctions, with eigenvalues
        sigma = (sigma_w + 1) / 2 (exact when x and y are uniform over their episode)."""
        B = x.shape[0]
        if self.g is None:
            out = self.f(torch.cat([x, y, a], dim=0))
            fa = out[2 * B :]
            return estimate_moments(out[:B] - fa, out[B : 2 * B] - fa, **kw)
        return estimate_moments(self.f(x) - self.f(a), self.g(y) - self.g(a), **kw)

    def update(self, x: Tensor, y: Tensor, anchor: Tensor | None = None) -> dict[str, float]:
        """One gradient step on pairs (x, y) (and their ``anchor`` states for an ``anchored`` learner); raises
        DivergenceError (weights untouched) on a NaN/inf loss."""
        m = self.moments(x, y) if anchor is None else self.moments(x, y, anchor)  # subclasses: moments(x, y)
        if self.parallel is not None:
            m = self.parallel.reduce_moments(m)
        loss, diag = self.objective(m)
        value = float(loss.detach())
        if not math.isfinite(value) or abs(value) > self.config.divergence_limit:
            raise DivergenceError(
                f"{self.config.method} loss became {value:.4g} at step {self.step}: lower the learning rate "
                f"(now {self.scheduler.get_last_lr()[0]:.2g}), check the data for NaN/inf"
                + (", or use a PSD operator / shift for NestedOMM" if "omm" in self.config.method else "")
            )
        for p in self._params:
            p.grad = None
        loss.backward()
        if self.parallel is not None:
            self.parallel.sync_gradients(self._params)
        if self.config.grad_clip > 0:
            clip_grad_norm(self._params, self.config.grad_clip)
        self.optimizer.step()
        self.scheduler.step()
        if self.sparse_optimizer is not None:
            self.sparse_optimizer.step()
            self.sparse_scheduler.step()
        self.objective.after_step(m)
        self._track(m)
        self.step += 1
        stats = {"loss": value, **{name: float(v) for name, v in diag.items()}}
        if self.writer is not None and self.step % 50 == 0:
            self.log_scalars(stats)
        return stats

    @torch.no_grad()
    def _track(self, m: Moments) -> None:
        a = self.config.ema if self.step > 0 else 0.0
        self.running_C.mul_(a).add_((1 - a) * m.C_mean.detach())
        self.running_Mf.mul_(a).add_((1 - a) * m.M_mean.detach())
        self.running_Mg.mul_(a).add_((1 - a) * torch.stack(m.Mg).mean(0).detach())

    def fit(
        self,
        sampler: Callable[[int], tuple[Tensor, Tensor]],
        steps: int,
        batch_size: int = 1024,
        progress: bool = True,
        callback: Callable[[SpectralLearner], dict[str, float] | None] | None = None,
        callback_every: int = 0,
    ) -> list[dict[str, float]]:
        """Run ``steps`` updates on batches from ``sampler``; ``callback`` (e.g. an evaluation) runs every
        ``callback_every`` steps and its returned scalars join the history and TensorBoard."""
        from tqdm.auto import tqdm

        history: list[dict[str, float]] = []
        start = time.perf_counter()
        bar = tqdm(range(steps), disable=not progress, desc=self.config.method, dynamic_ncols=True)
        shown: dict[str, str] = {}
        every = self.config.realign_every
        for i in bar:
            stats = self.update(*sampler(batch_size))
            if every and (self.step % every == 0 or i == steps - 1):
                # the fit ends in the best basis it can estimate: the last step solves on fresh batches
                batches = self.config.realign_batches
                if i == steps - 1 and self.config.final_realign_batches:
                    batches = self.config.final_realign_batches
                if batches:
                    self.refresh_moments(sampler, batches=batches, batch_size=batch_size)
                last = i == steps - 1
                self.realign(max_condition=0.0 if last else self.config.realign_max_condition, complete=last)
            if callback is not None and callback_every and self.step % callback_every == 0:
                extra = callback(self) or {}
                stats = {**stats, **extra, "step": self.step, "wall_time_s": time.perf_counter() - start}
                history.append(stats)
                if self.writer is not None:
                    self.log_scalars(extra)
                shown = {key: f"{v:.4f}" for key, v in list(extra.items())[:2]}
            if self.step % 50 == 0 or self.step == steps:
                bar.set_postfix({"loss": f"{stats['loss']:.4f}", **shown}, refresh=False)
        return history

    def log_scalars(self, stats: dict[str, float]) -> None:
        if self.writer is None:
            return
        for name, value in stats.items():
            self.writer.add_scalar(f"spectral/{name}", value, self.step)
        for i, v in enumerate(self.eigenvalues):
            self.writer.add_scalar(f"eigenvalue/{i:02d}", float(v), self.step)

    @torch.no_grad()
    def refresh_moments(
        self, sampler: Callable[[int], tuple[Tensor, Tensor]], batches: int = 50, batch_size: int = 4096
    ):
        """Replace the running moments by a plain average over ``batches`` fresh batches (no gradient), e.g.
        before :meth:`eigenfunctions` with ``solve=True``."""
        C = torch.zeros_like(self.running_C)
        Mf, Mg = torch.zeros_like(C), torch.zeros_like(C)
        for _ in range(batches):
            m = self.moments(*sampler(batch_size))
            if self.parallel is not None:
                m = self.parallel.reduce_moments(m)
            C += m.C_mean
            Mf += m.M_mean
            Mg += torch.stack(m.Mg).mean(0)
        self.running_C.copy_(C / batches)
        self.running_Mf.copy_(Mf / batches)
        self.running_Mg.copy_(Mg / batches)

    def _can_realign(self) -> bool:
        """One network on a self-adjoint operator, no constant mode, and an objective whose optimum is known."""
        probe = torch.ones(1, device=self.device)
        return not self.svd and not self.config.constant_mode and self.objective.optimum_norms(probe) is not None

    @torch.no_grad()
    def _ritz(self) -> tuple[Tensor, Tensor]:
        """Rayleigh-Ritz on the running moments: ``(sigma, basis)`` with C basis = M basis diag(sigma), basis
        M-orthonormal, sigma descending (of the shifted operator); see :func:`rayleigh_ritz`."""
        return rayleigh_ritz(self.running_C, self.running_Mf)

    @torch.no_grad()
    def realign(self, max_condition: float = 10.0, complete: bool = False) -> Tensor | None:
        """Rayleigh-Ritz step on the output layer: the exact minimizer of the nested objective over mixings of
        the current k outputs, given the running moments.

        Solves C w = sigma M w (C, M the running pair moment and Gram, C including the shift) and replaces the
        outputs f by ``f @ B`` with B = W diag(optimum norms), W M-orthonormal and sorted by sigma descending:
        NestedLoRA's optimum f_i = sqrt(sigma_i) phi_i, NestedOMM's f_i = phi_i, restricted to the span the network
        has found. Modes inside a cluster of close eigenvalues, which the nested gradient separates slowly (its
        pull is proportional to the gap), come out separated. The running moments and the output layer's Adam
        averages are mapped by B. Returns B [k, k], or ``None`` (nothing changed) when B's condition number exceeds
        ``max_condition``: early on, while the outputs are nearly collinear, the step would amplify noise.

        A numerically rank-deficient span (r < k: an output that vanished or duplicates others) is skipped too,
        unless ``complete``: then the r Ritz functions become the first r outputs and the dropped near-null
        directions of M the last k - r (the last step of a fit, so a fit always ends in its Ritz basis).
        """
        if not self._can_realign():
            raise ConfigError("realign needs a nested objective on a self-adjoint operator without constant_mode")
        if self.step == 0 or not float(self.running_Mf.trace()) > 0:
            return None  # no moments yet
        s, basis = self._ritz()
        if basis.shape[1] < self.config.k and not complete:
            return None  # the outputs span fewer than k functions: no mixing of them recovers the lost ones
        B = basis * self.objective.optimum_norms(s)
        if B.shape[1] < self.config.k:
            B = torch.cat([B, null_directions(self.running_Mf, B.shape[1])], 1)
        if max_condition and float(torch.linalg.cond(B)) > max_condition:
            return None  # outputs still nearly collinear (early training): mixing them would blow up the weights
        layer = self.f.output_layer()
        Bf = B.to(layer.weight.dtype)
        layer.weight.copy_(Bf.T @ layer.weight)
        if layer.bias is not None:
            layer.bias.copy_(layer.bias @ Bf)
        # The gradient w.r.t. the new rows is B^-1 times the old one: carry Adam's averages over the same way
        # (the squared one as if the coordinates were independent) so the next steps keep their size.
        Binv = torch.linalg.inv(B)
        for p in (layer.weight, layer.bias):
            state = self.optimizer.state.get(p, {}) if p is not None else {}
            if "exp_avg" in state:
                state["exp_avg"].copy_((Binv @ state["exp_avg"].double()).to(p.dtype))
                state["exp_avg_sq"].copy_((Binv.square() @ state["exp_avg_sq"].double()).to(p.dtype))
        for t in (self.running_C, self.running_Mf, self.running_Mg):
            t.copy_((B.T @ t.double() @ B).to(t.dtype))
        return B

    # ----------------------------------------------------------------- results
    @property
    def eigenvalues(self) -> np.ndarray:
        """Running estimates of the sampled operator's eigen-/singular values, in mode order."""
        C, Mf, Mg = self.running_C.diagonal(), self.running_Mf.diagonal(), self.running_Mg.diagonal()
        M = (Mf * Mg).clamp_min(0).sqrt() if self.svd else Mf
        return self.objective.eigenvalues(C, M).detach().cpu().numpy().astype(np.float64)

    def transition_eigenvalues(self) -> np.ndarray:
        """Estimates mapped to eigenvalues of the one-step transition operator P (same eigenvectors)."""
        return self.operator.to_transition(self.eigenvalues)

    @torch.no_grad()
    def eigenfunctions(self, x: Tensor, solve: bool = False) -> tuple[np.ndarray, Tensor]:
        """``(values, phi)``: values sorted descending and phi(x) [n, k] normalized in L2(rho).

        ``solve=True`` instead solves the small generalized problem C w = sigma M w on the running moments
        (Rayleigh-Ritz, :func:`rlspectral.moments.rayleigh_ritz`), which also un-mixes modes that are not yet
        separated. Directions of the Gram below its relative cut-off are dropped, never inverted: when the k
        outputs span only r < k functions, the last k - r columns are zero and their values NaN.
        """
        F = self.features(x)
        if solve:
            s, basis = self._ritz()
            missing = self.config.k - basis.shape[1]
            values = torch.cat([s - self.objective.shift, s.new_full((missing,), math.nan)])
            phi = torch.nn.functional.pad(F.double() @ basis, (0, missing))
            return values.cpu().numpy(), phi.float()
        vals, order, inv_norm = self.mode_normalization()
        return vals, F[:, order] * inv_norm

    @torch.no_grad()
    def mode_normalization(self, order: Tensor | None = None) -> tuple[np.ndarray, Tensor, Tensor]:
        """``(values, order, inv_norm)``: eigenvalues in mode order, the mode order, and 1 / ||f_i|| in L2(rho)
        in that order (1 before any update), so that ``phi(x) = f(x)[:, order] * inv_norm``. The order is the
        eigenvalues descending unless ``order`` is given (a permutation of ``range(k)`` to keep)."""
        vals = self.eigenvalues
        d = self.running_Mf.diagonal()
        if order is None:
            idx = torch.from_numpy(np.argsort(-vals, kind="stable").copy()).to(d.device)
        else:
            idx = order.to(device=d.device, dtype=torch.long)
            if not torch.equal(idx.sort().values, torch.arange(len(vals), device=d.device)):
                raise ConfigError(f"order must be a permutation of range({len(vals)}), got {order.tolist()}")
        norms = torch.where(d > 1e-12, d.clamp_min(1e-12).sqrt(), torch.ones_like(d))
        return vals[idx.cpu().numpy()], idx, 1.0 / norms[idx]

    # ----------------------------------------------------------------- checkpoints
    def state_dict(self) -> dict[str, Any]:
        return {
            "format": CHECKPOINT_FORMAT,
            "version": CHECKPOINT_VERSION,
            "config": self.config.to_dict(),
            "f": self.f.state_dict(),
            "g": self.g.state_dict() if self.g is not None else None,
            "objective": self.objective.state_dict(),
            "optimizer": self.optimizer.state_dict(),
            "scheduler": self.scheduler.state_dict(),
            "sparse_optimizer": self.sparse_optimizer.state_dict() if self.sparse_optimizer is not None else None,
            "running": {"C": self.running_C, "Mf": self.running_Mf, "Mg": self.running_Mg},
            "step": self.step,
        }

    def save(self, path: str | Path) -> Path:
        """Write config + weights + optimizer state; loadable with ``weights_only=True``. A data-parallel replica other
        than rank 0 writes nothing (every rank holds the same state)."""
        path = Path(path)
        if self.parallel is not None and not self.parallel.is_main:
            return path
        return save_state(self.state_dict(), path)

    @classmethod
    def load(
        cls,
        path: str | Path,
        device: str | torch.device = "cpu",
        expect_obs_shape: tuple[int, ...] | None = None,
        expect_k: int | None = None,
    ) -> SpectralLearner:
        """Load a checkpoint written by :meth:`save`; any problem is one :class:`CheckpointError` line."""
        state = read_checkpoint(path)
        try:
            config = LearnerConfig.from_dict(state["config"])
        except (KeyError, TypeError, ConfigError) as e:
            raise CheckpointError(f"{path}: checkpoint config is invalid ({e})") from None
        if expect_obs_shape is not None and tuple(config.obs_shape) != tuple(expect_obs_shape):
            raise CheckpointError(
                f"{path}: checkpoint was trained on observations of shape {tuple(config.obs_shape)}, "
                f"not {tuple(expect_obs_shape)}"
            )
        if expect_k is not None and config.k != expect_k:
            raise CheckpointError(f"{path}: checkpoint has k = {config.k} modes, not {expect_k}")
        learner = cls(config, device=device)
        try:
            learner.f.load_state_dict(state["f"])
            if learner.g is not None:
                learner.g.load_state_dict(state["g"])
            learner.objective.load_state_dict(state["objective"])
            if learner.sparse_optimizer is None or state.get("sparse_optimizer") is not None:
                learner.optimizer.load_state_dict(state["optimizer"])
                learner.scheduler.load_state_dict(state["scheduler"])
            if learner.sparse_optimizer is not None and state.get("sparse_optimizer") is not None:
                learner.sparse_optimizer.load_state_dict(state["sparse_optimizer"])
                learner.sparse_scheduler.load_state_dict(state["scheduler"])
            # (a table checkpoint from before sparse tables: weights load, the optimizer restarts)
            for name, t in (("C", learner.running_C), ("Mf", learner.running_Mf), ("Mg", learner.running_Mg)):
                t.copy_(state["running"][name])
        except (KeyError, RuntimeError, ValueError, TypeError) as e:
            first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
            raise CheckpointError(f"{path}: weights do not match the stored config ({first})") from None
        learner.step = int(state.get("step", 0))
        return learner


@functools.lru_cache(maxsize=16)
def _projection(dim: int, device: torch.device) -> Tensor:
    """The fixed random key direction of :func:`distinct_rows` (built once per width, not every step)."""
    gen = torch.Generator(device="cpu").manual_seed(12345)
    return torch.randn(dim, dtype=torch.float64, generator=gen).to(device)


def distinct_rows(x: Tensor) -> tuple[Tensor, Tensor]:
    """``(rows, inverse)`` with ``rows[inverse] == x``: one representative per distinct observation.

    Rows are grouped by a 1-D key (a fixed random projection in float64, far cheaper to sort than whole rows);
    the result is verified exactly and falls back to ``torch.unique(dim=0)`` on a key collision.
    """
    flat = x.flatten(1)
    proj = _projection(flat.shape[1], x.device)
    _, inverse = torch.unique(flat.double() @ proj, return_inverse=True)
    first = torch.empty(int(inverse.max()) + 1, dtype=torch.long, device=x.device)
    first.scatter_(0, inverse, torch.arange(x.shape[0], device=x.device))
    rows = x[first]
    if not torch.equal(rows[inverse], x):
        flat_rows, inverse = torch.unique(flat, dim=0, return_inverse=True)
        rows = flat_rows.view(-1, *x.shape[1:])
    return rows, inverse


def save_state(state: Any, path: str | Path) -> Path:
    """``torch.save(state)`` to ``path`` atomically (a temporary file renamed into place): never a half-written
    checkpoint. Every saved artifact of the package goes through here; :func:`load_state` reads it back."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".tmp")
    torch.save(state, tmp)
    tmp.replace(path)
    return path


def load_state(path: str | Path, what: str = "checkpoint") -> Any:
    """``torch.load(path, weights_only=True)`` on the CPU; a missing or unreadable file is one CheckpointError
    line naming ``what`` it should have been."""
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"{path}: {what} file not found")
    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except Exception as e:  # noqa: BLE001 - torch raises many types for a corrupt file
        first = str(e).strip().splitlines()[0][:160] if str(e).strip() else type(e).__name__
        raise CheckpointError(f"{path}: not a readable {what} ({first})") from None


def read_checkpoint(path: str | Path) -> dict[str, Any]:
    """A learner checkpoint (:func:`load_state`) with its format and version checked; a one-line CheckpointError."""
    path = Path(path)
    state = load_state(path)
    if not isinstance(state, dict) or state.get("format") != CHECKPOINT_FORMAT:
        raise CheckpointError(f"{path}: not an rlspectral learner checkpoint (saved by SpectralLearner.save?)")
    if state.get("version") != CHECKPOINT_VERSION:
        raise CheckpointError(f"{path}: checkpoint version {state.get('version')} is not {CHECKPOINT_VERSION}")
    return state


@torch.no_grad()
def clip_grad_norm(params: list[Tensor], max_norm: float) -> float:
    """Scale the gradients of ``params`` so their joint L2 norm is at most ``max_norm`` (as
    ``torch.nn.utils.clip_grad_norm_``, which has no kernel for a table's sparse gradients); returns the norm before."""
    grads = [p.grad for p in params if p.grad is not None]
    sq = sum(float((g.coalesce().values() if g.is_sparse else g).double().square().sum()) for g in grads)
    norm = math.sqrt(sq)
    if norm > max_norm:
        for g in grads:
            g.mul_(max_norm / (norm + 1e-6))
    return norm
