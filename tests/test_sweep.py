"""The sweep runner skips finished jobs (resumable) and runs the rest in worker processes or on Ray."""

import json
import os
import signal
from pathlib import Path

import pytest

from rlspectral.sweep import finished, load_results, run_jobs, run_sweep, sweep_parser, write_result


def square(job, job_dir: Path):
    (job_dir / "ran").write_text("1")
    return {"id": job["id"], "value": job["x"] ** 2}


def test_resumable_local_sweep(tmp_path):
    jobs = [{"id": f"j{i}", "x": i} for i in range(4)]
    (tmp_path / "j1").mkdir()
    (tmp_path / "j1" / "result.json").write_text(json.dumps({"id": "j1", "value": -1}))  # finished earlier
    got = list(run_sweep("tests.test_sweep:square", jobs, tmp_path, workers=2))
    assert sorted(r["id"] for r in got) == ["j0", "j2", "j3"]
    assert not (tmp_path / "j1" / "ran").exists()
    assert {r["id"]: r["value"] for r in load_results(tmp_path)} == {"j0": 0, "j1": -1, "j2": 4, "j3": 9}
    assert list(run_sweep("tests.test_sweep:square", jobs, tmp_path, workers=2)) == []  # all done


def finish_the_next_job_meanwhile(job, job_dir: Path):
    """Stands in for a second sweep process on the same folder: while j0 runs, j1 gets finished elsewhere."""
    if job["id"] == "j0":
        (job_dir.parent / "j1").mkdir(exist_ok=True)
        write_result(job_dir.parent / "j1", {"id": "j1", "value": -1})
    return square(job, job_dir)


def test_a_job_finished_by_another_process_after_the_sweep_started_is_not_run_again(tmp_path):
    jobs = [{"id": f"j{i}", "x": i} for i in range(3)]
    got = {r["id"]: r["value"] for r in run_sweep("tests.test_sweep:finish_the_next_job_meanwhile", jobs, tmp_path, 1)}
    assert got == {"j0": 0, "j1": -1, "j2": 4}  # j1's result is the other process's, read back
    assert not (tmp_path / "j1" / "ran").exists()


def diverge_on_odd(job, job_dir: Path):
    from rlspectral.errors import DivergenceError

    if job["x"] % 2:
        raise DivergenceError(f"loss became 1e9 at step {job['x']}")
    return {"id": job["id"], "value": job["x"]}


def test_a_diverged_job_is_recorded_and_the_sweep_goes_on(tmp_path, capsys):
    """A DivergenceError ends its own job only: ``failed.json`` holds the message, no ``result.json`` (so tables
    leave it out and the next run of the sweep tries it again), and the other jobs run."""
    args = sweep_parser("doc", str(tmp_path)).parse_args(["--out", str(tmp_path), "--workers", "1"])
    jobs = [{"id": f"j{i}", "x": i} for i in range(4)]
    assert run_jobs("tests.test_sweep:diverge_on_odd", jobs, args) == 4
    assert sorted(r["id"] for r in load_results(tmp_path)) == ["j0", "j2"]
    assert "loss became 1e9 at step 1" in json.loads((tmp_path / "j1" / "failed.json").read_text())["failed"]
    assert "j3: FAILED" in capsys.readouterr().out


def test_benchmark_command_line(tmp_path, capsys):
    p = sweep_parser("doc", "results/x", threads="--threads-per-worker", ray=False)
    args = p.parse_args(["--out", str(tmp_path), "--seeds", "2", "--workers", "1", "--threads-per-worker", "3"])
    assert (args.seeds, args.workers, args.threads, args.summarize_only) == (2, 1, 3, False)
    assert not hasattr(args, "ray")
    jobs = [{"id": f"j{i}", "x": i} for i in range(args.seeds)]
    assert run_jobs("tests.test_sweep:square", jobs, args, lambda r: f"value {r['value']}") == 2
    assert "j1: value 1" in capsys.readouterr().out
    (tmp_path / "other").mkdir()
    write_result(tmp_path / "other", {"id": "other", "value": 7})  # a finished job of another sweep
    assert [r["id"] for r in finished(tmp_path, jobs)] == ["j0", "j1"]
    assert [r["id"] for r in finished(tmp_path, keep=lambda r: r["value"] > 0)] == ["j1", "other"]
    args = p.parse_args(["--out", str(tmp_path / "new"), "--summarize-only"])
    assert run_jobs("tests.test_sweep:square", jobs, args) == 0 and (tmp_path / "new").is_dir()  # runs nothing


# ----------------------------------------------------------------------------- Ray (a local instance of 2 CPUs)
def tiny_fit(job, job_dir: Path):
    """A few learner steps on a fixed batch stream: deterministic on one thread, so any runner must agree."""
    import torch

    from rlspectral.learner import LearnerConfig, SpectralLearner

    learner = SpectralLearner(LearnerConfig(obs_shape=(2,), k=3, hidden=(16, 16), seed=job["seed"]))
    gen = torch.Generator().manual_seed(job["seed"])
    for _ in range(5):
        x = torch.rand(64, 2, generator=gen) * 2 - 1
        learner.update(x, x.roll(1, 0))
    weights = sum(float(p.double().sum()) for p in learner.f.parameters())
    return {"id": job["id"], "eigenvalues": learner.eigenvalues.tolist(), "weights": weights, "pid": os.getpid()}


def die_once(job, job_dir: Path):
    """Counts its attempts; with ``die`` the first attempt kills its own worker process (SIGKILL, no cleanup)."""
    with open(job_dir / "attempts", "a") as f:
        f.write("x")
    if job.get("die") and (job_dir / "attempts").read_text() == "x":
        os.kill(os.getpid(), signal.SIGKILL)
    return {"id": job["id"], "value": job["x"] ** 2}


@pytest.fixture(scope="module")
def local_ray():
    ray = pytest.importorskip("ray", reason="Ray is not installed (pip install 'rlspectral[ray]')")
    ray.init(address="local", num_cpus=2, include_dashboard=False, log_to_driver=False)  # never a running cluster
    yield ray
    ray.shutdown()


@pytest.mark.slow  # ~8 s to start Ray, ~13 s for the jobs on this 2-core machine
def test_ray_gives_the_results_of_local_processes(local_ray, tmp_path):
    jobs = [{"id": f"fit{s}", "seed": s} for s in range(2)]
    local = list(run_sweep("tests.test_sweep:tiny_fit", jobs, tmp_path / "local", workers=2))
    on_ray = list(run_sweep("tests.test_sweep:tiny_fit", jobs, tmp_path / "ray", ray_address="auto"))
    assert len(local) == len(on_ray) == 2
    assert {r["pid"] for r in on_ray}.isdisjoint({os.getpid()})  # ran in Ray's workers, not here

    def without_pid(rs):
        return {r["id"]: {k: v for k, v in r.items() if k != "pid"} for r in rs}

    assert without_pid(load_results(tmp_path / "ray")) == without_pid(load_results(tmp_path / "local"))
    assert without_pid(on_ray) == without_pid(local)


@pytest.mark.slow
def test_ray_reruns_a_killed_worker_and_skips_finished_jobs(local_ray, tmp_path):
    jobs = [{"id": "dies", "x": 2, "die": True}, {"id": "lives", "x": 3}, {"id": "done", "x": 4}]
    (tmp_path / "done").mkdir()
    write_result(tmp_path / "done", {"id": "done", "value": -1})  # finished in an earlier run
    got = list(run_sweep("tests.test_sweep:die_once", jobs, tmp_path, ray_address="auto"))
    assert sorted(r["id"] for r in got) == ["dies", "lives"]
    assert (tmp_path / "dies" / "attempts").read_text() == "xx"  # killed once, run again by Ray
    assert (tmp_path / "lives" / "attempts").read_text() == "x"
    assert not (tmp_path / "done" / "attempts").exists()
    assert {r["id"]: r["value"] for r in load_results(tmp_path)} == {"dies": 4, "lives": 9, "done": -1}
    assert list(run_sweep("tests.test_sweep:die_once", jobs, tmp_path, ray_address="auto")) == []  # all done
