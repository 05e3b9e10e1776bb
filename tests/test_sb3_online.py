"""Online spectral learning from the agent's own replay reaches the exact gridworld eigenvectors."""

import torch
from stable_baselines3 import DQN
from stable_baselines3.common.env_util import make_vec_env

from rlspectral import cosine_similarity
from rlspectral.envs import load_grid, transition_eigenpairs
from rlspectral.sb3 import SpectralCallback, spectral_policy_kwargs


def test_online_eigenfunctions_from_dqn_replay_match_exact():
    torch.set_num_threads(1)
    k, steps, starts, every, grad_steps = 8, 50_000, 20_000, 2_500, 100
    rounds = (steps - starts) // every + 1
    env = make_vec_env("rlspectral/GridRoomSmall-1-v0", n_envs=8, seed=0, env_kwargs={"obs": "onehot"})
    # Linear eigen-network on one-hot cells, successor operator (lambda = 0.9), cosine schedule over all updates.
    learner = {"k": k, "hidden": [], "lr": 3e-2, "schedule": "cosine", "total_steps": rounds * grad_steps}
    # DQN before its learning_starts acts uniformly at random: a random-walk replay collected by the agent.
    model = DQN("MlpPolicy", env, seed=0, learning_starts=10**9, buffer_size=steps,
                policy_kwargs=spectral_policy_kwargs(learner=learner))  # fmt: skip
    cb = SpectralCallback(train_freq=every, gradient_steps=grad_steps, learning_starts=starts, batch_size=1024, seed=0)
    model.learn(steps, callback=cb)
    assert cb.learner.step == rounds * grad_steps

    grid = load_grid("GridRoomSmall-1")
    values, vectors = transition_eigenpairs(grid, k)
    cells = torch.from_numpy(grid.observations("onehot"))
    # The features the policy sees (pushed into the online and the target Q-network's extractors).
    for extractor in (model.q_net.features_extractor, model.q_net_target.features_extractor):
        cos, mean = cosine_similarity(extractor(cells).numpy(), vectors, values)
        assert mean >= 0.95, cos
