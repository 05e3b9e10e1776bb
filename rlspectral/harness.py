"""The fit-and-score harness: fit eigenfunctions on a :class:`Problem` and score them against its exact answer.

A problem is replay (pairs are drawn from it by the learner's operator), the points to score at and the exact
eigenpairs there; the environment side builds it (:mod:`rlspectral.envs.problems`), so this module imports no
environment. ``rlspectral fit`` and the benchmark scripts run every method (NestedLoRA, NestedOMM, ALLO, GGDO, ...)
through the same data, network, budget and metric here.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from rlspectral import distributed
from rlspectral.buffer import EpisodicBuffer, PairSampler
from rlspectral.config import check, check_int, config_dict, is_real
from rlspectral.errors import ConfigError
from rlspectral.learner import LearnerConfig, SpectralLearner
from rlspectral.metrics import cosine_similarity

# The scalar results of one fit that benchmark tables keep (``fit_gridworld`` returns more).
SCALAR_KEYS = ("layout", "method", "k", "n_states", "mean_cosine_similarity", "rr_mean_cosine_similarity", "steps",
               "wall_time_s", "steps_per_s", "time_to_0.95_s", "time_to_0.99_s", "rr_time_to_0.95_s",
               "rr_time_to_0.99_s", "torch_threads", "device")  # fmt: skip


@dataclass
class FitConfig:
    """The learner side of a benchmark fit (shared by the gridworld and maze fits; each sets its own defaults)."""

    method: str = "nested-lora"
    k: int = 11
    steps: int = 2000
    batch_size: int = 8192
    lr: float = 3e-3
    operator: str = "successor:0.9"
    hidden: tuple[int, ...] = (256, 256, 256)
    fourier_features: int = 64
    fourier_scale: float = 1.0
    seed: int = 0
    eval_every: int = 100
    threads: int = 0  # 0: leave torch's default
    device: str = "cpu"  # "cuda" trains on the GPU (sampling stays on the CPU); timings synchronize the device
    shift: float = 0.1  # NestedLoRA / NestedOMM learn S + shift*I: S_0.9 >= -0.053, so the top-k are never negative
    objective_kwargs: dict[str, Any] = field(default_factory=dict)
    realign_every: int = 0  # nested methods only: Rayleigh-Ritz step on the output layer every N steps and at the end
    schedule: str = "cosine"  # learning rate: cosine (to 5% over ``steps``) | constant (the baselines' published)
    final_realign_batches: int = 50  # with realign_every: the fit's last Rayleigh-Ritz step on N fresh batches

    def __post_init__(self) -> None:
        """Check every field; a bad one is a one-line :class:`ConfigError` naming it. The learner's fields (method,
        k, lr, operator, network, realign_every) are checked by the :class:`LearnerConfig` they become."""
        check_int(self, 1, "steps", "batch_size")
        check_int(self, 0, "eval_every", "threads", "realign_every")
        check(is_real(self.shift), "shift", self.shift, "pass a finite number, e.g. 0.1")
        check_device_name(self.device)
        self.learner_config((1,), self.k, self.fourier_features, self.fourier_scale)

    def learner_config(
        self, obs_shape: tuple[int, ...], k: int, fourier_features: int, fourier_scale: float, dedup: bool = False
    ) -> LearnerConfig:
        """The :class:`LearnerConfig` of this fit (``schedule`` over ``steps``, the shift for nested methods)."""
        nested = self.method.startswith("nested")
        shift = {"shift": self.shift} if nested else {}
        return LearnerConfig(
            obs_shape=tuple(obs_shape), k=k, method=self.method, operator=self.operator, hidden=tuple(self.hidden),
            fourier_features=fourier_features, fourier_scale=fourier_scale, lr=self.lr, schedule=self.schedule,
            total_steps=self.steps, dedup=dedup, seed=self.seed, objective_kwargs={**shift, **self.objective_kwargs},
            realign_every=self.realign_every if nested else 0, final_realign_batches=self.final_realign_batches,
        )  # fmt: skip

    def to_dict(self) -> dict[str, Any]:
        return config_dict(self)


def check_device_name(device: str) -> None:
    """``device`` names a torch device type the fits run on (cpu, cuda, cuda:N); see :func:`check_device`."""
    try:
        dev = torch.device(device)
    except (RuntimeError, ValueError, TypeError):
        raise ConfigError.invalid("device", device, "not a torch device: use cpu, cuda or cuda:N") from None
    check(dev.type in ("cpu", "cuda"), "device", device, "only cpu and cuda are supported")


def check_device(device: str) -> None:
    """:func:`check_device_name`, and a CUDA device needs a GPU torch can see (checked when a fit starts)."""
    check_device_name(device)
    if torch.device(device).type == "cuda" and not torch.cuda.is_available():
        raise ConfigError.invalid("device", device, "this torch build sees no CUDA GPU; use cpu")


@dataclass
class Problem:
    """What a fit is scored on: replay to draw pairs from, points to score at, and the exact answer there.

    ``eigenvalues`` are the reference operator's (P's for a gridworld), descending; ``eigenvectors[:, i]`` is
    mode i at ``points`` (it may hold more modes than are scored, so a tie at the cut-off is scored fairly).
    ``to_image`` lays a vector over ``points`` out as a picture; ``info`` goes into the metrics."""

    buffer: EpisodicBuffer
    points: torch.Tensor
    eigenvalues: np.ndarray
    eigenvectors: np.ndarray
    to_image: Callable[[np.ndarray], np.ndarray]
    info: dict[str, Any] = field(default_factory=dict)


def mode_cosines(
    learner: SpectralLearner, X: torch.Tensor, vecs: np.ndarray, vals: np.ndarray, solve: bool, k: int | None = None
) -> np.ndarray:
    """Per-mode cosine similarity of the learner's top ``k`` eigenfunctions (all by default; sorted by eigenvalue)
    at ``X``, as learned or after Rayleigh-Ritz with ``solve``, to the reference ``vecs`` / ``vals``."""
    _, phi = learner.eigenfunctions(X, solve=solve)
    return cosine_similarity(phi[:, :k].cpu().numpy(), vecs, vals)[0]


def fit_and_score(
    problem: Problem,
    lcfg: LearnerConfig,
    config: dict[str, Any],
    batch_size: int,
    eval_every: int,
    out: str | Path | None = None,
    progress: bool = True,
    device: str = "cpu",
    k: int | None = None,
) -> dict[str, Any]:
    """Fit ``lcfg.total_steps`` updates on pairs from ``problem.buffer`` and score the top ``k`` (default: all
    ``lcfg.k`` learned) eigenfunctions at ``problem.points`` against its exact eigenpairs: per-mode cosine
    similarity as learned and after Rayleigh-Ritz, over training (every ``eval_every`` steps, training time only,
    the device synchronized before each clock reading) and at the end. ``problem.info`` and ``config`` go into the
    metrics; with ``out`` also metrics.json, eigenfunctions.png, TensorBoard logs and model.pt."""
    check_device(device)
    buffer, X, vals, vecs = problem.buffer, problem.points, problem.eigenvalues, problem.eigenvectors
    to_image, info = problem.to_image, problem.info
    out = Path(out) if out is not None else None
    k = lcfg.k if k is None else k  # ``vecs`` may hold more reference modes than k: a tie at the cut-off scores fairly
    main, processes = distributed.is_main(), distributed.world()[1]  # under torchrun: rank 0 alone writes files
    out = out if main else None
    learner = SpectralLearner(lcfg, device=device, log_dir=(out / "tb") if out is not None else None)
    splits = learner.objective.splits  # independent chunks per batch (unbiased products of moments)
    check(batch_size >= splits, "batch_size", batch_size, f"{lcfg.method} needs {splits} pairs or more per batch")
    distributed.attach(learner)  # data-parallel: moments and gradients reduced over the processes
    batch_size = distributed.local_batch(batch_size, splits)  # this process's share of the batch
    sync = torch.cuda.synchronize if learner.device.type == "cuda" else (lambda: None)
    sampler = PairSampler(buffer, learner.operator, seed=distributed.sampler_seed(lcfg.seed + 1))
    train_time = 0.0
    last = time.perf_counter()
    curve: list[dict[str, float]] = []

    def evaluate(lr: SpectralLearner) -> dict[str, float]:
        nonlocal train_time, last
        sync()
        train_time += time.perf_counter() - last  # the clock counts training only, not evaluation
        cos = mode_cosines(lr, X, vecs, vals, solve=False, k=k)
        rr_cos = mode_cosines(lr, X, vecs, vals, solve=True, k=k)  # Rayleigh-Ritz on the running EMA moments
        row = {
            "step": lr.step,
            "train_time_s": train_time,
            "mean_cosine_similarity": float(cos.mean()),
            "rr_mean_cosine_similarity": float(rr_cos.mean()),
        }
        curve.append(row)
        last = time.perf_counter()
        return {"cosine_similarity": row["mean_cosine_similarity"]}

    learner.fit(
        sampler, lcfg.total_steps, batch_size, progress=progress and main, callback=evaluate, callback_every=eval_every
    )
    sync()
    train_time += time.perf_counter() - last
    raw = mode_cosines(learner, X, vecs, vals, solve=False, k=k)
    raw_values = learner.transition_eigenvalues()[np.argsort(-learner.eigenvalues, kind="stable")][:k]
    t0 = time.perf_counter()
    learner.refresh_moments(sampler, batches=50, batch_size=batch_size)
    rr_values, _ = learner.eigenfunctions(X, solve=True)
    rr_values = rr_values[:k]
    rr = mode_cosines(learner, X, vecs, vals, solve=True, k=k)
    rr_time = time.perf_counter() - t0

    def time_to(threshold: float, key: str = "mean_cosine_similarity") -> float | None:
        return next((r["train_time_s"] for r in curve if r[key] >= threshold), None)

    metrics: dict[str, Any] = {
        **info,
        "cosine_similarity": raw.tolist(),
        "mean_cosine_similarity": float(raw.mean()),
        "rr_cosine_similarity": rr.tolist(),
        "rr_mean_cosine_similarity": float(rr.mean()),
        "eigenvalues": raw_values.tolist(),
        "rr_eigenvalues": learner.operator.to_transition(rr_values).tolist(),
        "true_eigenvalues": vals[:k].tolist(),
        "steps": learner.step,
        "wall_time_s": train_time,
        "rr_time_s": rr_time,
        "steps_per_s": learner.step / max(train_time, 1e-9),
        "time_to_0.95_s": time_to(0.95),
        "time_to_0.99_s": time_to(0.99),
        "rr_time_to_0.95_s": time_to(0.95, "rr_mean_cosine_similarity"),
        "rr_time_to_0.99_s": time_to(0.99, "rr_mean_cosine_similarity"),
        "curve": curve,
        "config": config,
        "torch_threads": torch.get_num_threads(),
        "device": _device_name(learner.device),
        "processes": processes,
    }
    if out is not None:
        out.mkdir(parents=True, exist_ok=True)
        learner.save(out / "model.pt")
        _, phi = learner.eigenfunctions(X, solve=True)
        _, phi_raw = learner.eigenfunctions(X)
        learned = _aligned(phi[:, :k].cpu().numpy(), vecs[:, :k])
        rows = {
            "exact": [to_image(vecs[:, i]) for i in range(k)],
            "learned": [to_image(learned[:, i]) for i in range(k)],
            "learned (raw)": [to_image(_aligned(phi_raw[:, :k].cpu().numpy(), vecs[:, :k])[:, i]) for i in range(k)],
        }
        from rlspectral.plots import eigenfunction_figure, save_eigenfunctions

        titles = [f"p={v:.4f}" for v in vals[:k]]
        save_eigenfunctions(out / "eigenfunctions.png", rows, titles)
        if learner.writer is not None:
            import matplotlib.pyplot as plt

            fig = eigenfunction_figure(rows, titles)
            learner.writer.add_figure("eigenfunctions", fig, learner.step)
            plt.close(fig)
            learner.writer.add_scalar(
                "spectral/rr_mean_cosine_similarity", metrics["rr_mean_cosine_similarity"], learner.step
            )
            learner.writer.flush()
        (out / "metrics.json").write_text(json.dumps(metrics, indent=1))
    return metrics


def _device_name(device: torch.device) -> str:
    """The hardware the fit ran on, in words (for results files that compare machines)."""
    if device.type == "cuda":
        return torch.cuda.get_device_name(device)
    import platform

    name = platform.processor() or platform.machine()
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        models = [ln.split(":", 1)[1].strip() for ln in cpuinfo.read_text().splitlines() if "model name" in ln]
        name = models[0] if models else name
    return f"{name}, {torch.get_num_threads()} torch threads"


def _aligned(learned: np.ndarray, true: np.ndarray) -> np.ndarray:
    """Normalize columns and flip signs to match the exact vectors (for side-by-side pictures)."""
    L = learned / np.maximum(np.linalg.norm(learned, axis=0, keepdims=True), 1e-12)
    return L * np.sign(np.sum(L * true, axis=0, keepdims=True) + 1e-12)
