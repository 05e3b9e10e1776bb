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


class RNGStream:
    """A private stream of torch's default generator for code that draws from the global one (``nn.init`` without a
    generator, ``torch.rand``, a shuffling ``DataLoader``), e.g. a third-party module: ``with stream.active():`` runs
    the block on this stream's state (started from ``seed``), keeps the advanced state for the next block and
    restores the caller's generator exactly. The same seed and the same blocks give the same draws, whatever the
    caller drew in between, and the caller's stream goes on as if the blocks had drawn nothing.

    ``cuda``: a CUDA device index whose generator gets the same treatment (for code that samples on that device);
    None leaves CUDA generators alone."""

    def __init__(self, seed: int, cuda: int | None = None):
        self.seed, self.cuda = int(seed), cuda
        self.state = torch.Generator().manual_seed(self.seed).get_state()
        self.cuda_state = None
        if cuda is not None:
            self.cuda_state = torch.Generator(device=f"cuda:{cuda}").manual_seed(self.seed).get_state()

    @contextmanager
    def active(self) -> Iterator[None]:
        devices = [] if self.cuda is None else [self.cuda]
        with torch.random.fork_rng(devices=devices):
            torch.random.default_generator.set_state(self.state)
            if self.cuda is not None:
                torch.cuda.default_generators[self.cuda].set_state(self.cuda_state)
            try:
                yield
            finally:
                self.state = torch.random.default_generator.get_state()
                if self.cuda is not None:
                    self.cuda_state = torch.cuda.default_generators[self.cuda].get_state()
