"""PDEModel: what a PDE fit leaves a user (deeptime's *model*): the system, the network, and the learned energies;
``eigenfunctions(x)`` gives the learned modes normalized in L2(dx), in ascending energy. Saves plain tensors, numbers
and dicts (``torch.load(..., weights_only=True)``); :func:`load` reads them back, any problem one CheckpointError.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from rlspectral.errors import CheckpointError, SpectralError
from rlspectral.learner import load_state, save_state
from rlspectral.pde.network import PDENetwork, PDENetworkConfig
from rlspectral.pde.systems import System

FORMAT = "rlspectral-pde-fit"
VERSION = 1


@dataclass
class PDEModel:
    """A fitted PDE eigenproblem. ``order`` lists the outputs by energy, ``norms`` their L2 norms (by quadrature)."""

    system: System
    network: PDENetwork
    energies: np.ndarray
    order: np.ndarray
    norms: np.ndarray
    info: dict[str, Any] = field(default_factory=dict)

    @torch.no_grad()
    def eigenfunctions(self, x: np.ndarray) -> np.ndarray:
        """Learned eigenfunctions at points ``x [N, d]``, ``[N, k]`` float64, normalized, energy ascending."""
        F = self.network(torch.as_tensor(np.asarray(x), dtype=torch.float32)).double().numpy()
        return F[:, self.order] / self.norms[self.order]

    def state_dict(self) -> dict[str, Any]:
        s = self.system
        return {
            "format": FORMAT,
            "version": VERSION,
            "system": {"kind": s.kind, "dim": s.dim, "charge": s.charge, "omega": list(s.omega), "kinetic": s.kinetic},
            "network_config": self.network.config.to_dict(),
            "network": {name: t.detach().cpu() for name, t in self.network.state_dict().items()},
            "energies": torch.from_numpy(np.asarray(self.energies, dtype=np.float64)),
            "order": torch.from_numpy(np.asarray(self.order, dtype=np.int64)),
            "norms": torch.from_numpy(np.asarray(self.norms, dtype=np.float64)),
            "info": self.info,
        }

    def save(self, path: str | Path) -> Path:
        """Write :meth:`state_dict` atomically."""
        return save_state(self.state_dict(), path)

    @classmethod
    def from_state_dict(cls, state: Any, source: str = "state dict") -> PDEModel:
        if not isinstance(state, dict) or state.get("format") != FORMAT:
            raise CheckpointError(f"{source}: not an rlspectral PDE fit (saved by PDEModel.save / fit-pde?)")
        if state.get("version") != VERSION:
            raise CheckpointError(f"{source}: PDE fit version {state.get('version')} is not {VERSION}")
        try:
            system = System(**state["system"])
            with torch.random.fork_rng(devices=[]):  # building the network draws initial weights: keep the RNG
                net = PDENetwork(PDENetworkConfig.from_dict(state["network_config"]))
            net.load_state_dict(state["network"])
            net.eval()
            model = cls(system, net, state["energies"].numpy(), state["order"].numpy(), state["norms"].numpy(),
                        dict(state.get("info") or {}))  # fmt: skip
        except (KeyError, TypeError, ValueError, RuntimeError, AttributeError, SpectralError) as e:
            first = str(e).strip().splitlines()[0][:160] if str(e).strip() else type(e).__name__
            raise CheckpointError(f"{source}: the PDE fit is incomplete or inconsistent ({first})") from None
        return model


def load(path: str | Path) -> PDEModel:
    """Load a :class:`PDEModel` written by :meth:`PDEModel.save` (``fit-pde``'s ``model.pt``)."""
    return PDEModel.from_state_dict(load_state(path, "PDE fit"), str(path))
