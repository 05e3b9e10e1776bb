"""RL Zoo (``rl_zoo3``, the ``zoo`` extra) hyperparameters that train with spectral features.

rl_zoo3 ``eval``s a ``policy_kwargs`` *string* from a YAML file in its own module's namespace, where no rlspectral
class exists (hence ``__import__`` tricks). A *Python* hyperparameters file avoids that: ``-conf file.py`` makes
rl_zoo3 ``exec`` the file and read its ``hyperparams`` dict (env id -> entry), so the file can import the extractor
and give real objects. :func:`zoo_hyperparams` builds one entry: ``policy_kwargs`` from
:func:`~rlspectral.sb3.spectral_policy_kwargs` (the extractor class and small, picklable kwargs: the saved model
reloads without rlspectral's callback) and, for eigenfunctions learned online, rl_zoo3's ``callback`` entry naming
:class:`~rlspectral.sb3.SpectralCallback` with its schedule (plain data: rl_zoo3 builds it by its dotted path and
dumps the entry into its ``config.yml``). ``--gym-packages rlspectral`` makes rl_zoo3 ``import rlspectral``, which
registers the ``rlspectral/*`` ids. Example (``examples/zoo/spectral_ppo.py`` in the repository)::

    # spectral_ppo.py
    from rlspectral.sb3.zoo import zoo_hyperparams

    hyperparams = {"rlspectral/GridRoom-4-Goal-v0": zoo_hyperparams({"k": 8, "hidden": []}, 100_000, n_envs=8)}

    python -m rl_zoo3.train --algo ppo --env rlspectral/GridRoom-4-Goal-v0 --gym-packages rlspectral \\
        --env-kwargs obs:"'onehot'" -conf spectral_ppo.py
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from rlspectral.sb3.extractor import spectral_policy_kwargs

SPECTRAL_CALLBACK = "rlspectral.sb3.SpectralCallback"  # rl_zoo3 imports callbacks by dotted path


def zoo_hyperparams(
    learner: dict[str, Any] | None,
    n_timesteps: int,
    *,
    checkpoint: str | Path | None = None,
    mode: str = "frozen",
    concat: bool = False,
    schedule: dict[str, Any] | None = None,
    policy: str = "MlpPolicy",
    policy_kwargs: dict[str, Any] | None = None,
    **algo_hyperparams: Any,
) -> dict[str, Any]:
    """One rl_zoo3 hyperparameters entry with a :class:`SpectralFeaturesExtractor`.

    :param learner: :class:`~rlspectral.LearnerConfig` fields (``obs_shape`` is taken from the env), e.g.
        ``{"k": 8, "hidden": []}`` for one-hot gridworld cells; None with a ``checkpoint``.
    :param n_timesteps: rl_zoo3's training budget (``-n`` overrides it).
    :param checkpoint: pretrained eigenfunctions (kept fixed: no callback unless ``schedule`` is given).
    :param mode: ``frozen`` or ``finetune``; ``concat``: also feed the flattened raw observation.
    :param schedule: :class:`SpectralCallback` keyword arguments (``learning_starts``, ``train_freq``, ...).
    :param policy_kwargs: other policy kwargs (``net_arch``, ...); the rest goes to rl_zoo3 as is (``n_envs``,
        ``normalize``, algorithm hyperparameters).
    """
    kwargs = spectral_policy_kwargs(checkpoint, learner, mode, concat, **(policy_kwargs or {}))
    entry: dict[str, Any] = {"n_timesteps": int(n_timesteps), "policy": policy, "policy_kwargs": kwargs}
    if checkpoint is None or schedule is not None:
        entry["callback"] = [{SPECTRAL_CALLBACK: dict(schedule or {})}]
    return {**entry, **algo_hyperparams}
