"""Linear probe: multinomial logistic regression with an L2 penalty chosen on a validation set (torch, L-BFGS).

    min_W,b  mean_i CE(softmax(z_i W + b), y_i) + alpha ||W||_F^2

Inputs come as one array or a list of blocks (an embedding, features); each block is centered on the training rows
and divided by its root-mean-square entry there, so the blocks weigh alike and, inside a block, the columns keep their
relative scale (z-scoring every column would blow up rare bag-of-words entries).

The penalty is picked from ``ALPHAS`` by validation accuracy (ties: the larger penalty), then test accuracy is read.
"""

from __future__ import annotations

import numpy as np
import torch

ALPHAS = (1e-5, 1e-4, 1e-3, 1e-2, 1e-1, 1.0)


def _fit(Z: torch.Tensor, y: torch.Tensor, classes: int, alpha: float, iters: int = 200) -> torch.nn.Linear:
    gen = torch.Generator().manual_seed(0)
    layer = torch.nn.Linear(Z.shape[1], classes, dtype=torch.float64)
    with torch.no_grad():
        layer.weight.copy_(torch.randn(layer.weight.shape, generator=gen, dtype=torch.float64) * 0.01)
        layer.bias.zero_()
    opt = torch.optim.LBFGS(layer.parameters(), lr=1.0, max_iter=iters, line_search_fn="strong_wolfe")

    def closure() -> torch.Tensor:
        opt.zero_grad()
        loss = torch.nn.functional.cross_entropy(layer(Z), y) + alpha * layer.weight.square().sum()
        loss.backward()
        return loss

    opt.step(closure)
    return layer


def scale_blocks(blocks: np.ndarray | list[np.ndarray], train: np.ndarray) -> torch.Tensor:
    """The probe's inputs (module doc): each block centered on the training rows and divided by its RMS entry."""
    out = []
    for block in [blocks] if isinstance(blocks, np.ndarray) else blocks:
        B = torch.from_numpy(np.asarray(block, dtype=np.float64))
        B = B - B[train].mean(0)
        out.append(B / B[train].square().mean().sqrt().clamp_min(1e-12))
    return torch.cat(out, dim=1)


def probe_accuracy(
    X: np.ndarray | list[np.ndarray], labels: np.ndarray, train: np.ndarray, val: np.ndarray | None, test: np.ndarray
) -> dict[str, float]:
    """Test (and validation) accuracy of the probe on rows ``X`` (an array or a list of blocks) with integer
    ``labels`` and boolean masks."""
    y = torch.from_numpy(np.asarray(labels, dtype=np.int64))
    Z = scale_blocks(X, train)
    classes = int(y.max()) + 1
    pick = val if val is not None and val.any() else train
    best: tuple[float, float, torch.nn.Linear] | None = None
    with torch.enable_grad():
        for alpha in sorted(ALPHAS, reverse=True):
            layer = _fit(Z[train], y[train], classes, alpha)
            with torch.no_grad():
                acc = float((layer(Z[pick]).argmax(1) == y[pick]).double().mean())
            if best is None or acc > best[0]:
                best = (acc, alpha, layer)
    acc_val, alpha, layer = best
    with torch.no_grad():
        acc_test = float((layer(Z[test]).argmax(1) == y[test]).double().mean())
    return {"test_accuracy": acc_test, "val_accuracy": acc_val, "alpha": alpha}
