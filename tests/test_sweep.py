"""The sweep runner skips finished jobs (resumable) and runs the rest in worker processes."""

import json
from pathlib import Path

from rlspectral.sweep import load_results, run_sweep


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
