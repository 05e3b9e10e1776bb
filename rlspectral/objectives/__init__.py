"""Spectral objectives behind one interface, and a registry by method name."""

from __future__ import annotations

from typing import Any

from rlspectral.objectives.allo import ALLO, ALLOTuned
from rlspectral.objectives.base import SpectralObjective
from rlspectral.objectives.graph_drawing import GraphDrawing
from rlspectral.objectives.lora import NestedLoRA
from rlspectral.objectives.omm import NestedOMM
from rlspectral.objectives.vampnet import DPNet, VAMPNet

METHODS = (
    "nested-lora",
    "nested-lora-seq",
    "nested-omm",
    "nested-omm-seq",
    "omm2",
    "allo",  # the authors' update rules and defaults
    "allo-tuned",  # this package's earlier ALLO settings
    "ggdo",
    "gdo",
)
KOOPMAN_BASELINES = ("vampnet", "dpnet")


def make_objective(method: str, k: int, **kwargs: Any) -> SpectralObjective:
    """Build an objective by the method names of the command line (``METHODS``)."""
    if method == "nested-lora":
        return NestedLoRA(k, "joint", **kwargs)
    if method == "nested-lora-seq":
        return NestedLoRA(k, "sequential", **kwargs)
    if method == "nested-omm":
        return NestedOMM(k, "joint", **kwargs)
    if method == "nested-omm-seq":
        return NestedOMM(k, "sequential", **kwargs)
    if method == "omm2":
        return NestedOMM(k, "joint", order=2, **kwargs)
    if method == "allo":  # the authors' update rules and defaults (docs/baselines.md)
        return ALLO(k, **kwargs)
    if method == "allo-tuned":  # this package's earlier ALLO settings, kept as a labelled variant
        return ALLOTuned(k, **kwargs)
    if method == "vampnet":
        return VAMPNet(k, **kwargs)
    if method == "dpnet":
        return DPNet(k, **kwargs)
    if method in ("ggdo", "gdo"):
        return GraphDrawing(k, generalized=method == "ggdo", **kwargs)
    raise ValueError(f"unknown method {method!r}; choose one of {', '.join(METHODS + KOOPMAN_BASELINES)}")


__all__ = [
    "ALLO",
    "ALLOTuned",
    "DPNet",
    "GraphDrawing",
    "KOOPMAN_BASELINES",
    "METHODS",
    "VAMPNet",
    "NestedLoRA",
    "NestedOMM",
    "SpectralObjective",
    "make_objective",
]
