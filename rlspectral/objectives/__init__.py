"""Spectral objectives behind one interface, and the one table of them by method name."""

from __future__ import annotations

from typing import Any

from rlspectral.errors import ConfigError
from rlspectral.objectives.allo import ALLO, ALLOTuned
from rlspectral.objectives.base import SpectralObjective
from rlspectral.objectives.graph_drawing import GraphDrawing
from rlspectral.objectives.lora import NestedLoRA
from rlspectral.objectives.neuralef import NeuralEF
from rlspectral.objectives.omm import NestedOMM
from rlspectral.objectives.vampnet import DPNet, VAMPNet

# method name (command line, LearnerConfig.method) -> (objective class, fixed keyword arguments)
OBJECTIVES: dict[str, tuple[type[SpectralObjective], dict[str, Any]]] = {
    "nested-lora": (NestedLoRA, {"nesting": "joint"}),
    "nested-lora-seq": (NestedLoRA, {"nesting": "sequential"}),
    "nested-omm": (NestedOMM, {"nesting": "joint"}),
    "nested-omm-seq": (NestedOMM, {"nesting": "sequential"}),
    "omm2": (NestedOMM, {"nesting": "joint", "order": 2}),
    "allo": (ALLO, {}),  # the authors' update rules and defaults (docs/baselines.md)
    "allo-tuned": (ALLOTuned, {}),  # this package's earlier ALLO settings, kept as a labelled variant
    "ggdo": (GraphDrawing, {"generalized": True}),
    "gdo": (GraphDrawing, {"generalized": False}),
    "vampnet": (VAMPNet, {}),
    "dpnet": (DPNet, {}),
    "neuralef": (NeuralEF, {}),  # Deng et al. 2022, a baseline (positive top eigenvalues)
}
# Koopman baselines learn a subspace, not ordered eigenfunctions (values come from a Koopman estimator).
KOOPMAN_BASELINES = ("vampnet", "dpnet")
METHODS = tuple(m for m in OBJECTIVES if m not in KOOPMAN_BASELINES)  # ordered-mode methods (``rlspectral fit``)


def make_objective(method: str, k: int, **kwargs: Any) -> SpectralObjective:
    """Build an objective by its method name (:data:`OBJECTIVES`)."""
    if method not in OBJECTIVES:
        raise ConfigError(f"unknown method {method!r}; choose one of {', '.join(OBJECTIVES)}")
    cls, fixed = OBJECTIVES[method]
    return cls(k, **fixed, **kwargs)


__all__ = [
    "ALLO",
    "ALLOTuned",
    "DPNet",
    "GraphDrawing",
    "KOOPMAN_BASELINES",
    "METHODS",
    "OBJECTIVES",
    "VAMPNet",
    "NestedLoRA",
    "NestedOMM",
    "NeuralEF",
    "SpectralObjective",
    "make_objective",
]
