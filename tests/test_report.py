"""Benchmark summaries: grouping, mean ± std (population std today, ddof selectable), markdown / CSV / JSON files."""

import json

import numpy as np
import pytest

from rlspectral.plots import seed_curves
from rlspectral.report import (
    blocks,
    first_step,
    format_pm,
    groups,
    markdown_table,
    mean_std,
    pm,
    select,
    write_csv,
    write_json,
    write_markdown,
)

RESULTS = [
    {"task": "a", "arm": "x", "seed": 0, "v": 1.0},
    {"task": "a", "arm": "x", "seed": 1, "v": 3.0},
    {"task": "b", "arm": "y", "seed": 0, "v": None},
]


def test_groups_follow_the_given_orders_and_skip_empty_combinations():
    got = [(key, [r["seed"] for r in rs]) for key, rs in groups(RESULTS, arm=["y", "x"], task=["b", "a"])]
    assert got == [(("y", "b"), [0]), (("x", "a"), [0, 1])]
    assert select(RESULTS, task="a", seed=1) == [RESULTS[1]]


def test_mean_std_drops_missing_values_and_takes_ddof():
    assert mean_std([1.0, None, 3.0]) == pytest.approx((2.0, np.sqrt(2)))  # the sample std by default
    assert mean_std([1.0, 3.0], ddof=0) == (2.0, 1.0)  # the population std of the tables before 2026-11-30
    assert mean_std([None]) is None
    assert pm([1.0, 3.0]) == "2.00 ± 1.41" and pm([2.0], ".1f", std_of_one=False) == "2.0" and pm([None]) == "–"
    assert format_pm((0.5, 0.25), ".3f") == "0.500 ± 0.250" and format_pm(None) == "–"


def test_first_step_reaching_a_threshold():
    assert first_step([(10, 0.2), (20, None), (30, 0.95), (40, 1.0)], 0.9) == 30
    assert first_step([(10.0, 0.1)], 0.9) is None


def test_files(tmp_path):
    lines = blocks(["**A**", "", *markdown_table(["k", "v"], [[1, "x"]])], ["note"])
    assert lines == ["**A**", "", "| k | v |", "|---|---|", "| 1 | x |", "", "note"]
    assert write_markdown(tmp_path / "t.md", lines).read_text() == "\n".join(lines) + "\n"
    write_csv(tmp_path / "r.csv", RESULTS, ["task", "v"])
    assert (tmp_path / "r.csv").read_text().splitlines() == ["task,v", "a,1.0", "a,3.0", "b,"]
    write_json(tmp_path / "s.json", {"p": tmp_path}, default=str)
    assert json.loads((tmp_path / "s.json").read_text()) == {"p": str(tmp_path)}


def test_seed_curves_align_curves_of_several_seeds():
    curves = [([0, 10, 20], [0.0, 0.5, 1.0]), ([0, 10], [0.0, 1.0])]
    x, runs = seed_curves(curves, "first")
    assert x.tolist() == [0, 10] and runs.tolist() == [[0.0, 0.5], [0.0, 1.0]]
    x, _ = seed_curves([([0.0, 2.0], [1, 1]), ([1.0, 3.0], [1, 1])], "mean")
    assert x.tolist() == [0.5, 2.5]
    x, runs = seed_curves([([0, 10], [0.0, 1.0]), ([0, 5, 10], [0.0, 0.0, 1.0])], "union")
    assert x.tolist() == [0, 5, 10] and runs.tolist() == [[0.0, 0.5, 1.0], [0.0, 0.0, 1.0]]


def test_one_value_has_no_sample_std():
    from rlspectral.report import format_pm, mean_std

    assert format_pm(mean_std([0.5], ddof=1)) == "0.50"  # not "0.50 ± nan"
    assert format_pm(mean_std([0.5, 0.7], ddof=1)) == "0.60 ± 0.14"
    assert format_pm(mean_std([0.5], ddof=0)) == "0.50 ± 0.00"
