"""Flags every fitting command shares."""

from __future__ import annotations

import argparse


def add_run_arguments(p: argparse.ArgumentParser, out: str, seed: int = 0) -> None:
    """``--seed``, ``--threads``, ``--out`` (default ``out``) and ``--no-progress``."""
    p.add_argument("--seed", type=int, default=seed)
    p.add_argument("--threads", type=int, default=0, help="torch threads (0: torch's default)")
    p.add_argument("--out", default=out, help="output directory")
    p.add_argument("--no-progress", action="store_true")
