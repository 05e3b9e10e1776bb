"""Autograd gradients match finite differences; sequential nesting keeps later modes out of earlier ones."""

import pytest
import torch

from rlspectral import estimate_moments, make_objective

B, K = 16, 4
ALL = ["nested-lora", "nested-lora-seq", "nested-omm", "nested-omm-seq", "omm2", "allo-tuned", "ggdo"]


DUALS = torch.randn(K, K, generator=torch.Generator().manual_seed(5), dtype=torch.float64).tril()


def loss_of(method, self_adjoint=True, identity_weight=0.0):
    obj = make_objective(method, K).double()
    if method == "allo-tuned":
        obj.duals.copy_(DUALS)

    def fn(F, G):
        m = estimate_moments(
            F,
            G,
            self_adjoint=self_adjoint,
            splits=obj.splits,
            sequential=obj.sequential,
            identity_weight=identity_weight,
        )
        return obj(m)[0]

    return fn


STOP_GRADIENT = ("nested-lora-seq", "nested-omm-seq", "allo-tuned")


@pytest.mark.parametrize("method", [m for m in ALL if m not in STOP_GRADIENT])
def test_autograd_matches_finite_differences(method):
    F = torch.randn(B, K, dtype=torch.float64, requires_grad=True)
    G = torch.randn(B, K, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(loss_of(method), (F, G), eps=1e-6, atol=1e-5)


@pytest.mark.parametrize("method", STOP_GRADIENT)
def test_stop_gradient_objectives_follow_each_modes_own_objective(method):
    """Mode i's gradient = finite-difference gradient of L_i (modes 1..i, earlier ones fixed) in mode i alone.

    Sequential nesting and ALLO's stop-gradients make the update a game, not the gradient of one scalar, so
    the check is per mode."""
    F = torch.randn(B, K, dtype=torch.float64, requires_grad=True)
    G = torch.randn(B, K, dtype=torch.float64, requires_grad=True)
    loss_of(method)(F, G).backward()
    for i in range(K):
        own = make_objective(method, i + 1).double()  # unit weights; unnested when fed plain moments
        if method == "allo-tuned":
            own.duals.copy_(DUALS[: i + 1, : i + 1])

        def L_i(fi, gi, i=i, own=own):
            Fi = torch.cat([F.detach()[:, :i], fi[:, None]], 1)
            Gi = torch.cat([G.detach()[:, :i], gi[:, None]], 1)
            return own(estimate_moments(Fi, Gi, self_adjoint=True, splits=own.splits))[0]

        fi, gi = F.detach()[:, i].clone(), G.detach()[:, i].clone()
        eps = 1e-6
        fd_f = torch.zeros(B, dtype=torch.float64)
        for b in range(B):
            d = torch.zeros(B, dtype=torch.float64)
            d[b] = eps
            fd_f[b] = (L_i(fi + d, gi) - L_i(fi - d, gi)) / (2 * eps)
        assert torch.allclose(F.grad[:, i], fd_f, atol=1e-6), (i, F.grad[:, i], fd_f)


def test_svd_and_lazy_gradients():
    F = torch.randn(B, K, dtype=torch.float64, requires_grad=True)
    G = torch.randn(B, K, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(loss_of("nested-lora", self_adjoint=False), (F, G), eps=1e-6, atol=1e-5)
    assert torch.autograd.gradcheck(loss_of("nested-omm", identity_weight=0.5), (F, G), eps=1e-6, atol=1e-5)


@pytest.mark.parametrize("method", ["nested-lora-seq", "nested-omm-seq"])
def test_sequential_gradient_of_mode_i_ignores_later_modes(method):
    fn = loss_of(method)
    F0 = torch.randn(B, K, dtype=torch.float64)
    G0 = torch.randn(B, K, dtype=torch.float64)

    def grads(F, G):
        F, G = F.clone().requires_grad_(), G.clone().requires_grad_()
        fn(F, G).backward()
        return F.grad, G.grad

    gF, gG = grads(F0, G0)
    for i in range(K - 1):
        F1, G1 = F0.clone(), G0.clone()
        F1[:, i + 1 :] += torch.randn(B, K - i - 1, dtype=torch.float64)
        G1[:, i + 1 :] += torch.randn(B, K - i - 1, dtype=torch.float64)
        hF, hG = grads(F1, G1)
        # Modes 1..i see the same gradient whatever modes > i are ...
        assert torch.allclose(hF[:, : i + 1], gF[:, : i + 1]) and torch.allclose(hG[:, : i + 1], gG[:, : i + 1])
    # ... while under joint nesting they do not.
    joint = loss_of(method.replace("-seq", ""))
    F, G = F0.clone().requires_grad_(), G0.clone().requires_grad_()
    joint(F, G).backward()
    F1 = F0.clone()
    F1[:, 1:] += 1.0
    F2 = F1.clone().requires_grad_()
    joint(F2, G0.clone().requires_grad_()).backward()
    assert not torch.allclose(F2.grad[:, 0], F.grad[:, 0])
