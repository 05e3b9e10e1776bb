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

from rlspectral.agents.recipes import recipe
from rlspectral.registration import layout_names
from rlspectral.sb3.zoo import zoo_hyperparams

# the ("ppo", "gridworld") recipe for one-hot cells: PPO's settings, the eigenfunction network, the online schedule
REC = recipe("ppo", "rlspectral/GridRoom-4-Goal-v0", obs="onehot")
PPO = {key: v for key, v in REC["algo"].items() if key != "policy_kwargs"}
LEARNER = REC["spectral"]
SCHEDULE = REC["callback"]

hyperparams = {
    f"rlspectral/{name}-Goal-v0": zoo_hyperparams(
        LEARNER,
        REC["steps"],
        schedule=SCHEDULE,
        policy_kwargs=REC["algo"]["policy_kwargs"],
        n_envs=REC["n_envs"],
        **PPO,
    )
    for name in layout_names()
}
