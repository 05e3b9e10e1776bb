"""The learned eigenfunctions as a module: phi(x) = f(x)[:, order] / sqrt(diag M)[order].

This is :meth:`SpectralLearner.eigenfunctions` (``solve=False``) frozen into an ``nn.Module``: the eigen-network
``f`` plus two buffers, the mode order (eigenvalues descending; the network's own index order for a policy's
online features, see :meth:`load_learner`) and the L2(rho) normalization from the learner's running Gram diagonal.
It is what features extractors and intrinsic rewards evaluate, so both see the same
functions, and it travels in the SB3 policy's ``state_dict``.

Two guards for SB3:

* ``trainable=False`` turns the network's parameters into buffers: no optimizer, no gradient and no Polyak
  update (SAC/TD3/DQN target networks) can change them; only :meth:`load_learner` writes them.
* :meth:`apply` passes over the network: PPO/A2C's ``ortho_init`` re-initializes every extractor through
  ``module.apply`` *after* its ``__init__``, which would overwrite pretrained eigenfunctions.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import Tensor, nn

from rlspectral.errors import ConfigError
from rlspectral.learner import LearnerConfig, SpectralLearner
from rlspectral.networks import EigenNetwork


def _parameters_to_buffers(module: nn.Module) -> None:
    """Re-register every parameter of ``module`` (recursively) as a buffer of the same name and value."""
    for sub in module.modules():
        for name, p in list(sub._parameters.items()):
            if p is not None:
                del sub._parameters[name]
                sub.register_buffer(name, p.detach().clone())


class EigenFeatures(nn.Module):
    """Normalized, sorted eigenfunctions ``[batch, k]`` of a :class:`SpectralLearner`'s network ``f``."""

    def __init__(self, config: LearnerConfig, trainable: bool = False):
        super().__init__()
        self.config = config
        self.trainable = trainable
        self.net = EigenNetwork(config.network_config())
        if not trainable:
            _parameters_to_buffers(self.net)
        k = config.k
        self.register_buffer("order", torch.arange(k))
        self.register_buffer("inv_norm", torch.ones(k))
        self.register_buffer("eigenvalues", torch.zeros(k))
        self.register_buffer("loaded", torch.zeros((), dtype=torch.bool))
        self.version = 0  # bumped whenever the weights change (load_learner, load_state_dict): caches key on it

    @property
    def is_loaded(self) -> bool:
        """Whether learned weights were written (by :meth:`load_learner` or a ``state_dict``)."""
        return bool(self.loaded)

    def forward(self, x: Tensor) -> Tensor:
        return self.net(x)[:, self.order] * self.inv_norm

    @torch.no_grad()
    def load_learner(self, learner: SpectralLearner, keep_order: bool = False) -> None:
        """Copy ``learner.f`` in place (parameter identity, hence optimizer state, is kept) with its current
        normalization, modes sorted by the current eigenvalue estimates. ``keep_order`` is for a policy's input,
        whose columns must not be permuted whenever two noisy estimates cross: the order already held is kept (a
        checkpoint's sort), and a first load takes the network's own mode order, which the nested objectives drive
        to the eigenvalue order (column j = output j)."""
        if learner.config.network_config() != self.config.network_config():
            raise ConfigError(
                "the learner's network does not match the features' network: build both from the same LearnerConfig"
            )
        self.net.load_state_dict(learner.f.state_dict())
        keep = self.order if self.is_loaded else torch.arange(self.config.k, device=self.order.device)
        values, order, inv_norm = learner.mode_normalization(keep if keep_order else None)
        self.order.copy_(order.to(self.order.device))
        self.inv_norm.copy_(inv_norm.to(self.inv_norm.device))
        self.eigenvalues.copy_(torch.from_numpy(values.copy()))
        self.loaded.fill_(True)
        self.version += 1

    def _load_from_state_dict(self, *args, **kwargs) -> None:  # load_state_dict of this module or a parent
        super()._load_from_state_dict(*args, **kwargs)
        self.version += 1

    def apply(self, fn: Callable[[nn.Module], None]) -> EigenFeatures:  # type: ignore[override]
        """``nn.Module.apply`` except on the eigen-network (see the module docstring: ``ortho_init``)."""
        fn(self)
        return self
