"""The README's main command runs end to end (quick budget), writes its plots and summary, and its numbers are sane."""

import json

import numpy as np
import pytest

from rlspectral.cli.main import main


@pytest.mark.slow
def test_demo_quick(tmp_path):
    out = tmp_path / "demo"
    assert main(["demo", "--quick", "--out", str(out)]) == 0
    summary = json.loads((out / "summary.json").read_text())
    assert {r["agent"] for r in summary["agents"]} == {"raw xy", "spectral (frozen)"}
    for f in ("eigenfunctions.png", "fit/s0/metrics.json", "learning_curves.png", "summary.md"):
        assert (out / f).stat().st_size > 0
    # the reported numbers: cosines are cosines, success rates are rates, the sparse goal pays at most 1
    eig = summary["eigenfunctions"]
    assert 0 <= eig["mean_cosine_similarity"] <= 1 and 0.5 < eig["rr_mean_cosine_similarity"] <= 1
    for row in summary["agents"]:
        assert 0 <= row["final_success_rate"] <= 1 and 0 <= row["final_return"] <= 1 and row["wall_time_s"] > 0
        assert row["seeds"] == 1
    # even the quick fit's Rayleigh-Ritz eigenvalues match P's top four (the Perron value 1 first)
    fit = json.loads((out / "fit" / "s0" / "metrics.json").read_text())
    assert fit["k"] == 11 and fit["true_eigenvalues"][0] == pytest.approx(1.0)
    np.testing.assert_allclose(fit["rr_eigenvalues"][:4], fit["true_eigenvalues"][:4], atol=0.01)
    assert np.all(np.diff(fit["rr_eigenvalues"]) <= 1e-9)  # descending


def test_demo_rejects_zero_seeds(tmp_path, capsys):
    assert main(["demo", "--seeds", "0", "--out", str(tmp_path / "d")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "--seeds" in err[0] and ">= 1" in err[0]
    assert not (tmp_path / "d").exists()
