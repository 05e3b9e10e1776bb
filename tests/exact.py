"""Shared by the truth tests: descend an objective on exact moments of a matrix operator."""

import torch

from rlspectral import exact_moments


def descend(obj, F: torch.nn.Parameter, A: torch.Tensor, steps: int, lr: float) -> torch.Tensor:
    """``steps`` Adam steps of ``obj`` on the exact moments of ``A`` at the columns ``F`` (duals / barriers
    updated after each step, as the learner does); the learned columns, detached."""
    opt = torch.optim.Adam([F], lr=lr)
    for _ in range(steps):
        m = exact_moments(F, A, splits=obj.splits, sequential=obj.sequential)
        value, _ = obj(m)
        opt.zero_grad()
        value.backward()
        opt.step()
        obj.after_step(m)
    return F.detach()
