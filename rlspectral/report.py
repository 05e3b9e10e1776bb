"""Benchmark summaries: results grouped by configuration, mean ± std over seeds, markdown / CSV / JSON files.

A result is a JSON-able dict (one finished sweep job, :func:`rlspectral.sweep.load_results`). The "±" of every table
is the sample standard deviation over seeds (``ddof = 1``) unless a caller asks for another ``ddof`` (tables
committed before 2026-11-30 used the population std, ``ddof = 0``, and say so).
"""

from __future__ import annotations

import csv
import itertools
import json
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

Result = dict[str, Any]


def select(results: Iterable[Result], **where: Any) -> list[Result]:
    """The results whose ``key`` equals ``value`` for every ``key=value`` given."""
    return [r for r in results if all(r.get(k) == v for k, v in where.items())]


def groups(results: Sequence[Result], **orders: Sequence[Any]) -> Iterator[tuple[tuple[Any, ...], list[Result]]]:
    """``(values, results)`` for every combination of the keys' values that has results, in the given orders (the
    first key outermost): ``for (task, arm), rs in groups(results, task=tasks, arm=arms)``."""
    keys = list(orders)
    for combo in itertools.product(*orders.values()):
        rs = select(results, **dict(zip(keys, combo)))
        if rs:
            yield combo, rs


def mean_std(values: Iterable[float | None], ddof: int = 1) -> tuple[float, float] | None:
    """Mean and standard deviation (``ddof`` degrees of freedom) of the values that are not None; None if none are."""
    v = np.array([x for x in values if x is not None], dtype=float)
    if not v.size:
        return None
    return float(v.mean()), float(v.std(ddof=ddof)) if v.size > ddof else float("nan")


def format_pm(stats: tuple[float, float] | None, fmt: str = ".2f", missing: str = "–") -> str:
    """``"mean ± std"`` of a :func:`mean_std` pair in the format ``fmt`` (``missing`` for None; the mean alone when
    the std is undefined, one value with ``ddof = 1``)."""
    if stats is None:
        return missing
    return f"{stats[0]:{fmt}}" if np.isnan(stats[1]) else f"{stats[0]:{fmt}} ± {stats[1]:{fmt}}"


def pm(values: Sequence[float | None], fmt: str = ".2f", ddof: int = 1, std_of_one: bool = True) -> str:
    """``"mean ± std"`` over ``values`` (Nones dropped); with ``std_of_one=False`` a single value shows alone."""
    stats = mean_std(values, ddof)
    if stats is not None and not std_of_one and sum(v is not None for v in values) == 1:
        return f"{stats[0]:{fmt}}"
    return format_pm(stats, fmt)


def first_step(points: Iterable[tuple[float, float | None]], threshold: float) -> int | None:
    """The first ``step`` of ``(step, value)`` pairs whose value is at least ``threshold`` (None if never)."""
    return next((int(t) for t, v in points if v is not None and v >= threshold), None)


def markdown_row(cells: Iterable[Any]) -> str:
    return "| " + " | ".join(str(c) for c in cells) + " |"


def markdown_table(header: Sequence[str], rows: Iterable[Iterable[Any]] = ()) -> list[str]:
    """The lines of a markdown table: the header, the rule, one line per row."""
    return [markdown_row(header), "|---" * len(header) + "|", *(markdown_row(r) for r in rows)]


def blocks(*parts: Sequence[str]) -> list[str]:
    """The lines of ``parts`` (each a list of lines: a title, a table) with one blank line between two parts."""
    return [line for i, part in enumerate(parts) for line in ([""] if i else []) + list(part)]


def write_markdown(path: str | Path, lines: Iterable[str]) -> Path:
    """The lines, each ended by a newline."""
    path = Path(path)
    path.write_text("".join(f"{line}\n" for line in lines))
    return path


def write_csv(path: str | Path, rows: Iterable[Mapping[str, Any]], columns: Sequence[str]) -> Path:
    """One CSV line per row, the ``columns`` of each (others ignored, missing ones empty)."""
    path = Path(path)
    with open(path, "w", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=list(columns), extrasaction="ignore")
        w.writeheader()
        w.writerows(rows)
    return path


def write_json(path: str | Path, obj: Any, default: Callable[[Any], Any] | None = None) -> Path:
    """``obj`` as indented JSON (``default`` converts what JSON does not know, e.g. ``str``)."""
    path = Path(path)
    path.write_text(json.dumps(obj, indent=1, default=default))
    return path
