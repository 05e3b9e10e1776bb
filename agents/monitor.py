"""Resource monitor for long runs: memory, throughput and the spectral side's health, every ``every`` env steps.

Each row holds ``timesteps``, ``rss_mb`` (resident memory now, from ``/proc/self/statm``), ``peak_rss_mb`` (the
process's high-water mark, ``getrusage``), ``steps_per_s`` over the last window, and when the agent has an
online spectral learner (found through its :class:`~rlspectral.sb3.SpectralCallback`): learner updates, the
eigenvalues, and whether every learned weight is finite. Rows go to TensorBoard (``resources/*``) and to
``history``; with ``path`` also to a CSV, one line per row as it comes (a cut run keeps what it measured).
"""

from __future__ import annotations

import csv
import os
import resource
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch
from stable_baselines3.common.callbacks import BaseCallback

from rlspectral.learner import SpectralLearner


def rss_mb() -> float:
    """Resident set size of this process now, in MiB (Linux ``/proc``; peak RSS elsewhere)."""
    statm = Path("/proc/self/statm")
    if statm.exists():
        return int(statm.read_text().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20
    return peak_rss_mb()


def peak_rss_mb() -> float:
    """High-water mark of this process's resident memory, in MiB."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


class ResourceMonitor(BaseCallback):
    """Logs memory, steps/s and the spectral learner's state every ``every`` env steps (see the module doc)."""

    def __init__(self, every: int = 10_000, path: str | Path | None = None, learner: Any = None):
        super().__init__()
        self.every, self.path = int(every), Path(path) if path is not None else None
        self.learner_source = learner  # a SpectralLearner, or an object with a ``.learner`` (SpectralCallback)
        self.history: list[dict[str, Any]] = []
        self._next = self.every
        self._t = self._steps = 0.0

    @property
    def learner(self) -> SpectralLearner | None:
        src = self.learner_source
        return src if isinstance(src, SpectralLearner) else getattr(src, "learner", None)

    def _on_training_start(self) -> None:
        self._t, self._steps = time.perf_counter(), self.num_timesteps
        self._record()

    def _on_step(self) -> bool:
        if self.num_timesteps >= self._next:
            self._next += self.every
            self._record()
        return True

    def _record(self) -> None:
        now = time.perf_counter()
        window = self.num_timesteps - self._steps
        row: dict[str, Any] = {
            "timesteps": int(self.num_timesteps),
            "wall_s": now,
            "rss_mb": round(rss_mb(), 1),
            "peak_rss_mb": round(peak_rss_mb(), 1),
            "steps_per_s": window / (now - self._t) if window > 0 else None,
        }
        self._t, self._steps = now, self.num_timesteps
        learner = self.learner
        if learner is not None:
            row["spectral_updates"] = int(learner.step)
            row["eigenvalues"] = [round(float(v), 5) for v in sorted(learner.eigenvalues, reverse=True)]
            row["weights_finite"] = bool(all(torch.isfinite(p).all() for p in learner.f.parameters()))
        self.history.append(row)
        for key in ("rss_mb", "peak_rss_mb", "steps_per_s"):
            if row[key] is not None:
                self.logger.record(f"resources/{key}", row[key])
        if self.path is not None:
            self._append_csv(row)

    def _append_csv(self, row: dict[str, Any]) -> None:
        flat = {**row, "eigenvalues": " ".join(map(str, row.get("eigenvalues", [])))}
        fields = ["timesteps", "wall_s", "rss_mb", "peak_rss_mb", "steps_per_s", "spectral_updates", "eigenvalues",
                  "weights_finite"]  # fmt: skip
        new = not self.path.exists()
        with open(self.path, "a", newline="") as fh:
            w = csv.DictWriter(fh, fieldnames=fields, extrasaction="ignore")
            if new:
                w.writeheader()
            w.writerow({k: flat.get(k) for k in fields})

    def summary(self) -> dict[str, Any]:
        """Peak memory, growth after the first quarter of the run, steps/s after it and learner health."""
        rows = [r for r in self.history if r["timesteps"] > 0]
        if not rows:
            return {}
        quarter = next((r for r in rows if r["timesteps"] >= rows[-1]["timesteps"] / 4), rows[0])
        sps = [r["steps_per_s"] for r in rows if r["steps_per_s"]]
        span = rows[-1]["timesteps"] - quarter["timesteps"], rows[-1]["wall_s"] - quarter["wall_s"]
        out = {
            "peak_rss_mb": max(r["peak_rss_mb"] for r in rows),
            "rss_first_quarter_mb": quarter["rss_mb"],
            "rss_end_mb": rows[-1]["rss_mb"],
            "rss_growth_after_first_quarter_mb": round(rows[-1]["rss_mb"] - quarter["rss_mb"], 1),
            "steps_per_s_steady": span[0] / span[1] if span[1] > 0 else None,  # first quarter (warm-up) left out
            "steps_per_s_mean": float(np.mean(sps)) if sps else None,
            "steps_per_s_first_window": sps[0] if sps else None,
            "steps_per_s_last_window": sps[-1] if sps else None,
        }
        if "eigenvalues" in rows[-1]:
            out["spectral_updates"] = rows[-1]["spectral_updates"]
            out["weights_finite_throughout"] = all(r.get("weights_finite", True) for r in rows)
            out["eigenvalues_end"] = rows[-1]["eigenvalues"]
        return out
