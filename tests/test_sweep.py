"""The sweep runner skips finished jobs (resumable) and runs the rest in worker processes."""

import json
from pathlib import Path

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
