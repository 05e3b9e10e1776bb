"""One whitening routine with a relative cut-off (``rlspectral.moments.whiten``): Rayleigh-Ritz and the learner's
``eigenfunctions(solve=True)`` never amplify a near-null direction of the Gram matrix."""

import numpy as np
import pytest
import torch

from rlspectral import LearnerConfig, SpectralLearner, cosine_similarity, rayleigh_ritz
from rlspectral.koopman import whitening
from rlspectral.moments import whiten


def test_whiten_drops_directions_below_the_relative_cut_off():
    g = torch.Generator().manual_seed(0)
    Q, _ = torch.linalg.qr(torch.randn(4, 4, generator=g, dtype=torch.float64))
    for scale in (1e-8, 1.0, 1e8):  # relative: the same directions survive at any scale of M
        M = scale * (Q * torch.tensor([2.0, 1.0, 1e-3, 1e-13], dtype=torch.float64)) @ Q.T
        W = whiten(M)
        assert W.shape == (4, 3)
        torch.testing.assert_close(W.T @ M @ W, torch.eye(3, dtype=torch.float64), atol=1e-9, rtol=0)
        assert whiten(M, rtol=1e-2).shape == (4, 2)
    # float32 Grams: eigenvalues below k * eps(float32) of the largest are round-off, dropped by default.
    M32 = (Q * torch.tensor([1.0, 0.5, 1e-2, 1e-8], dtype=torch.float64)) @ Q.T
    assert whiten(M32.float()).shape == (4, 3) and whiten(M32).shape == (4, 4)
    assert whiten(torch.zeros(3, 3)).shape == (3, 0)
    np.testing.assert_allclose(whitening(M32.numpy()), whiten(M32).numpy())  # the numpy face of the same routine


def _chain(n: int, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A reversible chain: (P, pi, eigenvalues descending)."""
    rng = np.random.default_rng(seed)
    W = rng.random((n, n))
    W = W + W.T + n * np.eye(n)
    P, pi = W / W.sum(1, keepdims=True), W.sum(1) / W.sum()
    S = np.sqrt(pi)[:, None] * P / np.sqrt(pi)[None, :]
    return P, pi, np.sort(np.linalg.eigvalsh(0.5 * (S + S.T)))[::-1]


@pytest.mark.parametrize("defect", ["duplicate", "near-duplicate", "vanishing"])
def test_solve_on_a_rank_deficient_span_keeps_the_valid_modes_bounded_and_right(defect):
    """Outputs 0..3 of a linear network on one-hot states span 4 functions; output 4 copies output 1 (exactly, or up
    to 1e-5 of another function: below float32 resolution of the running moments) or is ~0. Rayleigh-Ritz must
    return the 4 Ritz pairs of the span (M-orthonormal, bounded) and a zero 5th function. (Inverting the near-null
    direction instead, as an absolute eps clamp did, gave the near-duplicate a Ritz value of 37 for a Markov operator
    and scrambled every valid mode.)"""
    n, k = 8, 5
    P, pi, _ = _chain(n, seed=3)
    learner = SpectralLearner(LearnerConfig(obs_shape=(n,), k=k, operator="transition", hidden=()))
    layer = learner.f.output_layer()
    eps = {"duplicate": 0.0, "near-duplicate": 1e-5}.get(defect)
    with torch.no_grad():
        if eps is None:
            layer.weight[4] *= 1e-7
            layer.bias[4] *= 1e-7
        else:
            layer.weight[4] = layer.weight[1] + eps * layer.weight[4]
            layer.bias[4] = layer.bias[1] + eps * layer.bias[4]
    X = torch.eye(n)
    F = learner.features(X).detach().double().numpy()
    D = np.diag(pi)
    # The running moments the learner keeps (float32), here exact: C = F^T D P F (symmetric), M = F^T D F.
    learner.running_C.copy_(torch.from_numpy(F.T @ D @ P @ F))
    learner.running_Mf.copy_(torch.from_numpy(F.T @ D @ F))
    learner.running_Mg.copy_(learner.running_Mf)
    learner.step = 1
    values, phi = learner.eigenfunctions(X, solve=True)
    phi = phi.double().numpy()
    # Truth: Rayleigh-Ritz in float64 on the 4 independent outputs.
    G = F[:, :4]
    s, U = rayleigh_ritz(torch.from_numpy(G.T @ D @ P @ G), torch.from_numpy(G.T @ D @ G))
    ritz = G @ U.numpy()
    np.testing.assert_allclose(values[:4], s.numpy(), atol=1e-4)
    assert np.isnan(values[4])
    gram = phi.T @ D @ phi  # L2(pi) Gram of the returned functions: identity on the valid modes, zero after
    np.testing.assert_allclose(gram[:4, :4], np.eye(4), atol=1e-4)
    np.testing.assert_array_equal(phi[:, 4], 0.0)
    w = np.sqrt(pi)[:, None]
    np.testing.assert_allclose(cosine_similarity(phi[:, :4] * w, ritz * w)[0], 1.0, atol=1e-4)
    assert learner.realign() is None  # no mixing of 5 outputs spanning 4 functions can be made well-conditioned
