"""Resumable sweeps over an existing engine: local processes (``concurrent.futures``) or a Ray cluster.

A job is a JSON-able dict with a unique ``"id"``. Its result goes to ``<out>/<id>/result.json``; a job
whose result file exists is skipped, so an interrupted sweep resumes where it stopped. The job function
must be importable (``"package.module:function"``) so worker processes and Ray can find it.
"""

from __future__ import annotations

import importlib
import json
import os
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor, as_completed
from pathlib import Path
from typing import Any

from rlspectral.errors import ConfigError, MissingDependencyError


def _resolve(target: str):
    module, _, name = target.partition(":")
    return getattr(importlib.import_module(module), name)


def _run_one(target: str, job: dict[str, Any], out: str, threads: int) -> dict[str, Any]:
    import torch

    if threads:
        torch.set_num_threads(threads)
    job_dir = Path(out) / job["id"]
    job_dir.mkdir(parents=True, exist_ok=True)
    result = _resolve(target)(job, job_dir)
    tmp = job_dir / "result.json.tmp"
    tmp.write_text(json.dumps(result))
    tmp.replace(job_dir / "result.json")  # written last and atomically: present means finished
    return result


def load_results(out: str | Path) -> list[dict[str, Any]]:
    """Every finished job's result under ``out``."""
    return [json.loads(p.read_text()) for p in sorted(Path(out).glob("*/result.json"))]


def run_sweep(
    target: str,
    jobs: list[dict[str, Any]],
    out: str | Path,
    workers: int = 0,
    threads_per_worker: int = 1,
    ray_address: str | None = None,
) -> Iterator[dict[str, Any]]:
    """Run the unfinished ``jobs`` with ``target(job, job_dir) -> dict``; yield each result as it finishes.

    Local processes by default (``workers`` = CPU count // threads_per_worker); with ``ray_address``
    ("auto" or "ray://host:10001") the same jobs go to a Ray cluster (``pip install rlspectral[ray]``).
    """
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    ids = [j["id"] for j in jobs]
    if len(set(ids)) != len(ids):
        repeated = sorted(str(i) for i, n in Counter(ids).items() if n > 1)
        raise ConfigError(f"sweep job ids must be unique; repeated: {', '.join(repeated)}")
    todo = [j for j in jobs if not (out / j["id"] / "result.json").exists()]
    if not todo:
        return
    if ray_address is not None:
        try:
            import ray
        except ImportError:
            raise MissingDependencyError("Ray is not installed: pip install 'rlspectral[ray]'") from None
        ray.init(address=ray_address, ignore_reinit_error=True)
        remote = ray.remote(num_cpus=threads_per_worker)(_run_one)
        pending = {remote.remote(target, j, str(out), threads_per_worker): j for j in todo}
        while pending:
            done, _ = ray.wait(list(pending), num_returns=1)
            pending.pop(done[0])
            yield ray.get(done[0])
        return
    workers = workers or max(1, (os.cpu_count() or 1) // max(1, threads_per_worker))
    if workers == 1:
        for j in todo:
            yield _run_one(target, j, str(out), threads_per_worker)
        return
    with ProcessPoolExecutor(max_workers=workers) as pool:
        futures = [pool.submit(_run_one, target, j, str(out), threads_per_worker) for j in todo]
        for f in as_completed(futures):
            yield f.result()
