"""The command line: the top layer, the only code that knows the core, the SB3 plugin, envs and agents.

``rlspectral fit`` (gridworld eigenfunctions, scored), ``fit-traj`` (Koopman eigenfunctions of a trajectory file),
``train`` (an SB3 agent), ``evaluate`` (a trained agent on its own environment), ``demo``. Nothing here is imported
by ``import rlspectral``.
"""

from rlspectral.cli.main import main

__all__ = ["main"]
