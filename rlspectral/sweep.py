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

from rlspectral.errors import ConfigError, DivergenceError, MissingDependencyError


def _resolve(target: str):
    module, _, name = target.partition(":")
    return getattr(importlib.import_module(module), name)


def _run_one(target: str, job: dict[str, Any], out: str, threads: int) -> dict[str, Any]:
    import torch

    if threads:
        torch.set_num_threads(threads)
    job_dir = Path(out) / job["id"]
    job_dir.mkdir(parents=True, exist_ok=True)
    done = job_dir / "result.json"
    if done.exists():  # finished by another process since this sweep listed its jobs: not run twice
        return json.loads(done.read_text())
    try:
        result = _resolve(target)(job, job_dir)
    except DivergenceError as e:  # a fit that diverged is an outcome of that job: record it, run the others
        failure = {"id": job["id"], "failed": f"{type(e).__name__}: {e}"}
        (job_dir / "failed.json").write_text(json.dumps(failure))
        return failure
    (job_dir / "failed.json").unlink(missing_ok=True)
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

    Local processes by default (``workers`` = CPU count // threads_per_worker); with ``ray_address`` the same jobs
    go to Ray (``pip install rlspectral[ray]``, :func:`_ray_sweep`): "auto" (the cluster ``ray start`` runs on this
    machine), "ray://host:10001" (Ray Client), or "local" (a Ray instance of ``workers`` CPUs started here).
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
        yield from _ray_sweep(target, todo, out, threads_per_worker, ray_address, workers)
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


RAY_RETRIES = 3  # a job whose worker process dies (killed, out of memory, its node lost) is started again


def _ray_sweep(
    target: str, todo: list[dict[str, Any]], out: Path, threads: int, address: str, workers: int
) -> Iterator[dict[str, Any]]:
    """The jobs as Ray tasks of ``threads`` CPUs each; a Ray already initialized in this process is used as it is.

    A task whose worker dies is retried up to :data:`RAY_RETRIES` times. The driver writes each finished job's
    ``result.json`` under ``out`` itself (workers get ``out`` as an absolute path and write there too), so the sweep
    resumes from the driver's disk even when ``out`` is not a filesystem the nodes share. The job's module must be
    importable on every node: the same checkout at the same path (``PYTHONPATH=$PWD ray start ...``)."""
    try:
        import ray
    except ImportError:
        raise MissingDependencyError("Ray is not installed: pip install 'rlspectral[ray]'") from None
    if not ray.is_initialized():
        if address == "local":
            ray.init(address="local", num_cpus=workers or None, include_dashboard=False)
        else:
            ray.init(address=address)
    remote = ray.remote(num_cpus=threads, max_retries=RAY_RETRIES)(_run_one)
    root = str(out.resolve())
    pending = {remote.remote(target, j, root, threads): j for j in todo}
    while pending:
        done, _ = ray.wait(list(pending), num_returns=1)
        job = pending.pop(done[0])
        result = ray.get(done[0])
        (out / job["id"]).mkdir(parents=True, exist_ok=True)
        write_result(out / job["id"], result)
        yield result


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
        p.add_argument(
            "--ray", default=None,
            help="Ray address: 'auto' (a cluster started with ray start), ray://host:port, or 'local'; "
            "default: local processes",
        )  # fmt: skip
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
        if "failed" in r:  # no result.json: left out of the tables, tried again by the next run of the sweep
            print(f"[{time.time() - t0:7.0f}s] {r['id']}: FAILED ({r['failed']}; {args.out}/{r['id']}/failed.json)")
            continue
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
