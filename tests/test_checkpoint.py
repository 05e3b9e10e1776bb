"""Save -> load in a fresh process reproduces the features; bad checkpoints give one-line errors."""

import subprocess
import sys
import textwrap

import numpy as np
import pytest
import torch

from rlspectral import CheckpointError, DivergenceError, LearnerConfig, SpectralLearner


def small_learner(**kw):
    cfg = LearnerConfig(obs_shape=(2,), k=4, hidden=(16, 16), fourier_features=8, constant_mode=True, **kw)
    return SpectralLearner(cfg)


def test_roundtrip_in_fresh_process(tmp_path):
    learner = small_learner()
    x = torch.rand(64, 2) * 2 - 1
    for _ in range(5):
        learner.update(x, x.roll(1, 0))
    path = learner.save(tmp_path / "model.pt")
    np.save(tmp_path / "x.npy", x.numpy())
    np.save(tmp_path / "ref.npy", learner.features(x).detach().numpy())
    code = textwrap.dedent(
        f"""
        import numpy as np, torch
        from rlspectral import SpectralLearner
        l = SpectralLearner.load({str(path)!r})
        x = torch.from_numpy(np.load({str(tmp_path / "x.npy")!r}))
        out = l.features(x).detach().numpy()
        ref = np.load({str(tmp_path / "ref.npy")!r})
        assert np.array_equal(out, ref), abs(out - ref).max()
        assert l.step == 5
        print("ok")
        """
    )
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert res.returncode == 0 and "ok" in res.stdout, res.stderr


def one_line(exc: Exception) -> str:
    msg = str(exc)
    assert "\n" not in msg and msg
    return msg


def test_corrupt_missing_and_mismatched_checkpoints(tmp_path):
    bad = tmp_path / "bad.pt"
    bad.write_bytes(b"not a checkpoint at all")
    with pytest.raises(CheckpointError) as e:
        SpectralLearner.load(bad)
    assert "bad.pt" in one_line(e.value)
    with pytest.raises(CheckpointError) as e:
        SpectralLearner.load(tmp_path / "missing.pt")
    assert "not found" in one_line(e.value)
    torch.save({"some": torch.zeros(2)}, tmp_path / "other.pt")
    with pytest.raises(CheckpointError) as e:
        SpectralLearner.load(tmp_path / "other.pt")
    one_line(e.value)
    path = small_learner().save(tmp_path / "ok.pt")
    with pytest.raises(CheckpointError) as e:
        SpectralLearner.load(path, expect_k=7)
    assert "k = 4" in one_line(e.value)
    with pytest.raises(CheckpointError) as e:
        SpectralLearner.load(path, expect_obs_shape=(3,))
    one_line(e.value)
    # Weights that do not fit the stored config.
    state = torch.load(path, weights_only=True)
    state["f"] = {key: torch.zeros(1) for key in state["f"]}
    torch.save(state, tmp_path / "mismatch.pt")
    with pytest.raises(CheckpointError) as e:
        SpectralLearner.load(tmp_path / "mismatch.pt")
    assert "do not match" in one_line(e.value)


def test_nan_loss_stops_with_step_and_keeps_weights():
    learner = small_learner()
    x = torch.rand(32, 2)
    learner.update(x, x.roll(1, 0))
    before = [p.clone() for p in learner.f.parameters()]
    x_bad = x.clone()
    x_bad[3, 0] = float("nan")
    with pytest.raises(DivergenceError) as e:
        learner.update(x_bad, x.roll(1, 0))
    msg = one_line(e.value)
    assert "step 1" in msg and "nan" in msg.lower()
    assert all(torch.equal(a, b) for a, b in zip(before, learner.f.parameters()))


@pytest.mark.parametrize(
    "method, operator, svd, kwargs",
    [
        ("nested-lora", "successor:0.9", False, {"shift": 0.1}),
        ("nested-lora-seq", "transition", False, {}),
        ("nested-omm", "lazy", False, {"shift": 0.1}),
        ("allo", "transition", False, {}),
        ("ggdo", "transition", False, {}),
        ("nested-lora", "transition", True, {}),
    ],
)
@pytest.mark.parametrize("n_states", [7, 300])  # states repeat a lot, or rarely
def test_dedup_forward_gives_identical_loss_and_gradients(method, operator, svd, kwargs, n_states):
    """One forward pass per distinct observation (and moments from count matrices) is an optimization, not an
    approximation: same loss and gradients as every pair through the network, for every objective."""
    gen = torch.Generator().manual_seed(0)
    states = torch.rand(n_states, 2, generator=gen)
    idx = torch.randint(0, n_states, (256,), generator=gen)
    x, y = states[idx], states[idx.roll(3)]
    grads = []
    for dedup in (False, True):
        cfg = LearnerConfig(
            obs_shape=(2,), k=4, hidden=(16,), dedup=dedup, seed=3, method=method, operator=operator, svd=svd,
            objective_kwargs=kwargs,
        )  # fmt: skip
        learner = SpectralLearner(cfg)
        loss, _ = learner.objective(learner.moments(x, y))
        loss.backward()
        params = list(learner.f.parameters()) + (list(learner.g.parameters()) if learner.g is not None else [])
        grads.append((loss.detach(), [p.grad.clone() for p in params]))
    assert torch.allclose(grads[0][0], grads[1][0], atol=1e-6)
    assert all(torch.allclose(a, b, atol=1e-5) for a, b in zip(grads[0][1], grads[1][1]))
