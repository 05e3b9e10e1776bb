"""RL Zoo hyperparameters: PPO on the rlspectral gridworlds with learned eigenfunctions as the policy's features.

The same values as rlspectral's ``("ppo", "gridworld")`` recipe (rlspectral.agents.recipes), for the one-hot
observation (a linear map fits its eigenfunctions exactly). rl_zoo3 ``exec``s this file and reads ``hyperparams``::

    pip install "rlspectral[zoo]"
    python -m rl_zoo3.train --algo ppo --env rlspectral/GridRoom-4-Goal-v0 --gym-packages rlspectral \
        --env-kwargs obs:"'onehot'" -conf examples/zoo/spectral_ppo.py

``--gym-packages rlspectral`` registers the ``rlspectral/*`` ids; ``--env-kwargs obs:"'onehot'"`` picks the
observation the eigenfunction network below is sized for (the ids default to (x, y) cells). Override an entry
from the command line with ``-params``, e.g. a shorter spectral schedule for a smoke test::

    -n 2048 -params callback:"[{'rlspectral.sb3.SpectralCallback': dict(learning_starts=512, train_freq=512)}]"
"""

from rlspectral.registration import layout_names
from rlspectral.sb3.zoo import zoo_hyperparams

PPO = {
    "n_envs": 8,
    "n_steps": 128,
    "batch_size": 256,
    "n_epochs": 4,
    "learning_rate": 3e-4,
    "ent_coef": 0.01,
    "gamma": 0.99,
}
LEARNER = {"k": 8, "hidden": [], "lr": 3e-2, "operator": "successor:0.9", "method": "nested-lora"}
SCHEDULE = {"train_freq": 2000, "gradient_steps": 50, "learning_starts": 5000, "batch_size": 2048}

hyperparams = {
    f"rlspectral/{name}-Goal-v0": zoo_hyperparams(
        LEARNER, 50_000, schedule=SCHEDULE, policy_kwargs={"net_arch": [64, 64]}, **PPO
    )
    for name in layout_names()
}
