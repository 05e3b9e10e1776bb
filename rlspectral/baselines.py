"""The baselines' published settings, as data.

ALLO (Gomez, Bowling, Machado, ICLR 2024) and GGDO (Wang et al., ICML 2021) as the ALLO authors ran them in
tarod13/laplacian_dual_dynamics (the code behind the published gridworld scores, :data:`PUBLISHED_SCORES`).
Each value cites its source: a file of that repository and the key (yaml) or function (python). Where the value is
translated into this package's units, the comment says how. ``docs/baselines.md`` has the full table, the update
rules and what this package's harness does differently.

Keys: ``method`` and ``objective_kwargs`` go to :func:`rlspectral.objectives.make_objective`; ``k``, ``lr``,
``schedule``, ``batch_size``, ``hidden``, ``operator``, ``steps`` map onto ``LearnerConfig`` / ``GridFitConfig``
fields of the same meaning; ``transitions`` and ``episode_length`` describe the replay (200k transitions = 4000
random-walk episodes of 50 steps); ``fourier_features``, ``extra_modes``, ``realign_every`` are this package's
extras, switched off to match.
"""

from __future__ import annotations

from typing import Any

PUBLISHED: dict[str, dict[str, Any]] = {
    "allo": {
        "method": "allo",  # src/hyperparam/al.yaml `algorithm: al` -> src/trainer/al.py AugmentedLagrangianTrainer
        "objective_kwargs": {
            "lr_duals": 1e-4,  # al.yaml `lr_duals: 0.0001` (al.py update_duals; use_barrier_for_duals False)
            "min_duals": -100.0,  # al.yaml `min_duals: -100` (al.py update_duals: jnp.clip)
            "max_duals": 100.0,  # al.yaml `max_duals: 100`
            "barrier_init": 1.0,  # al.yaml `barrier_initial_val: 1.0` (al.py init_additional_params)
            "lr_barrier": 1.0,  # al.yaml `lr_barrier_coefs: 1.0` (al.py update_barrier_coefficients)
            "min_barrier": 0.0,  # al.yaml `min_barrier_coefs: 0`
            "max_barrier": 1e4,  # al.yaml `max_barrier_coefs: 10000`
            "error_rate": 1.0,  # al.yaml `error_update_rate: 1` (generalized_augmented.py update_error_estimates)
            "quadratic_error_rate": 0.1,  # al.yaml `q_error_update_rate: 0.1` (same function)
        },
        "k": 11,  # al.yaml `d: 11`
        "lr": 1e-3,  # al.yaml `lr: 0.001`; train_laprepr.py `optax.adam(hparam_yaml['lr'])`: Adam, no schedule
        "schedule": "constant",  # train_laprepr.py: plain optax.adam, no schedule, no gradient clipping
        "batch_size": 1024,  # al.yaml `batch_size: 1024` (pairs; plus two independent batches of 1024 states)
        "hidden": (256, 256, 256),  # al.yaml `hidden_dims: [256, 256, 256]`, `activation: relu` (src/nets/mlp.py)
        # al.yaml `discount: 0.9`: src/agent/episodic_replay_buffer.py sample_pairs draws the offset k >= 1 with
        # P(k) proportional to 0.9^(k-1), truncated at the episode's end: this package's successor:0.9 (truncation
        # handled differently, see docs/baselines.md).
        "operator": "successor:0.9",
        "transitions": 200_000,  # al.yaml `n_samples: 200000` (replay size; random uniform policy)
        "episode_length": 50,  # al.yaml `max_episode_steps: 50`
        # al.yaml `total_train_steps: 50000`; the paper's runs (~200k steps) override it on the
        # command line (job-scripts/exp1_max.sh passes --total_train_steps 400000 --n_samples 3000000 in a sweep).
        "steps": 50_000,
        "fourier_features": 0,  # inputs: (row, col) / grid shape - 0.5 (src/env/wrapper/transform.py), no features
        "extra_modes": 0,  # the authors learn exactly d modes and score them all
        "realign_every": 0,
    },
    "ggdo": {
        "method": "ggdo",  # src/hyperparam/generalized_gdo.yaml `algorithm: ggdo` -> src/trainer/generalized_gdo.py
        "objective_kwargs": {
            # generalized_gdo.yaml `barrier_initial_val: 1.0` multiplies a penalty whose entry (j, l) is counted in
            # every nested block dim >= max(j, l) (generalized_gdo.py compute_orthogonality_loss), against an
            # un-halved graph term E[(f(x) - f(y))^2] with weights d - i + 1; both divided by d(d+1)/2
            # (`coefficient_normalization: True`). In this package's units (graph term <f, (I - T) f> with weights
            # v_i / k, penalty weights P_jl / k) that is beta = 0.5 with the nested penalty weights.
            "beta": 0.5,
            "penalty": "nested",
        },
        "k": 11,  # generalized_gdo.yaml `d: 11`
        "lr": 1e-3,  # generalized_gdo.yaml `lr: 0.001` (Adam, constant: train_laprepr.py)
        "schedule": "constant",
        "batch_size": 1024,  # generalized_gdo.yaml `batch_size: 1024`
        "hidden": (256, 256, 256),  # generalized_gdo.yaml `hidden_dims`, `activation: relu`
        "operator": "successor:0.9",  # generalized_gdo.yaml `discount: 0.9` (same pair sampling as ALLO)
        "transitions": 100_000,  # generalized_gdo.yaml `n_samples: 100000`
        "episode_length": 50,  # generalized_gdo.yaml `max_episode_steps: 50`
        "steps": 200_000,  # generalized_gdo.yaml `total_train_steps: 200000`
        "fourier_features": 0,
        "extra_modes": 0,
        "realign_every": 0,
    },
}


# The published gridworld scores (xy, k = 11, mean cosine similarity over 60 seeds, ~200k steps of batch 1024):
# ALLO's paper (Gomez, Bowling, Machado, ICLR 2024), its GGDO column at the same settings. Quoted, not re-run.
_LAYOUTS = ("GridMaze-7", "GridMaze-9", "GridMaze-17", "GridMaze-19", "GridMaze-26", "GridMaze-32", "GridRoom-1",
            "GridRoom-4", "GridRoom-16", "GridRoom-32", "GridRoom-64", "GridRoomSym-4")  # fmt: skip
PUBLISHED_SCORES: dict[str, dict[str, float]] = {
    "allo": dict(
        zip(_LAYOUTS, (0.9996, 0.9989, 0.9994, 0.9989, 0.9984, 0.9908, 0.9912, 0.9965, 0.9990, 0.9982, 0.9917, 0.8411))
    ),  # fmt: skip
    "ggdo": dict(
        zip(_LAYOUTS, (0.2959, 0.3755, 0.9993, 0.9936, 0.9331, 0.8014, 0.9906, 0.9073, 0.9980, 0.9857, 0.7617, 0.8326))
    ),  # fmt: skip
}
