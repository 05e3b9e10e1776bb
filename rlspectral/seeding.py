"""Local randomness: library code draws from generators of its own and never moves torch's global RNG."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import torch


@contextmanager
def seeded(seed: int) -> Iterator[None]:
    """Run the block with torch's CPU generator seeded to ``seed``, then restore the caller's generator exactly.

    Modules built inside (``nn.Linear`` initialization, random Fourier features) draw the same numbers for the
    same seed wherever they are built, and the caller's stream, e.g. an SB3 agent seeded by its user, goes on as
    if nothing had been drawn. CUDA generators are neither read nor seeded: networks are built on the CPU."""
    with torch.random.fork_rng(devices=[]):
        torch.random.default_generator.manual_seed(int(seed))
        yield
