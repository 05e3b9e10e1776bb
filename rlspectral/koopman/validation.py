"""Early stopping for trajectory fits: keep the networks whose held-out VAMP-E was best (Wu & Noe 2020, Sec. 4:
VAMP-E on validation data is the score for choosing between models, here between checkpoints of one fit)."""

from __future__ import annotations

import copy
from typing import Any

import numpy as np
from torch import nn

from rlspectral.koopman.estimators import covariances, vamp_e_score
from rlspectral.koopman.model import network_features


class BestOnHeldOut:
    """A ``SpectralLearner.fit`` callback: every call scores ``vamp_e_score(train_cov, valid_cov)`` of the learner's
    current (f, g) (the model from ``train`` pairs, scored on ``valid`` pairs) and remembers the networks' weights
    when the score is the best so far; :meth:`restore` puts the best ones back at the end of the fit."""

    def __init__(
        self,
        train: tuple[np.ndarray, np.ndarray],
        valid: tuple[np.ndarray, np.ndarray],
        mean: np.ndarray,
        scale: np.ndarray,
    ):
        self.train, self.valid, self.mean, self.scale = train, valid, mean, scale
        self.history: list[tuple[int, float]] = []
        self.best_score, self.best_step = -np.inf, 0
        self._best: list[dict[str, Any]] | None = None

    @staticmethod
    def _nets(learner: Any) -> list[nn.Module]:
        return [learner.f] if learner.g is None else [learner.f, learner.g]

    def score(self, learner: Any) -> float:
        """Held-out VAMP-E of the learner's networks now."""
        f = learner.f
        g = learner.g if learner.g is not None else learner.f

        def cov(pairs: tuple[np.ndarray, np.ndarray]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
            x0, x1 = pairs
            return covariances(
                network_features(f, x0, self.mean, self.scale), network_features(g, x1, self.mean, self.scale)
            )

        return vamp_e_score(cov(self.train), cov(self.valid))

    def __call__(self, learner: Any) -> dict[str, float]:
        s = self.score(learner)
        self.history.append((learner.step, s))
        if s > self.best_score:
            self.best_score, self.best_step = s, learner.step
            self._best = [copy.deepcopy(net.state_dict()) for net in self._nets(learner)]
        return {"vamp_e_valid": s}

    def restore(self, learner: Any) -> None:
        """Load the best-scoring weights into the learner's networks (no-op before the first call)."""
        if self._best is not None:
            for net, state in zip(self._nets(learner), self._best):
                net.load_state_dict(state)
