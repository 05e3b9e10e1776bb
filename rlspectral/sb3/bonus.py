"""Intrinsic rewards in eigenfunction space (phi = the learned, normalized eigenfunctions).

* ``eigenpurpose`` (Machado et al., 2017; covering options, Jinnai et al., 2019): r = s * (phi_i(s') - phi_i(s)),
  by default for mode i = 1, the first non-constant eigenfunction (the Fiedler vector, which crosses bottlenecks).
* ``novelty``: a count-like bonus, the mean distance from phi(s') to its ``neighbors`` nearest embeddings among
  the last ``memory`` visited states (embedded with the current phi: the cached embeddings are redone whenever
  the features' weights change, so never stale; a new state is embedded once, when it arrives).
* ``elliptical``: E3B's episodic elliptical bonus (Henaff et al., 2022) with the eigenfunctions as the embedding
  (no inverse-dynamics model to train): r = phi(s')^T C^{-1} phi(s'), C = ridge * I + sum of phi phi^T over the
  states of the current episode (per env; reset when the episode ends).
* ``goal``: shaping towards a goal observation g, r = -||phi(s') - phi(g)|| (Wu, Tucker, Nachum, 2019); phi may
  also be a fixed embedding (raw observations, exact eigenvectors) for baselines.

Every bonus is ``coef * r / std(r)``, with a running std when ``normalize`` is set (the sign is kept).
Observations are those the policy sees (after VecNormalize, if any). The ``features`` (an
:class:`~rlspectral.sb3.eigen_features.EigenFeatures`) are attached by the :class:`SpectralCallback`;
until the first spectral update the bonus is 0.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import torch
from stable_baselines3.common.running_mean_std import RunningMeanStd
from torch import Tensor

from rlspectral.errors import ConfigError
from rlspectral.sb3.eigen_features import EigenFeatures


def fold_inverse(inv: Any, u: Any, v: Any = None) -> Any:
    """Sherman-Morrison for C <- C + u u^T, in place on ``inv`` = C^{-1} (``[n, k, k]``, torch or NumPy):
    C^{-1} <- C^{-1} - v v^T / (1 + u^T v), v = C^{-1} u (``v`` given when already computed). Returns u^T C^{-1} u
    of the matrix before the update (``[n]``), E3B's bonus of u."""
    v = (inv @ u[:, :, None])[:, :, 0] if v is None else v
    q = (u * v).sum(1)
    inv -= v[:, :, None] * (v / (1.0 + q[:, None]))[:, None, :]
    return q


class IntrinsicReward:
    """Base: coefficient, running-std normalization, and the features hook; subclasses define :meth:`raw`."""

    name = "intrinsic"
    needs_features = True  # False: the bonus runs without learned eigenfunctions (the callback may skip learning)
    per_rollout = False  # True: computed over whole on-policy rollouts (rlspectral.sb3.rollout_bonus), not per step
    uses_start = True  # False: raw() reads phi_next only and gets phi=None (one forward pass saved)
    episodic = False  # True: state per env and episode, so rewards must come one on-policy step at a time
    anchorable = False  # True: reads episode-anchored eigenfunctions (phi(s) - phi(first state of the episode))
    reads_raw = False  # True: gets the observations as the env emitted them, before VecNormalize

    def __init__(self, coef: float = 0.1, normalize: bool = True):
        self.coef, self.normalize = float(coef), bool(normalize)
        self.features: EigenFeatures | None = None
        self.rms = RunningMeanStd(shape=())

    @property
    def ready(self) -> bool:
        return self.features is not None and self.features.is_loaded

    def raw(self, phi: Tensor | None, phi_next: Tensor) -> Tensor:
        """The unscaled reward ``[n]`` of transitions with embeddings ``phi -> phi_next``."""
        raise NotImplementedError

    def reward(self, obs: Tensor, next_obs: Tensor) -> Tensor:
        """The unscaled reward ``[n]`` of observed transitions (0 until the features are loaded)."""
        if not self.ready:
            return torch.zeros(len(obs))
        device = self.features.inv_norm.device
        phi = self.features(obs.to(device)) if self.uses_start else None
        return self.raw(phi, self.features(next_obs.to(device))).float().cpu()

    def observe(self, next_obs: Tensor) -> None:
        """Called by the callback with every newly visited observation (a hook for memory-based bonuses)."""

    def episode_end(self, dones: np.ndarray, new_obs: Tensor | np.ndarray | None = None) -> None:
        """Called by the callback after each vectorized step with the envs whose episode just ended and the
        observations the envs emitted (the first states of the new episodes where ``dones``); a hook for episodic
        bonuses. ``observe`` of that step has already run."""

    @torch.no_grad()
    def __call__(self, obs: Tensor | np.ndarray, next_obs: Tensor | np.ndarray, update_stats: bool = True) -> Tensor:
        """``coef * r / std`` as a float tensor ``[n]`` on the CPU; ``update_stats`` feeds the running std."""
        return self._scale(self.reward(torch.as_tensor(obs), torch.as_tensor(next_obs)), update_stats)

    def _scale(self, r: Tensor, update_stats: bool) -> Tensor:
        """``coef * r / std`` of one vectorized step's unscaled rewards ``r`` ``[n]``."""
        return self._scale_steps(r.unsqueeze(0), update_stats)[0]

    def _scale_steps(self, r: Tensor, update_stats: bool) -> Tensor:
        """:meth:`_scale` of ``S`` consecutive steps ``r`` ``[S, n]``: the running std moves step by step."""
        if not self.normalize:
            return self.coef * r
        rows = r.double().numpy()
        means, variances, scale = rows.mean(1), rows.var(1), np.empty(len(rows))
        for t in range(len(rows)):
            if update_stats and self.ready:
                self.rms.update_from_moments(means[t], variances[t], rows.shape[1])
            scale[t] = np.sqrt(self.rms.var + 1e-8) if self.rms.count > 1 else 1.0
        return self.coef * (r / torch.from_numpy(scale).float()[:, None])

    def step(self, obs: Tensor | np.ndarray, next_obs: np.ndarray, dones: np.ndarray, new_obs: np.ndarray,
             update_stats: bool = True) -> Tensor:  # fmt: skip
        """One vectorized on-policy step as the :class:`SpectralCallback` makes it: the scaled reward ``[n]`` of
        ``obs -> next_obs`` (terminal observations where ``dones``), then :meth:`observe` and :meth:`episode_end`
        (``new_obs``: what the envs emitted, the new episodes' first states where ``dones``)."""
        r = self(obs, next_obs, update_stats)
        self.observe(torch.as_tensor(next_obs))
        self.episode_end(np.asarray(dones, dtype=bool), new_obs)
        return r

    def steps(self, obs: np.ndarray, next_obs: np.ndarray, dones: np.ndarray, new_obs: np.ndarray,
              update_stats: bool = True) -> Tensor:  # fmt: skip
        """``S`` consecutive vectorized steps at once (arrays ``[S, n, ...]``; ``dones`` ``[S, n]``): the rewards
        ``[S, n]`` that ``S`` calls of :meth:`step` give, with the same state afterwards. The base runs those calls;
        a bonus that can batch its forward passes overrides it (:class:`EllipticalBonus`)."""
        return torch.stack([self.step(*a, update_stats) for a in zip(obs, next_obs, dones, new_obs)])

    def __getstate__(self) -> dict[str, Any]:
        return {**self.__dict__, "features": None}  # the callback re-attaches them


class EigenpurposeBonus(IntrinsicReward):
    """r = sign * (phi_mode(s') - phi_mode(s))."""

    name = "eigenpurpose"

    def __init__(self, mode: int = 1, sign: float = 1.0, coef: float = 0.1, normalize: bool = True):
        super().__init__(coef, normalize)
        self.mode, self.sign = int(mode), float(sign)

    def raw(self, phi: Tensor, phi_next: Tensor) -> Tensor:
        return self.sign * (phi_next[:, self.mode] - phi[:, self.mode])


class NoveltyBonus(IntrinsicReward):
    """Mean distance of phi(s') to its nearest neighbours among recently visited states."""

    name = "novelty"
    uses_start = False

    def __init__(self, memory: int = 1000, neighbors: int = 10, coef: float = 0.1, normalize: bool = True):
        super().__init__(coef, normalize)
        self.capacity, self.neighbors = int(memory), int(neighbors)
        self.memory: Tensor | None = None
        self.pos = self.size = 0
        self._phi: Tensor | None = None  # embeddings of memory[: size] under features.version == _phi_version
        self._phi_version = -1

    @torch.no_grad()
    def observe(self, next_obs: Tensor) -> None:
        x = torch.as_tensor(next_obs)
        x = x[-self.capacity :] if len(x) > self.capacity else x
        if self.memory is None:
            self.memory = torch.zeros((self.capacity, *x.shape[1:]), dtype=x.dtype)
        idx = (self.pos + torch.arange(len(x))) % self.capacity
        self.memory[idx] = x
        self.pos = int((self.pos + len(x)) % self.capacity)
        self.size = min(self.size + len(x), self.capacity)
        if self._phi is not None and self.ready and self._phi_version == self.features.version:
            self._phi[idx.to(self._phi.device)] = self.features(x.to(self._phi.device)).to(self._phi.dtype)

    @torch.no_grad()
    def _memory_embeddings(self, device: torch.device) -> Tensor:
        """phi of the remembered states, recomputed only after the features changed."""
        if self._phi is None or self._phi_version != self.features.version or self._phi.device != device:
            phi = self.features(self.memory[: self.size].to(device))
            self._phi = torch.zeros((self.capacity, phi.shape[1]), dtype=phi.dtype, device=device)
            self._phi[: self.size] = phi
            self._phi_version = self.features.version
        return self._phi[: self.size]

    def raw(self, phi: Tensor | None, phi_next: Tensor) -> Tensor:
        if self.size == 0:
            return torch.zeros(len(phi_next), device=phi_next.device)
        dist = torch.cdist(phi_next, self._memory_embeddings(phi_next.device).to(phi_next.dtype))
        return dist.topk(min(self.neighbors, self.size), dim=1, largest=False).values.mean(1)

    def __getstate__(self) -> dict[str, Any]:
        return {**super().__getstate__(), "_phi": None, "_phi_version": -1}


class EllipticalBonus(IntrinsicReward):
    """E3B's episodic elliptical bonus in eigenfunction space (Henaff, Raileanu, Jiang, Rocktaschel, 2022, eq. 2):
    r_t = u(s_{t+1})^T C_t^{-1} u(s_{t+1}),  C_t = ridge * I + sum_{i <= t} u(s_i) u(s_i)^T

    over the states of the env's current episode, its first state included (so the first step's bonus measures
    how new s_1 is against s_0, not the size of u). u = phi, the eigenfunctions; with those of an ``anchored``
    learner (defined up to a constant per episode) u(s) = phi(s) - phi(s_0), s_0 the episode's first state
    (re-embedded whenever the eigenfunctions change). ``C^{-1}`` is kept per env and updated by Sherman-Morrison
    after each step (:meth:`observe`); when an env's episode ends it restarts from the new episode's first state
    (:meth:`episode_end`). Calls must come one vectorized step at a time with all ``n_envs`` envs in order
    (on-policy collection); the replay buffer's sample-time recomputation cannot hold episodic state.
    Differences from E3B: u comes from the learned eigenfunctions (E3B trains an inverse-dynamics embedding),
    ``modes`` may keep only the first ones, and the matrix built in an episode is kept when the eigenfunctions
    are updated mid-episode (as E3B keeps it when its embedding trains).

    ``ridge`` (default ``None``: k, the dimension of u) sets the scale of C against u. The learned eigenfunctions
    have unit variance per mode, so |u|^2 is ~k; with E3B's 0.1 (set for E3B's own embedding) the first ~k states
    of an episode span the space and take most of its bonus whatever the agent does next, and the running-std
    normalization leaves the rest near zero. A ridge of the order of |u|^2 keeps the bonus a function of the whole
    episode (``scripts/exploration_bonus_profile.py``; DoorKey-8x8 development seeds 0-2 solved 2-3x sooner,
    docs/benchmarks/exploration.md).

    With a fixed ``embedding`` (a picklable callable of the observation as the env emitted it, e.g. the exact
    eigenvectors of a fixed layout's position graph, :func:`agents.minigrid.exact_position_embedding`), u is that
    embedding instead: no eigenfunctions are learned and the bonus reads the raw observations (``reads_raw``).
    """

    name = "elliptical"
    episodic = True
    anchorable = True

    def __init__(
        self,
        ridge: float | None = None,
        modes: int | None = None,
        coef: float = 0.1,
        normalize: bool = True,
        embedding: Callable[[Tensor], Tensor] | None = None,
    ):
        super().__init__(coef, normalize)
        if ridge is not None and not ridge > 0:
            raise ConfigError(f"elliptical bonus: ridge must be > 0 (or None: k), got {ridge}")
        self.ridge, self.modes = None if ridge is None else float(ridge), None if modes is None else int(modes)
        self.embedding = embedding
        self._dim: int | None = None  # k of the fixed embedding (known after its first call)
        self.inverse: Tensor | None = None  # [n_envs, k, k]: C^{-1} of each env's current episode
        self.first: Tensor | None = None  # [n_envs, *obs_shape]: each episode's first state (anchored features)
        self._origin: Tensor | None = None  # phi(first) under features.version == _origin_version
        self._origin_version = -1
        self._last: tuple[Tensor, Tensor] | None = None  # u(s'), C^{-1} u(s') of the last reward(): for observe()

    @property
    def needs_features(self) -> bool:  # type: ignore[override]
        return self.embedding is None

    @property
    def reads_raw(self) -> bool:  # type: ignore[override]
        return self.embedding is not None  # a fixed function of the env's observations, not of moving statistics

    @property
    def ready(self) -> bool:
        return self.embedding is not None or super().ready

    @property
    def anchored(self) -> bool:
        if self.embedding is not None or self.features is None:
            return False
        return bool(getattr(self.features.config, "anchored", False))

    def _device(self) -> torch.device:
        return torch.device("cpu") if self.embedding is not None else self.features.inv_norm.device

    def _phi(self, x: Tensor) -> Tensor:
        phi = self.embedding(x) if self.embedding is not None else self.features(x.to(self._device()))
        return (phi if self.modes is None else phi[:, : self.modes]).double()

    def ridge_value(self, k: int) -> float:
        """The ridge in use for a u of dimension ``k``: ``ridge``, or k when it is None."""
        return float(k) if self.ridge is None else self.ridge

    def _k(self, x: Tensor) -> int:
        """The dimension of u (``x``: one observation per env, for a fixed embedding's first call)."""
        if self.embedding is None:
            k = self.features.config.k
        else:
            self._dim = self._dim if self._dim is not None else int(self.embedding(x[:1]).shape[1])
            k = self._dim
        return k if self.modes is None else min(self.modes, k)

    def _u(self, x: Tensor) -> Tensor:
        """u(x) for one state per env (``[n_envs, *obs_shape]``)."""
        phi = self._phi(x)
        if not self.anchored:
            return phi
        if self._origin is None or self._origin_version != self.features.version:
            self._origin, self._origin_version = self._phi(self.first), self.features.version
        return phi - self._origin

    def _fold(self, u: Tensor, rows: Tensor | slice = slice(None), v: Tensor | None = None) -> None:
        """C <- C + u u^T for the envs ``rows`` (:func:`fold_inverse`; ``v = C^{-1} u`` given when computed)."""
        if isinstance(rows, slice):  # every env (the per-step call): in place, no gather / scatter
            fold_inverse(self.inverse, u, v)
            return
        inv = self.inverse[rows]
        fold_inverse(inv, u, v)
        self.inverse[rows] = inv

    def _restart(self, rows: Tensor, first: Tensor) -> None:
        """Start the episodes of envs ``rows`` at the states ``first``."""
        k = self.inverse.shape[-1]
        self.inverse[rows] = torch.eye(k, dtype=torch.float64, device=self.inverse.device) / self.ridge_value(k)
        self.first[rows] = first.to(self.first.dtype)
        self._origin = None
        self._fold(self._u(self.first)[rows], rows)  # anchored: u(s_0) = 0, nothing to fold

    def reward(self, obs: Tensor, next_obs: Tensor) -> Tensor:
        if not self.ready:
            return torch.zeros(len(obs))
        n, k = len(next_obs), self._k(next_obs)
        if self.inverse is None or self.inverse.shape != (n, k, k):
            self.inverse = torch.empty((n, k, k), dtype=torch.float64, device=self._device())
            self.first = torch.zeros_like(obs, dtype=torch.float32)
            self._restart(torch.arange(n), obs)  # the first call: each env's current state starts its episode
        u = self._u(next_obs)
        v = torch.bmm(self.inverse, u.unsqueeze(-1)).squeeze(-1)
        self._last = (u, v)  # observe() folds u in with this v (C^{-1} does not change in between)
        return (u * v).sum(1).float().cpu()

    @torch.no_grad()
    def observe(self, next_obs: Tensor) -> None:
        if self._last is not None and self.inverse is not None and len(self._last[0]) == len(self.inverse):
            self._fold(self._last[0], slice(None), self._last[1])
        self._last = None

    @torch.no_grad()
    def episode_end(self, dones: np.ndarray, new_obs: Tensor | np.ndarray | None = None) -> None:
        if self.inverse is None or not np.any(dones) or new_obs is None or not self.ready:
            return
        rows = np.flatnonzero(dones)
        self._restart(torch.as_tensor(rows), torch.as_tensor(np.asarray(new_obs)[rows]))

    @torch.no_grad()
    def steps(self, obs: np.ndarray, next_obs: np.ndarray, dones: np.ndarray, new_obs: np.ndarray,
              update_stats: bool = True) -> Tensor:  # fmt: skip
        """``S`` steps at once with the eigenfunctions of this moment: one forward pass over every next state and
        every new episode's first state, then the Sherman-Morrison recursion step by step (``[n, k, k]`` at a
        time). Equal to ``S`` calls of :meth:`step` up to float rounding (test), ~8x cheaper on a CPU."""
        dones = np.asarray(dones, dtype=bool)
        n_steps, n = dones.shape
        if not self.ready:
            return torch.zeros(n_steps, n)
        next_obs, new_obs = torch.as_tensor(np.asarray(next_obs)), torch.as_tensor(np.asarray(new_obs))
        k = self._k(next_obs[0])
        if self.inverse is None or self.inverse.shape != (n, k, k):
            self.inverse = torch.empty((n, k, k), dtype=torch.float64, device=self._device())
            self.first = torch.zeros_like(next_obs[0], dtype=torch.float32)
            self._restart(torch.arange(n), torch.as_tensor(np.asarray(obs[0])))
        t_end, i_end = np.nonzero(dones)
        phi = self._phi(torch.cat([next_obs.flatten(0, 1), new_obs[t_end, i_end]]))
        u_all, u_first = phi[: n_steps * n].view(n_steps, n, -1), phi[n_steps * n :]
        origin = None
        if self.anchored:
            if self._origin is None or self._origin_version != self.features.version:
                self._origin, self._origin_version = self._phi(self.first), self.features.version
            origin = self._origin.clone()
        # The recursion in NumPy float64 (small [n, k, k] products: far less per-call overhead than torch).
        inv, u_all, u_first = self.inverse.cpu().numpy().copy(), u_all.cpu().numpy(), u_first.cpu().numpy()
        anchor = None if origin is None else origin.cpu().numpy()
        start = np.eye(k) / self.ridge_value(k)
        rewards, j = np.empty((n_steps, n)), 0
        for t in range(n_steps):
            rewards[t] = fold_inverse(inv, u_all[t] if anchor is None else u_all[t] - anchor)
            rows = np.flatnonzero(dones[t])
            if rows.size:
                self.first[torch.as_tensor(rows)] = new_obs[t, rows].to(self.first.dtype)
                first, restarted = u_first[j : j + rows.size], np.broadcast_to(start, (rows.size, k, k)).copy()
                if anchor is None:
                    fold_inverse(restarted, first)
                else:  # anchored: u(s_0) = 0, nothing to fold
                    anchor[rows] = first
                inv[rows] = restarted
                j += rows.size
        self.inverse = torch.from_numpy(inv).to(self.inverse.device)
        if anchor is not None:
            self._origin = torch.from_numpy(anchor).to(origin.device)
        self._last = None
        return self._scale_steps(torch.from_numpy(rewards).float(), update_stats)

    def __getstate__(self) -> dict[str, Any]:
        state = super().__getstate__()
        return {**state, "inverse": None, "first": None, "_origin": None, "_origin_version": -1, "_last": None}


class GoalBonus(IntrinsicReward):
    """r = -||e(s') - e(g)|| for a goal observation g (Wu, Tucker, Nachum, 2019), or with ``potential=True`` the
    potential-based form r = d(s) - gamma d(s'), d(x) = ||e(x) - e(g)|| (Ng, Harada, Russell, 1999), which leaves
    the optimal policy of the task unchanged and gives each step the change in distance as its signal.

    ``e`` is the learned eigenfunctions by default, or any fixed ``embedding`` (a picklable callable, e.g. the
    observation itself or the exact eigenvectors: :mod:`agents.embeddings`), then no spectral learning is needed.
    ``modes`` keeps the first ``modes`` coordinates (eigenvalues descending). For orthonormal modes the distance
    only depends on the subspace they span, not on how the modes are rotated inside it.
    """

    name = "goal"

    def __init__(
        self,
        goal: Sequence[float] | np.ndarray,
        coef: float = 0.1,
        normalize: bool = True,
        modes: int | None = None,
        embedding: Callable[[Tensor], Tensor] | None = None,
        potential: bool = False,
        gamma: float = 0.99,
    ):
        super().__init__(coef, normalize)
        self.goal = np.asarray(goal)
        self.potential, self.gamma = bool(potential), float(gamma)
        self.modes = None if modes is None else int(modes)
        self.embedding = embedding

    @property
    def needs_features(self) -> bool:  # type: ignore[override]
        return self.embedding is None

    @property
    def ready(self) -> bool:
        return not self.needs_features or super().ready

    def embed(self, x: Tensor) -> Tensor:
        """``e(x)``, the first ``modes`` coordinates."""
        e = self.embedding(x) if self.embedding is not None else self.features(x)
        return e if self.modes is None else e[:, : self.modes]

    def reward(self, obs: Tensor, next_obs: Tensor) -> Tensor:
        if not self.ready:
            return torch.zeros(len(obs))
        device = self.features.inv_norm.device if self.embedding is None else torch.device("cpu")
        g = self.embed(torch.as_tensor(self.goal)[None].to(device))
        d_next = (self.embed(next_obs.to(device)) - g).norm(dim=1)
        if not self.potential:
            return -d_next.float().cpu()
        d = (self.embed(obs.to(device)) - g).norm(dim=1)
        return (d - self.gamma * d_next).float().cpu()


class ExactEllipticalBonus(EllipticalBonus):
    """``elliptical-exact``: the elliptical bonus in a fixed ``embedding`` the caller supplies. ``rlspectral train``
    passes the exact eigenvectors of a fixed MiniGrid layout's position graph
    (:func:`agents.minigrid.exact_position_embedding`), the ablation that says whether the bonus needs the learned
    eigenfunctions to be exact."""

    name = "elliptical-exact"

    def __init__(
        self,
        embedding: Callable[[Tensor], Tensor] | None = None,
        ridge: float | None = None,
        modes: int | None = None,
        coef: float = 0.1,
        normalize: bool = True,
    ):
        if embedding is None:
            raise ConfigError(
                "the elliptical-exact bonus needs embedding= (a fixed function of the raw observation); rlspectral "
                "train builds the exact position-graph one for the fixed-layout rlspectral/MiniGrid-* ids"
            )
        super().__init__(ridge=ridge, modes=modes, coef=coef, normalize=normalize, embedding=embedding)


BONUSES: dict[str, type[IntrinsicReward]] = {
    cls.name: cls for cls in (EigenpurposeBonus, NoveltyBonus, EllipticalBonus, ExactEllipticalBonus, GoalBonus)
}


def make_bonus(name: str, **kwargs: Any) -> IntrinsicReward | None:
    """``none`` -> None; otherwise the bonus of that name with ``kwargs`` (``coef``, ``normalize``, ...)."""
    if name == "none":
        return None
    if name not in BONUSES:
        raise ConfigError(f"unknown bonus {name!r}; choose none, {', '.join(BONUSES)}")
    return BONUSES[name](**kwargs)
