"""Seeds are independent: library code leaves torch's global RNG alone, so runs with different seeds differ."""

import gymnasium as gym
import pytest
import torch

import rlspectral  # noqa: F401 - registers the rlspectral/* ids
from rlspectral import LearnerConfig, SpectralLearner


def _config(seed: int = 0) -> LearnerConfig:
    return LearnerConfig(obs_shape=(2,), k=4, hidden=(16, 16), fourier_features=8, seed=seed)


def test_building_and_loading_a_learner_leaves_the_global_rng_alone(tmp_path):
    torch.manual_seed(123)
    before = torch.get_rng_state()
    learner = SpectralLearner(_config())
    assert torch.equal(torch.get_rng_state(), before)
    learner.save(tmp_path / "model.pt")
    SpectralLearner.load(tmp_path / "model.pt")
    assert torch.equal(torch.get_rng_state(), before)


def test_the_networks_depend_on_the_config_seed_only():
    torch.manual_seed(1)
    a = SpectralLearner(_config(seed=5))
    torch.manual_seed(2)  # a different caller stream: same networks
    b = SpectralLearner(_config(seed=5))
    c = SpectralLearner(_config(seed=6))
    for pa, pb in zip(a.f.state_dict().values(), b.f.state_dict().values()):
        assert torch.equal(pa, pb)
    assert any(not torch.equal(pa, pc) for pa, pc in zip(a.f.state_dict().values(), c.f.state_dict().values()))


def _policy_head(seed: int, checkpoint: str) -> list[torch.Tensor]:
    from stable_baselines3 import PPO

    from rlspectral.sb3 import spectral_policy_kwargs

    env = gym.make("rlspectral/GridRoom-4-Goal-v0")
    model = PPO("MlpPolicy", env, seed=seed, policy_kwargs=spectral_policy_kwargs(checkpoint=checkpoint), device="cpu")
    return [p.detach().clone() for p in model.policy.action_net.parameters()]


@pytest.mark.parametrize("same", [True, False])
def test_sb3_seeds_with_the_same_checkpoint_features_get_their_own_policy_heads(tmp_path, same):
    """Loading checkpoint features inside the policy used to re-seed torch: seeds 1 and 2 got identical heads."""
    ckpt = tmp_path / "model.pt"
    SpectralLearner(_config()).save(ckpt)
    first = _policy_head(1, str(ckpt))
    second = _policy_head(1 if same else 2, str(ckpt))
    equal = all(torch.equal(a, b) for a, b in zip(first, second))
    assert equal is same


def test_an_rng_stream_is_private_seeded_and_advances():
    """Code that draws from the global generator inside ``stream.active()`` draws from the stream instead."""
    from rlspectral.seeding import RNGStream

    torch.manual_seed(3)
    before = torch.get_rng_state()
    a, b, c = RNGStream(5), RNGStream(5), RNGStream(6)
    draws = {}
    for name, stream in (("a", a), ("b", b), ("c", c)):
        with stream.active():
            first = torch.rand(4)
        with stream.active():
            draws[name] = (first, torch.rand(4))
    assert torch.equal(torch.get_rng_state(), before)  # the caller's stream did not move
    assert torch.equal(draws["a"][0], draws["b"][0]) and torch.equal(draws["a"][1], draws["b"][1])
    assert not torch.equal(draws["a"][0], draws["a"][1]) and not torch.equal(draws["a"][0], draws["c"][0])
    assert torch.equal(draws["a"][0], torch.rand(4, generator=torch.Generator().manual_seed(5)))
