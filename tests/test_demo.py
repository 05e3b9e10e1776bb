"""The README's main command runs end to end (quick budget) and writes its plots and summary."""

import json

from rlspectral.cli.main import main


def test_demo_quick(tmp_path):
    out = tmp_path / "demo"
    assert main(["demo", "--quick", "--out", str(out)]) == 0
    summary = json.loads((out / "summary.json").read_text())
    assert {r["agent"] for r in summary["agents"]} == {"raw xy", "spectral (frozen)"}
    for f in ("fit/eigenfunctions.png", "fit/metrics.json", "learning_curves.png", "summary.md"):
        assert (out / f).stat().st_size > 0
