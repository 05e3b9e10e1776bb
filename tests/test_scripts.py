"""The benchmark scripts are modules run with ``python -m scripts.<name>`` from the repository root: each one's
``--help`` works, its sweep target resolves, and none edits the import path or imports another script."""

import re
import runpy
import subprocess
import sys
from pathlib import Path

import pytest

from rlspectral.sweep import _resolve

ROOT = Path(__file__).resolve().parents[1]
SCRIPTS = sorted(p.stem for p in (ROOT / "scripts").glob("*.py") if p.stem != "__init__")


def test_the_scripts_are_found():
    assert "gridworld_benchmark" in SCRIPTS and len(SCRIPTS) >= 10


@pytest.mark.parametrize("name", SCRIPTS)
def test_help(name, monkeypatch, capsys):
    """What ``python -m scripts.<name> --help`` runs (the module as ``__main__``), in this process: one torch import
    for all the scripts instead of one each."""
    monkeypatch.setattr(sys, "argv", [f"scripts/{name}.py", "--help"])
    with pytest.raises(SystemExit) as stop:
        runpy.run_module(f"scripts.{name}", run_name="__main__", alter_sys=True)
    assert stop.value.code == 0
    text = capsys.readouterr().out
    assert text.startswith("usage:") and ("--out" in text or name == "check_claims")  # check_claims writes nothing
    assert f"python -m scripts.{name}" in text  # the header shows how to run it


@pytest.mark.parametrize("name", [n for n in SCRIPTS if "def run_job(" in (ROOT / "scripts" / f"{n}.py").read_text()])
def test_sweep_target_resolves(name):
    assert callable(_resolve(f"scripts.{name}:run_job"))  # what worker processes and Ray import


def test_python_dash_m_from_the_repository_root():
    """One real ``python -m`` in a fresh interpreter (the others run in-process above)."""
    cmd = [sys.executable, "-m", "scripts.gridworld_benchmark", "--help"]
    done = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "--summarize-only" in done.stdout


def test_no_path_hacks_and_no_script_imports_another():
    needle = "sys." + "path"  # spelled apart so that this file does not match itself
    files = sorted((ROOT / "scripts").glob("*.py")) + sorted((ROOT / "tests").glob("*.py"))
    assert [p.name for p in files if needle in p.read_text()] == []
    importing = re.compile(r"^\s*(from|import)\s+scripts\b", re.MULTILINE)
    assert [p.name for p in files if importing.search(p.read_text())] == []


def test_koopman_logistic_refuses_a_folder_without_runs(tmp_path, monkeypatch, capsys):
    """``--pseudospectra`` / ``--paired`` read stored runs: an empty folder is one line and exit 2, before any work."""
    for flag in ("--pseudospectra", "--paired"):
        argv = ["scripts/koopman_logistic.py", "--out", str(tmp_path / "out"), flag, str(tmp_path)]
        monkeypatch.setattr(sys, "argv", argv)
        with pytest.raises(SystemExit) as stop:
            runpy.run_module("scripts.koopman_logistic", run_name="__main__", alter_sys=True)
        assert stop.value.code == 2
        assert f"{flag}: {tmp_path} has no finished runs" in capsys.readouterr().err
        assert not (tmp_path / "out").exists()
    other = tmp_path / "other" / "run"  # a result folder of another benchmark
    other.mkdir(parents=True)
    (other / "result.json").write_text('{"method": "nested-lora", "seed": 0, "mean_cosine_similarity": 0.9}')
    monkeypatch.setattr(sys, "argv", ["scripts/koopman_logistic.py", "--out", str(tmp_path / "out"),
                                      "--pseudospectra", str(tmp_path / "other")])  # fmt: skip
    with pytest.raises(SystemExit) as stop:
        runpy.run_module("scripts.koopman_logistic", run_name="__main__", alter_sys=True)
    assert stop.value.code == 2
    assert "is not a koopman_logistic run" in capsys.readouterr().err


def test_koopman_logistic_early_stopping_flag(tmp_path, monkeypatch, capsys):
    """``--validate-every``: a bad value or deeptime's peer (trained outside rlspectral) is one line and exit 2."""
    out = tmp_path / "out"
    for flags, message in (
        (["--validate-every", "-1"], "--validate-every -1: pass a number of steps >= 1"),
        (["--validate-every", "5"], "deeptime-vampnet is trained by deeptime, without early stopping"),
    ):
        monkeypatch.setattr(sys, "argv", ["scripts/koopman_logistic.py", "--out", str(out), *flags])
        with pytest.raises(SystemExit) as stop:
            runpy.run_module("scripts.koopman_logistic", run_name="__main__", alter_sys=True)
        assert stop.value.code == 2 and message in capsys.readouterr().err
    assert not out.exists()


@pytest.mark.slow
def test_koopman_logistic_early_stopped_run(tmp_path, monkeypatch):
    """A short early-stopped fit records the step it kept: the best held-out VAMP-E of its history."""
    import json

    import numpy as np

    out = tmp_path / "out"
    monkeypatch.setattr(sys, "argv", ["scripts/koopman_logistic.py", "--out", str(out), "--seeds", "1", "--steps",
                                      "30", "--validate-every", "10", "--methods", "lora-svd"])  # fmt: skip
    runpy.run_module("scripts.koopman_logistic", run_name="__main__", alter_sys=True)
    result = json.loads((out / "lora-svd__s0" / "result.json").read_text())
    history = result["vamp_e_valid"]
    assert [s for s, _ in history] == [10, 20, 30]
    assert result["best_step"] == history[int(np.argmax([v for _, v in history]))][0]
    assert (out / "table.md").exists()
