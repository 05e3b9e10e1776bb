"""Resumable sweeps over an existing engine: local processes (``concurrent.futures``) or a Ray cluster.

A job is a JSON-able dict with a unique ``"id"``. Its result goes to ``<out>/<id>/result.json``; a job
whose result file exists is skipped, so an interrupted sweep resumes where it stopped. The job function
must be importable (``"package.module:function"``) so worker processes and Ray can find it; a benchmark
module run as ``python -m scripts.<name>`` from the repository root is (``"scripts.<name>:run_job"``).

The command-line side of a benchmark: :func:`sweep_parser` (``--out``, ``--seeds``, ``--workers``, the
threads flag, ``--ray``, ``--summarize-only``), :func:`run_jobs` (run what is unfinished, one line per
finished job) and :func:`finished` (the results of a job list, to summarize).
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import time
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
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
    write_result(job_dir, result)  # written last: present means finished
    return result


def write_result(job_dir: str | Path, result: dict[str, Any]) -> None:
    """``<job_dir>/result.json``, written atomically (a reader never sees half of it)."""
    tmp = Path(job_dir) / "result.json.tmp"
    tmp.write_text(json.dumps(result))
    tmp.replace(Path(job_dir) / "result.json")


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


def sweep_parser(
    doc: str | None,
    out: str,
    *,
    seeds: int | None = 3,
    workers: int | None = 2,
    threads: str | None = None,
    threads_default: int = 1,
    ray: bool = True,
    summarize_only: bool = True,
) -> argparse.ArgumentParser:
    """A benchmark's argument parser (``doc`` as its description) with the sweep flags it takes: ``--out`` (default
    ``out``), ``--seeds`` and ``--first-seed`` (:func:`seed_range`), ``--workers`` (None: not offered), the
    torch-threads flag named ``threads`` (e.g.
    ``"--threads"``; stored as ``args.threads``), ``--ray``, ``--summarize-only``."""
    p = argparse.ArgumentParser(description=doc, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--out", default=out, help="results folder (one sub-folder per job; resumable)")
    if seeds is not None:
        p.add_argument("--seeds", type=int, default=seeds, help="N seeds of every configuration")
        fresh = "seeds first .. first+N-1 (final tables: seeds never used for a design decision)"
        p.add_argument("--first-seed", type=int, default=0, help=fresh)
    if workers is not None:
        p.add_argument("--workers", type=int, default=workers, help="local worker processes")
    if threads is not None:
        p.add_argument(threads, dest="threads", type=int, default=threads_default, help="torch threads per run")
    if ray:
        p.add_argument("--ray", default=None, help="Ray address ('auto' or ray://host:port); default: local processes")
    if summarize_only:
        p.add_argument("--summarize-only", action="store_true", help="write the tables from finished runs, run nothing")
    return p


def seed_range(args: argparse.Namespace) -> range:
    """The seeds ``--first-seed`` .. ``--first-seed + --seeds - 1`` of a :func:`sweep_parser` command line."""
    return range(args.first_seed, args.first_seed + args.seeds)


def run_jobs(
    target: str,
    jobs: Sequence[dict[str, Any]],
    args: argparse.Namespace,
    describe: Callable[[dict[str, Any]], str] | None = None,
) -> int:
    """Run the unfinished ``jobs`` with the sweep flags of ``args`` (none with ``--summarize-only``), printing the
    elapsed time, id and ``describe(result)`` of each as it finishes; the number run. Creates ``args.out``."""
    Path(args.out).mkdir(parents=True, exist_ok=True)
    if getattr(args, "summarize_only", False):
        return 0
    t0, n = time.time(), 0
    workers, threads, ray = getattr(args, "workers", 1), getattr(args, "threads", 1), getattr(args, "ray", None)
    for r in run_sweep(target, list(jobs), args.out, workers, threads, ray):
        n += 1
        print(f"[{time.time() - t0:7.0f}s] {r['id']}" + (f": {describe(r)}" if describe else ""), flush=True)
    return n


def finished(
    out: str | Path,
    jobs: Sequence[dict[str, Any]] | None = None,
    keep: Callable[[dict[str, Any]], bool] | None = None,
) -> list[dict[str, Any]]:
    """The finished results under ``out``: of ``jobs`` only (by id) when given, and those ``keep`` accepts."""
    results = load_results(out)
    if jobs is not None:
        ids = {j["id"] for j in jobs}
        results = [r for r in results if r["id"] in ids]
    return [r for r in results if keep is None or keep(r)]
