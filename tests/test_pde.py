"""PDE eigenproblems against the closed forms: exact spectra and eigenfunctions, the first-derivative quadratic form,
the importance-weighted estimator, tiny fits, the fit-pde command line and its saved model."""

import json

import numpy as np
import pytest
import torch

from rlspectral import make_objective
from rlspectral.cli.main import main
from rlspectral.koopman.generator import dirichlet_moments, input_jacobian
from rlspectral.pde import PDEFitConfig, PDENetwork, PDENetworkConfig, System, build_proposal, fit_pde, load
from rlspectral.pde.evaluation import galerkin, quadrature
from rlspectral.pde.learner import ProposalSampler
from tests.exact import descend


@pytest.mark.parametrize(
    "spec, k",
    [
        (dict(kind="hydrogen", dim=2), 16),
        (dict(kind="hydrogen", dim=2, charge=2.0, kinetic=1.0), 9),
        (dict(kind="hydrogen", dim=3), 14),
        (dict(kind="oscillator", dim=2, omega=(1.0, 2**0.5)), 15),
        (dict(kind="oscillator", dim=3, omega=(0.8,), kinetic=1.0), 10),
    ],
)
def test_exact_eigenfunctions_are_orthonormal_and_diagonalize_the_quadratic_form(spec, k):
    """<phi_i, phi_j> = delta_ij and kappa <grad phi_i, grad phi_j> + <phi_i, V phi_j> = E_i delta_ij (quadrature,
    central-difference gradients): the closed forms, the potential and the quadrature agree."""
    s = System(**spec)
    x, w = quadrature(s, k, angles=48 if s.dim == 2 else 24)
    Phi = s.eigenfunctions(x, k)
    assert np.abs(Phi.T @ (w[:, None] * Phi) - np.eye(k)).max() < 1e-8
    K = Phi.T @ ((w * s.potential(x))[:, None] * Phi)
    for a in range(s.dim):
        e = np.zeros(s.dim)
        e[a] = 1e-5
        D = (s.eigenfunctions(x + e, k) - s.eigenfunctions(x - e, k)) / 2e-5
        K += s.kinetic * D.T @ (w[:, None] * D)
    E = s.energies(k)
    assert np.abs(K - np.diag(E)).max() < 1e-6 * np.abs(E).max()


def test_closed_form_spectra_and_degeneracies():
    h2 = System("hydrogen", 2)
    assert [len(g) for g in h2.shells(16)] == [1, 3, 5, 7]  # 2n - 1
    assert np.allclose(h2.energies(16)[[0, 1, 4, 9]], [-0.5 / 0.25, -0.5 / 2.25, -0.5 / 6.25, -0.5 / 12.25])
    assert System("hydrogen", 2, kinetic=1.0).energies(1)[0] == pytest.approx(-1.0)  # NeuralSVD's convention
    h3 = System("hydrogen", 3, charge=2.0)
    assert [len(g) for g in h3.shells(14)] == [1, 4, 9]  # n^2
    assert h3.energies(1)[0] == pytest.approx(-2.0)  # -Z^2 / 2
    iso = System("oscillator", 2)
    assert [len(g) for g in iso.shells(15)] == [1, 2, 3, 4, 5]
    assert np.allclose(iso.energies(6), [1, 2, 2, 3, 3, 3])
    aniso = System("oscillator", 2, omega=(1.0, 2**0.5))
    assert all(len(g) == 1 for g in aniso.shells(15))
    assert aniso.energies(2) == pytest.approx([0.5 + 2**0.5 / 2, 1.5 + 2**0.5 / 2])


def test_forward_mode_gradients_match_autograd_and_finite_differences():
    torch.manual_seed(0)
    for env in ("exp", "gauss"):
        net = PDENetwork(PDENetworkConfig(dim=3, k=4, envelope=env, decay_low=0.3, decay_high=2.0)).double()
        x = torch.randn(9, 3, dtype=torch.float64) * 1.5
        F, J = net.with_gradients(x)
        F2, J2 = input_jacobian(net, x)
        assert torch.allclose(F, F2.to(F)) and torch.allclose(J, J2.to(J), atol=1e-7)
        for a in range(3):
            e = torch.zeros(3, dtype=torch.float64)
            e[a] = 1e-6
            fd = (net(x + e) - net(x - e)) / 2e-6
            assert torch.allclose(J[a], fd, atol=1e-6)


def test_quadratic_form_gradient_check_and_integration_by_parts():
    """The NestedLoRA loss on Schrodinger moments passes torch's gradcheck in the output weights (float64), and the
    first-derivative form <grad f, grad f> equals the Laplacian form -<f, Delta f> by quadrature."""
    s = System("oscillator", 2, omega=(1.0, 1.3))
    net = PDENetwork(PDENetworkConfig(dim=2, k=3, hidden=(16,), envelope="gauss", decay_low=0.4, decay_high=1.0))
    net = net.double()
    x, w = ProposalSampler(build_proposal(s, 3), seed=0)(64)
    x, w = x.double(), w.double()
    obj = make_objective("nested-lora", 3).double()

    def pipeline(W):
        F, J = _with_weight(net, W, x)
        m = dirichlet_moments(F, J, 2.0, shift=1.5, weights=w, potential=s.potential(x) / 2.0, splits=2)
        return obj(m)[0]

    W = net.out.weight.detach().clone().requires_grad_(True)
    assert torch.autograd.gradcheck(pipeline, (W,), eps=1e-6, atol=1e-5)

    xq, wq = quadrature(s, 3, angles=48)
    xt = torch.from_numpy(xq)
    F, J = net.with_gradients(xt)
    grad_form = torch.einsum("dbi,b,dbj->ij", J, torch.from_numpy(wq), J)
    h = 1e-3
    lap = sum(net(xt + e) + net(xt - e) - 2 * F for e in torch.eye(2, dtype=torch.float64) * h) / h**2
    lap_form = -(F * torch.from_numpy(wq)[:, None]).T @ lap
    assert torch.allclose(grad_form, 0.5 * (lap_form + lap_form.T), rtol=1e-4, atol=1e-6)


def _with_weight(net: PDENetwork, W: torch.Tensor, x: torch.Tensor):
    """``net.with_gradients(x)`` with the output weights replaced by ``W`` (differentiable in W)."""
    saved = net.out.weight
    del net.out.weight
    net.out.weight = W
    try:
        return net.with_gradients(x)
    finally:
        net.out.weight = saved


def test_importance_weighted_moments_match_quadrature():
    """E_q[w f f^T] and E_q[w (kappa J^T J + V f f^T)] from 2^17 radial-proposal samples agree with quadrature
    (2D hydrogen: the Coulomb term has a 1/r singularity the proposal cancels)."""
    s = System("hydrogen", 2)
    torch.manual_seed(1)
    net = PDENetwork(PDENetworkConfig(dim=2, k=4, hidden=(16, 16), decay_low=0.2, decay_high=2.0, length=3.0))
    xq, wq = quadrature(s, 4)
    _, Mq, Kq = galerkin(net, s, xq, wq)
    x, w = ProposalSampler(build_proposal(s, 4), seed=3)(2**17)
    with torch.no_grad():
        F, J = net.with_gradients(x)
        m = dirichlet_moments(F, J, 1 / s.kinetic, shift=0.0, weights=w, potential=s.potential(x), splits=1)
    M, K = m.Mf[0].double().numpy(), -m.C[0].double().numpy()
    assert np.abs(M - Mq).max() < 0.03 * np.abs(Mq).max()
    assert np.abs(K - Kq).max() < 0.03 * np.abs(Kq).max()


def test_neuralef_recovers_top_eigenpairs_in_order():
    """NeuralEF on exact moments of a PSD matrix: normalized modes = the top eigenvectors, in order."""
    g = torch.Generator().manual_seed(0)
    n, k = 12, 3
    Q, _ = torch.linalg.qr(torch.randn(n, n, generator=g, dtype=torch.float64))
    vals = torch.linspace(1.0, 0.05, n, dtype=torch.float64) ** 1.5
    A = (Q * vals) @ Q.T
    obj = make_objective("neuralef", k).double()
    F = torch.nn.Parameter(0.1 * torch.randn(n, k, generator=g, dtype=torch.float64))
    F = descend(obj, F, A, steps=400, lr=5e-2)
    F = F / F.norm(dim=0)
    cos = (F * Q[:, :k]).sum(0).abs()
    assert cos.min() > 0.999, cos
    rq = (F * (A @ F)).sum(0) / (F * F).sum(0)
    assert torch.allclose(rq, vals[:k], rtol=1e-3)


def test_fit_oscillator_recovers_closed_forms_on_a_tiny_budget():
    m = fit_pde(PDEFitConfig(system="oscillator", modes=3, steps=300, batch_size=256, hidden=(32, 32), seed=0))
    assert m["exact_energies"] == pytest.approx([1.0, 2.0, 2.0])
    assert m["mean_relative_error"] < 0.02, m["energies"]
    assert m["min_shell_cosine"] > 0.98 and m["orthogonality_error"] < 0.05


def test_cli_fit_pde_writes_outputs_and_the_model_reloads_and_is_reused(tmp_path):
    out = tmp_path / "run"
    args = ["fit-pde", "--system", "oscillator", "--omega", "1", "1.4142", "--modes", "3", "--steps", "40",
            "--batch-size", "128", "--hidden", "16", "--no-progress", "--out", str(out)]  # fmt: skip
    assert main(args) == 0
    metrics = json.loads((out / "metrics.json").read_text())
    for key in ("energies", "exact_energies", "relative_errors", "shells", "orthogonality_error", "wall_time_s"):
        assert key in metrics
    assert metrics["energies"] == sorted(metrics["energies"])
    assert (out / "eigenfunctions.png").stat().st_size > 0 and any((out / "tb").iterdir())
    state = torch.load(out / "model.pt", weights_only=True)
    assert state["format"] == "rlspectral-pde-fit"
    model = load(out / "model.pt")
    x = np.random.default_rng(0).normal(size=(5, 2))
    phi = model.eigenfunctions(x)
    assert phi.shape == (5, 3) and np.allclose(model.energies, metrics["energies"])
    again = tmp_path / "again"
    assert main([*args[:-1], str(again), "--init", str(out / "model.pt"), "--steps", "1", "--lr", "1e-8"]) == 0
    reused = json.loads((again / "metrics.json").read_text())
    assert reused["mean_relative_error"] < metrics["mean_relative_error"] + 0.05  # starts where the first fit ended


@pytest.mark.parametrize(
    "flags, message",
    [
        (["--modes", "100"], "--modes=100"),
        (["--system", "oscillator", "--omega", "1", "-2"], "--omega"),
        (["--system", "oscillator", "--omega", "1", "2", "3"], "--omega"),
        (["--system", "oscillator", "--modes", "5", "--shift", "2"], "--modes=5"),
        (["--charge", "0"], "--charge"),
        (["--dim", "4"], "--dim"),
    ],
)
def test_cli_bad_input_is_one_line_and_exit_2(flags, message, tmp_path, capsys):
    assert main(["fit-pde", *flags, "--steps", "1", "--out", str(tmp_path)]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and message in err and "Traceback" not in err
