"""ALLO as its authors ran it (method ``allo``) and this package's earlier variant (``allo-tuned``).

The update rules are checked against formulas written from the authors' code (docs/baselines.md), the barrier and
dual updates on synthetic moments, the optimum on an exact problem, and ``allo-tuned`` against the earlier
implementation's formulas, bit for bit."""

import numpy as np
import pytest
import torch

from rlspectral import cosine_similarity, estimate_moments, make_objective
from rlspectral.baselines import PUBLISHED
from rlspectral.errors import ConfigError
from rlspectral.experiments import published_settings
from rlspectral.learner import LearnerConfig, SpectralLearner
from rlspectral.moments import Moments
from rlspectral.objectives import ALLO, ALLOTuned
from tests.exact import descend

N, K = 40, 6


@pytest.fixture(autouse=True)
def one_thread():
    before = torch.get_num_threads()
    torch.set_num_threads(1)  # tiny tensors: threads only add contention
    yield
    torch.set_num_threads(before)


def psd_problem(seed: int = 2):
    g = torch.Generator().manual_seed(seed)
    Q, _ = torch.linalg.qr(torch.randn(N, N, generator=g, dtype=torch.float64))
    vals = torch.linspace(1.0, 0.05, N, dtype=torch.float64) ** 1.5
    return (Q * vals) @ Q.T, vals, Q, g


def synthetic(mf: list[torch.Tensor]) -> Moments:
    k = mf[0].shape[0]
    z = torch.zeros(k, k, dtype=torch.float64)
    return Moments(C=[z] * len(mf), Mf=mf, Mg=mf, F=z, G=z)


def test_defaults_are_the_published_ones():
    obj = make_objective("allo", 3)
    assert isinstance(obj, ALLO) and isinstance(make_objective("allo-tuned", 3), ALLOTuned)
    kw = PUBLISHED["allo"]["objective_kwargs"]
    assert {name: getattr(obj, name) for name in kw if name != "barrier_init"} == {
        name: v for name, v in kw.items() if name != "barrier_init"
    }
    assert float(obj.barrier) == kw["barrier_init"] == 1.0
    assert (obj.lr_duals, obj.max_duals, obj.lr_barrier, obj.max_barrier) == (1e-4, 100.0, 1.0, 1e4)
    settings = published_settings("allo")  # what rlspectral fit --preset published applies
    assert settings["batch_size"] == 1024 and settings["schedule"] == "constant" and settings["fourier_features"] == 0
    assert settings["episodes"] * settings["episode_length"] == 200_000
    make_objective("ggdo", 3, **published_settings("ggdo")["objective_kwargs"])  # the GGDO preset builds
    with pytest.raises(ConfigError, match="published exists for allo, ggdo"):
        published_settings("nested-lora")


def test_loss_and_gradients_match_the_authors_formulas():
    """Written from src/trainer/generalized_augmented.py + al.py: graph term sum_i mean (f_i(x) - f_i(y))^2, errors
    E_s = tril(U_s^T sg(U_s) / n - I) on two independent state batches, loss + sg(beta) * (E_1 + E_2) / 2 +
    sg(b) * sum E_1 * E_2. Here the state batches are the two chunks' pair ends (the harness's independent chunks)."""
    g = torch.Generator().manual_seed(0)
    B, k = 32, 5
    F = torch.randn(2 * B, k, generator=g, dtype=torch.float64, requires_grad=True)
    duals = torch.randn(k, k, generator=g, dtype=torch.float64).tril()
    obj = make_objective("allo", k).double()
    obj.duals.copy_(duals)
    obj.barrier.fill_(3.7)
    loss, _ = obj(estimate_moments(F[:B], F[B:], self_adjoint=True, splits=2, sequential=True))
    (grad,) = torch.autograd.grad(loss, F)

    x, y = F[:B], F[B:]
    half = B // 2
    U = [torch.cat([x[:half], y[:half]]), torch.cat([x[half:], y[half:]])]  # chunk s: both ends of its pairs
    E = [torch.tril(u.T @ u.detach() / u.shape[0] - torch.eye(k, dtype=torch.float64)) for u in U]
    ref = ((x - y) ** 2).mean(0).sum() + (duals * 0.5 * (E[0] + E[1])).sum() + 3.7 * (E[0] * E[1]).sum()
    (ref_grad,) = torch.autograd.grad(ref, F)
    assert torch.allclose(loss, ref, rtol=1e-12, atol=1e-12)
    assert torch.allclose(grad, ref_grad, rtol=1e-10, atol=1e-12)


def test_barrier_grows_with_the_quadratic_error_and_is_capped():
    k = 3
    obj = make_objective("allo", k).double()
    eye = torch.eye(k, dtype=torch.float64)
    M1 = eye + torch.tensor([[0.5, 0.0, 0.0], [0.2, -0.3, 0.0], [0.1, 0.4, 0.2]], dtype=torch.float64)
    M1 = M1 + torch.tril(M1, -1).T  # symmetric Grams
    M2 = eye + 0.5 * (M1 - eye)
    Q = torch.tril(M1 - eye) * torch.tril(M2 - eye)  # E_1 * E_2
    obj.after_step(synthetic([M1, M2]))
    # first step: the running quadratic error is this batch's (rate 1); growth = lr_barrier * mean_{k x k} max(Q, 0)
    assert torch.allclose(obj.quadratic_errors, Q)
    assert float(obj.barrier) == pytest.approx(1.0 + 1.0 * Q.clamp_min(0).mean().item(), rel=1e-12)
    b1 = float(obj.barrier)
    Q2 = torch.tril(M2 - eye) * torch.tril(M2 - eye)
    obj.after_step(synthetic([M2, M2]))
    avg = Q + 0.1 * (Q2 - Q)  # then a running average with rate 0.1
    assert torch.allclose(obj.quadratic_errors, avg)
    assert float(obj.barrier) == pytest.approx(b1 + avg.clamp_min(0).mean().item(), rel=1e-12)
    # no error, no growth (the barrier does not grow per step by itself)
    still = make_objective("allo", k).double()
    still.after_step(synthetic([eye, eye]))
    assert float(still.barrier) == 1.0
    # capped at max_barrier
    capped = make_objective("allo", k, lr_barrier=1e9, max_barrier=1e4).double()
    capped.after_step(synthetic([M1, M2]))
    assert float(capped.barrier) == 1e4


def test_duals_ascend_on_the_batch_error_lower_triangle_and_clip_at_100():
    k = 3
    eye = torch.eye(k, dtype=torch.float64)
    M1 = eye + 0.3 * torch.ones(k, k, dtype=torch.float64)
    M2 = eye - 0.1 * torch.ones(k, k, dtype=torch.float64)
    obj = make_objective("allo", k).double()
    obj.after_step(synthetic([M1, M2]))
    err = torch.tril(0.5 * (M1 + M2) - eye)
    assert torch.allclose(obj.duals, 1e-4 * err, rtol=1e-12, atol=0)
    assert torch.count_nonzero(torch.triu(obj.duals, 1)) == 0
    big = make_objective("allo", k, lr_duals=1e6).double()
    big.after_step(synthetic([M1, M1]))  # error +0.3 everywhere in the lower triangle
    assert torch.all(torch.tril(big.duals) == 100.0 * torch.ones(k, k).tril())
    big.after_step(synthetic([M2, M2]))
    big.after_step(synthetic([M2 - 0.5, M2 - 0.5]))
    assert float(big.duals.min()) == -100.0 and float(big.duals.max()) <= 100.0
    assert torch.count_nonzero(torch.triu(big.duals, 1)) == 0


def test_published_allo_recovers_the_top_eigenspace_in_output_order():
    A, vals, Q, g = psd_problem()
    obj = make_objective("allo", K).double()
    F = torch.nn.Parameter(0.1 * torch.randn(N, K, generator=g, dtype=torch.float64))
    F = descend(obj, F, A, 700, 1e-2)
    cos, _ = cosine_similarity(F.numpy(), Q[:, :K].numpy())  # output i against eigenvector i: no sorting
    assert cos.min() >= 0.99, cos
    # the learner-facing estimates keep that order, and are the Rayleigh quotients (sorted)
    M, C = F.T @ F, F.T @ A @ F
    est = obj.eigenvalues(C.diagonal(), M.diagonal())
    assert torch.all(est[:-1] >= est[1:])
    assert torch.allclose(est, vals[:K], rtol=1e-2)


def test_dual_read_off_is_one_plus_beta_over_four():
    """At the optimum 4 (1 - sigma_i) + beta_ii = 0 in the authors' scaling (a faster dual step to get there)."""
    A, vals, Q, g = psd_problem(3)
    k = 3
    obj = make_objective("allo", k, lr_duals=0.05).double()
    F = torch.nn.Parameter(0.1 * torch.randn(N, k, generator=g, dtype=torch.float64))
    descend(obj, F, A, 1500, 3e-3)
    assert torch.allclose(obj.dual_eigenvalues(), vals[:k], atol=2e-3), (obj.dual_eigenvalues(), vals[:k])


def test_learner_reads_allo_modes_in_output_order():
    """The learner sorts modes by ``objective.eigenvalues`` (a stable sort): for ``allo`` that is the output order
    even when the outputs' Rayleigh quotients are not in order; ``allo-tuned`` still sorts by 1 + beta_ii."""
    k = 4
    learner = SpectralLearner(LearnerConfig(obs_shape=(2,), k=k, method="allo", hidden=(8,)))
    learner.running_C.copy_(torch.diag(torch.tensor([0.2, 0.9, 0.5, 0.7])))
    learner.running_Mf.copy_(torch.eye(k))
    _, order, _ = learner.mode_normalization()
    assert order.tolist() == [0, 1, 2, 3]
    assert np.allclose(learner.eigenvalues, [0.9, 0.7, 0.5, 0.2])
    tuned = SpectralLearner(LearnerConfig(obs_shape=(2,), k=k, method="allo-tuned", hidden=(8,)))
    tuned.objective.duals.copy_(torch.diag(torch.tensor([-0.8, -0.1, -0.5, -0.3])))
    assert tuned.mode_normalization()[1].tolist() == [1, 3, 2, 0]


def _earlier_allo(k, duals, barrier, m):
    """The earlier ``allo`` (now ``allo-tuned``), formulas as they stood: loss, then the after-step state."""
    C, M = m.C_mean, m.M_mean
    eye = torch.eye(k)
    lower = torch.ones(k, k).tril()
    err = [x - eye for x in m.Mf]
    cross = (err[0] * err[1] + err[1] * err[0]) / 2
    loss = (M.diagonal() - C.diagonal()).sum() + (lower * duals * (M - eye)).sum() + barrier * (lower * cross).sum()
    new_duals = duals + 0.01 * lower * (M.detach() - eye)
    new_barrier = (barrier + 0.01).clamp_max(10.0)
    return loss, new_duals, new_barrier


def test_allo_tuned_reproduces_the_earlier_allo_exactly():
    g = torch.Generator().manual_seed(1)
    k, B = 5, 64
    obj = make_objective("allo-tuned", k)
    assert (obj.dual_lr, float(obj.barrier), obj.barrier_rate, obj.barrier_max) == (0.01, 0.5, 0.01, 10.0)
    duals, barrier = torch.zeros(k, k), torch.tensor(0.5)
    F = torch.randn(2 * B, k, generator=g, requires_grad=True)
    for _ in range(5):
        m = estimate_moments(F[:B], F[B:], self_adjoint=True, splits=obj.splits, sequential=obj.sequential)
        loss, _ = obj(m)
        ref, duals, barrier = _earlier_allo(k, duals, barrier, m)
        (grad,) = torch.autograd.grad(loss, F, retain_graph=True)
        (ref_grad,) = torch.autograd.grad(ref, F, retain_graph=True)
        assert torch.equal(loss, ref) and torch.equal(grad, ref_grad)
        obj.after_step(m)
        assert torch.equal(obj.duals, duals) and torch.equal(obj.barrier, barrier)
        with torch.no_grad():
            F -= 0.05 * grad
    assert torch.equal(obj.eigenvalues(torch.ones(k), torch.ones(k)), 1.0 + duals.diagonal())


def test_published_at_pairs_keeps_the_pairs_budget_of_default_batch_steps() -> None:
    from rlspectral.experiments import GridFitConfig, published_at_pairs

    cfg = published_at_pairs("allo", 5000)
    assert cfg["batch_size"] == 1024
    assert cfg["steps"] * cfg["batch_size"] == 5000 * GridFitConfig().batch_size
