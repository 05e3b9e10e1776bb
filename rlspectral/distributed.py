"""Data-parallel learning with ``torch.distributed``: N processes, one learner, N times the batch.

Every nested objective is a function of the chunk moments only (``loss = L(C_1..C_s, Mf_1..Mf_s, Mg_1..Mg_s)``,
:mod:`rlspectral.moments`), and a chunk moment is a mean over its pairs. With N ranks each drawing its own batch of
B pairs, the mean of the ranks' chunk-s moments is the chunk-s moment of the union batch of N B pairs (chunk s of
the union = the ranks' chunks s together), so the loss is the single-process loss at N times the batch. Gradients
follow the chain rule: rank r's local backward through ``C_bar = (1/N) sum_r C_r`` gives ``(1/N) dL/dC_bar dC_r/dθ``
(:class:`_MeanOverRanks`: the forward all-reduces, the backward scales by 1/N and sends nothing), and the sum of
these over the ranks (one all-reduce of the flattened gradients) is exactly ``dL/dθ`` of the union batch. Every
rank then takes the same optimizer step on the same gradient, so the replicas stay identical (the initial weights
are broadcast from rank 0 once) and so do the running moments, the Rayleigh-Ritz steps and ALLO's duals, which are
all computed from the reduced moments.

Launch any fit under ``torchrun`` (``torchrun --nproc-per-node 2 -m rlspectral.cli.main fit ...``): the command
line calls :func:`init_from_environment`, a fit calls :func:`attach`, :func:`local_batch` and :func:`sampler_seed`,
and only rank 0 (:func:`is_main`) writes files. A single process (no process group) takes none of these paths.
"""

from __future__ import annotations

import os
from typing import Any

import numpy as np
import torch
from torch import Tensor

from rlspectral.errors import ConfigError
from rlspectral.moments import Moments


def world() -> tuple[int, int]:
    """``(rank, world_size)`` of the default process group; ``(0, 1)`` when none is initialized."""
    dist = torch.distributed
    if dist.is_available() and dist.is_initialized():
        return dist.get_rank(), dist.get_world_size()
    return 0, 1


def is_main() -> bool:
    """Rank 0 (or a single process): the one that writes checkpoints, metrics and logs."""
    return world()[0] == 0


def init_from_environment(device: str = "cpu") -> str:
    """Join the process group ``torchrun`` describes (``WORLD_SIZE`` > 1 in the environment), gloo on the CPU and
    NCCL on CUDA; return the device this rank trains on (``cuda:LOCAL_RANK`` for ``cuda``). Without ``torchrun``
    (or with one process) nothing happens and ``device`` comes back unchanged."""
    if int(os.environ.get("WORLD_SIZE", "1")) <= 1:
        return device
    dist = torch.distributed
    dev = torch.device(device)
    if dev.type == "cuda" and dev.index is None:
        device = f"cuda:{int(os.environ.get('LOCAL_RANK', '0'))}"
    if not dist.is_initialized():
        backend = "nccl" if dev.type == "cuda" else "gloo"
        if dev.type == "cuda":
            torch.cuda.set_device(torch.device(device))
        dist.init_process_group(backend)
    return device


def close() -> None:
    """Leave the process group (if any); call once at the end of a ``torchrun`` entry point."""
    dist = torch.distributed
    if dist.is_available() and dist.is_initialized():
        dist.destroy_process_group()


def local_batch(batch_size: int, splits: int = 1) -> int:
    """This rank's share of a global ``batch_size`` (the batch a single process would draw): ``batch_size / N``,
    which must be a whole multiple of the objective's ``splits`` (equal chunks on every rank keep the means exact).
    A single process gets ``batch_size`` back unchanged."""
    _, n = world()
    if n > 1 and batch_size % (n * splits):
        raise ConfigError.invalid(
            "batch_size", batch_size, f"must be a multiple of processes x chunks = {n} x {splits} = {n * splits}"
        )
    return batch_size // n


def sampler_seed(seed: int) -> int:
    """The pair sampler's seed on this rank: ``seed`` itself in a single process (unchanged results), otherwise a
    stream of its own per rank derived from ``(seed, rank)`` (``numpy.random.SeedSequence``)."""
    rank, n = world()
    if n == 1:
        return int(seed)
    return int(np.random.SeedSequence([int(seed), rank]).generate_state(1, np.uint64)[0])


class _MeanOverRanks(torch.autograd.Function):
    """``(1/N) sum_r x_r`` of each input across the ranks (one all-reduce for all of them). The backward is the
    partial derivative w.r.t. this rank's own ``x_r``: the incoming gradient times 1/N; the other ranks' terms are
    their own (their gradients are summed afterwards, :meth:`DataParallel.sync_gradients`)."""

    @staticmethod
    def forward(ctx: Any, *xs: Tensor) -> tuple[Tensor, ...]:
        n = torch.distributed.get_world_size()
        ctx.n = n
        flat = torch.cat([x.detach().reshape(-1) for x in xs])
        torch.distributed.all_reduce(flat)
        flat = flat / n
        return tuple(part.view_as(x) for part, x in zip(flat.split([x.numel() for x in xs]), xs))

    @staticmethod
    def backward(ctx: Any, *grads: Tensor) -> tuple[Tensor, ...]:
        return tuple(g / ctx.n for g in grads)


def mean_over_ranks(*xs: Tensor) -> tuple[Tensor, ...]:
    """The mean of each tensor over the ranks, differentiable (see :class:`_MeanOverRanks`)."""
    return _MeanOverRanks.apply(*xs)


class DataParallel:
    """The learner's hook (``learner.parallel``): :meth:`reduce_moments` after each batch's moments,
    :meth:`sync_gradients` after the backward pass; ``is_main`` (rank 0) alone saves checkpoints."""

    def __init__(self) -> None:
        self.rank, self.world_size = world()
        self.is_main = self.rank == 0

    def reduce_moments(self, m: Moments) -> Moments:
        """The chunk moments averaged over the ranks (a tensor shared by ``Mf`` and ``Mg``, one network, is reduced
        once and stays shared); ``F`` and ``G`` stay this rank's."""
        distinct: dict[int, Tensor] = {}
        for t in (*m.C, *m.Mf, *m.Mg):
            distinct.setdefault(id(t), t)
        reduced = dict(zip(distinct, mean_over_ranks(*distinct.values())))
        return Moments(
            C=[reduced[id(t)] for t in m.C],
            Mf=[reduced[id(t)] for t in m.Mf],
            Mg=[reduced[id(t)] for t in m.Mg],
            F=m.F,
            G=m.G,
        )

    def sync_gradients(self, params: list[Tensor]) -> None:
        """Sum every parameter's gradient over the ranks (one all-reduce of them flattened): each rank holds its
        own samples' share of dL/dθ, so the sum is the gradient of the union batch."""
        with_grad = [p for p in params if p.grad is not None]
        if not with_grad:
            return
        flat = torch.cat([p.grad.reshape(-1) for p in with_grad])
        torch.distributed.all_reduce(flat)
        for p, g in zip(with_grad, flat.split([p.numel() for p in with_grad])):
            p.grad.copy_(g.view_as(p.grad))


def attach(learner: Any) -> None:
    """Make ``learner`` (a :class:`~rlspectral.learner.SpectralLearner`) one replica of a data-parallel fit: its
    networks' weights and buffers are broadcast from rank 0, and its moments and gradients are reduced over the
    ranks from now on. Does nothing in a single process."""
    if world()[1] == 1:
        return
    if getattr(learner, "sparse_optimizer", None) is not None:
        raise ConfigError("a table (a transductive graph fit) has sparse gradients and fits in one process: run it "
                          "without torchrun, or fit the inductive mode")  # fmt: skip
    for net in (learner.f, learner.g):
        if net is None:
            continue
        for t in [*net.parameters(), *net.buffers()]:
            torch.distributed.broadcast(t.data, src=0)
    learner.parallel = DataParallel()
