"""Fit and score eigenfunctions of a graph's random walk, transductive (a free table) or inductive (an MLP of node
features), through the same :class:`~rlspectral.learner.SpectralLearner` and objectives as every other operator.

Transductive: observations are node ids, f is a table, every node is trained on. Inductive: observations are node
features, optionally with ``hops`` propagated copies ``[X, S X, ..., S^h X]`` (:func:`propagate`); the held-out nodes
and their edges are removed before training (the training graph is the largest component of what remains), and
every node is embedded afterwards from its features, propagated on the whole graph.

Nested methods get a Rayleigh-Ritz step (:meth:`SpectralLearner.realign`) every ``realign_every`` steps and at the end
on the *exact* moments of the training graph (:func:`exact_graph_moments`: one forward pass over its nodes), and
``extra_modes`` more modes than scored are learned, so the k-th mode never has to separate from the (k+1)-th across
a tiny gap on its own. Scores: per-mode cosine to the eigenvectors of S = D^-1/2 (A + I) D^-1/2 (via D^1/2), as
learned and after a Rayleigh-Ritz step on exact moments (``rr_``), eigenvalue errors, and a linear probe.
"""

from __future__ import annotations

import dataclasses
import json
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from rlspectral.config import check, check_choice, check_int
from rlspectral.errors import ConfigError, DataError
from rlspectral.graph.data import Graph, pca_projection, propagate
from rlspectral.graph.probe import probe_accuracy
from rlspectral.graph.sampler import EdgeSampler
from rlspectral.graph.spectrum import exact_graph_moments, graph_cosines, graph_eigenpairs
from rlspectral.harness import FitConfig, check_device
from rlspectral.learner import SpectralLearner
from rlspectral.metrics import eigenvalue_error

REFERENCE_EXTRA = 4  # exact modes past k, so that a near-tie at the cut-off is scored as one space
SGC_HOPS = 2  # the probe "with features" adds S^2 X, SGC's input (Wu et al. 2019, K = 2), whatever the fit's hops


@dataclass
class GraphFitConfig(FitConfig):
    """A graph fit (the fields of :class:`~rlspectral.harness.FitConfig` plus the graph's own)."""

    k: int = 16
    mode: str = "transductive"  # transductive (a table over the nodes) | inductive (an MLP of node features)
    # inductive: propagated feature copies [X, S X, ..., S^hops X]; S^h X leans on the top eigenvectors of S as h
    # grows, so more hops let the MLP express them (Cora, development seeds 0-1: training-graph cosine 0.42 -> 0.62,
    # held-out span similarity 0.34 -> 0.46 from 2 to 8 hops; docs/benchmarks/graph.md)
    hops: int = 8
    feature_dim: int = 128  # inductive: features on their top principal directions (training nodes; 0: raw)
    holdout: float = 0.2  # inductive without a split: share of nodes held out (with a split: its test nodes)
    # learn k + extra_modes modes, score the top k: a graph's spectrum near 1 is dense (Cora: 64 eigenvalues of P
    # within 0.075 of 1), so the span of k + 48 modes separates from the rest across a gap many times the k-th one
    extra_modes: int = 48
    steps: int = 1500
    batch_size: int = 4096
    lr: float = 3e-2
    # successor:0.9 walks (x' a geometric number of steps from x, the RL default): S_0.9 stretches the gaps of P near
    # p = 1 about six-fold (dS/dp = (1 - lambda) / (1 - lambda p)^2); ``transition`` samples plain edges
    operator: str = "successor:0.9"
    hidden: tuple[int, ...] = (256, 256)
    fourier_features: int = 0
    realign_every: int = 100
    eval_every: int = 250
    probe_dims: tuple[int, ...] = ()  # probe accuracy on the first d modes for each d (empty: 2, 4, ... up to k)
    layout_iters: int = 200  # force-directed layout for the pictures (0: no pictures)

    def __post_init__(self) -> None:
        super().__post_init__()
        check_choice(self, "mode", ("transductive", "inductive"))
        check_int(self, 0, "hops", "extra_modes", "layout_iters", "feature_dim")
        check(0.0 < self.holdout < 1.0, "holdout", self.holdout, "pass a share of the nodes in (0, 1), e.g. 0.2")
        check(all(isinstance(d, int) and d >= 1 for d in self.probe_dims), "probe_dims", self.probe_dims,
              "pass positive integers")  # fmt: skip


@dataclass
class GraphData:
    """A graph with optional node ``features`` [n, d], integer ``labels`` [n] and boolean split masks [n]."""

    graph: Graph
    features: np.ndarray | None = None
    labels: np.ndarray | None = None
    split: dict[str, np.ndarray] | None = None  # train / val (optional) / test
    name: str = "graph"

    def __post_init__(self) -> None:
        n = self.graph.n
        if self.features is not None and self.features.shape[0] != n:
            raise DataError(f"features have {self.features.shape[0]} rows for a graph of {n} nodes")
        if self.labels is not None and self.labels.shape != (n,):
            raise DataError(f"labels have shape {list(self.labels.shape)} for a graph of {n} nodes (want [{n}])")
        for key, mask in (self.split or {}).items():
            if mask.shape != (n,) or mask.dtype != np.bool_:
                got = f"{mask.dtype} {list(mask.shape)}"
                raise DataError(f"split mask {key!r} must be boolean of shape [{n}], got {got}")

    def restrict(self, nodes: np.ndarray) -> GraphData:
        """The data on ``nodes`` (e.g. the largest component), renumbered."""
        split = {key: m[nodes] for key, m in self.split.items()} if self.split else None
        return GraphData(
            self.graph.subgraph(nodes),
            None if self.features is None else self.features[nodes],
            None if self.labels is None else self.labels[nodes],
            split,
            self.name,
        )


def exact_realign(
    learner: SpectralLearner, obs: torch.Tensor, graph: Graph, realign: bool = True, max_condition: float = 10.0
) -> None:
    """Replace the learner's running moments by the exact ones of its functions on ``graph`` (observations ``obs``
    of every node) and, with ``realign``, take the Rayleigh-Ritz step on them (:meth:`SpectralLearner.realign`,
    skipped while the mixing's condition number exceeds ``max_condition``; 0: always)."""
    C, M = exact_graph_moments(learner.features(obs), graph, learner.operator, learner.objective.shift)
    learner.running_C.copy_(C)
    learner.running_Mf.copy_(M)
    learner.running_Mg.copy_(M)
    if realign:
        learner.realign(max_condition=max_condition)


def _held_out(data: GraphData, cfg: GraphFitConfig) -> np.ndarray:
    """Boolean mask of held-out nodes: the split's test nodes, or a seeded random share ``holdout``."""
    if data.split is not None and "test" in data.split:
        return data.split["test"].copy()
    rng = np.random.default_rng(cfg.seed + 7)
    mask = np.zeros(data.graph.n, dtype=bool)
    mask[rng.choice(data.graph.n, int(round(cfg.holdout * data.graph.n)), replace=False)] = True
    return mask


def _probe_rows(
    data: GraphData, emb: np.ndarray, dims: tuple[int, ...], extra: np.ndarray | None
) -> list[dict[str, Any]]:
    split = data.split
    rows = []
    for d in dims:
        X = emb[:, :d] if extra is None else [emb[:, :d], extra]
        rows.append({"dim": d, **probe_accuracy(X, data.labels, split["train"], split.get("val"), split["test"])})
    return rows


def fit_graph(
    data: GraphData, cfg: GraphFitConfig, out: str | Path | None = None, progress: bool = True
) -> dict[str, Any]:
    """Fit ``cfg`` on ``data`` (a connected graph: pass its largest component) and score it (module doc); with
    ``out`` also metrics.json, embedding.npy [n, k], model.pt, TensorBoard logs and PNGs."""
    check_device(cfg.device)
    if cfg.threads:
        torch.set_num_threads(cfg.threads)
    graph = data.graph
    check(cfg.k <= graph.n, "k", cfg.k, f"the graph has {graph.n} nodes")
    if cfg.mode == "inductive" and data.features is None:
        raise ConfigError.invalid("mode", cfg.mode, "inductive fits need node features")
    out = Path(out) if out is not None else None
    k = cfg.k
    t0 = time.perf_counter()
    vals, vecs = graph_eigenpairs(graph, k + REFERENCE_EXTRA)
    eigsh_time = time.perf_counter() - t0
    info: dict[str, Any] = {"dataset": data.name, "mode": cfg.mode, "method": cfg.method, "k": k,
                            "n_nodes": graph.n, "n_edges": len(graph.edges), "eigsh_time_s": eigsh_time}  # fmt: skip

    if cfg.mode == "transductive":
        train_nodes = np.arange(graph.n)
        train_graph = graph
        obs_all = torch.arange(graph.n).reshape(-1, 1)
        obs_train = obs_all
        held = np.zeros(graph.n, dtype=bool)
    else:
        held = _held_out(data, cfg)
        kept = np.flatnonzero(~held)
        train_graph, inside = graph.subgraph(kept).largest_component()
        train_nodes = kept[inside]
        X = data.features
        if cfg.feature_dim and cfg.feature_dim < X.shape[1]:
            mean, W = pca_projection(X[train_nodes], cfg.feature_dim)
            X = ((X - mean) @ W).astype(np.float32)
        obs_train = torch.from_numpy(propagate(X[train_nodes], train_graph, cfg.hops))
        obs_all = torch.from_numpy(propagate(X, graph, cfg.hops))
        info.update(held_out_nodes=int(held.sum()), train_nodes=len(train_nodes), train_edges=len(train_graph.edges),
                    hops=cfg.hops)  # fmt: skip
    unseen = np.setdiff1d(np.arange(graph.n), train_nodes)
    learned = min(k + cfg.extra_modes, train_graph.n)
    info["learned_modes"] = learned
    lcfg = cfg.learner_config(tuple(obs_train.shape[1:]), learned, 0, 1.0, dedup=True)
    table = {"table": graph.n} if cfg.mode == "transductive" else {}
    lcfg = dataclasses.replace(lcfg, realign_every=0, **table)  # the Rayleigh-Ritz steps here use exact moments
    nested = cfg.method.startswith("nested")
    learner = SpectralLearner(lcfg, device=cfg.device, log_dir=(out / "tb") if out is not None else None)
    obs_train_d = obs_train.to(learner.device)
    sampler = EdgeSampler(train_graph, obs_train, learner.operator, seed=cfg.seed + 1)
    if cfg.mode == "transductive":
        tvals, tvecs = vals, vecs
    else:
        tvals, tvecs = graph_eigenpairs(train_graph, k + REFERENCE_EXTRA)

    train_time, last = 0.0, time.perf_counter()
    curve: list[dict[str, float]] = []

    def train_cosines(solve: bool) -> np.ndarray:
        _, phi = learner.eigenfunctions(obs_train_d, solve=solve)
        return graph_cosines(phi[:, :k].cpu().numpy(), train_graph, tvals, tvecs)

    def callback(lr: SpectralLearner) -> dict[str, float]:
        nonlocal train_time, last
        if nested and cfg.realign_every and lr.step % cfg.realign_every == 0:
            exact_realign(lr, obs_train_d, train_graph)
        if not cfg.eval_every or lr.step % cfg.eval_every:
            return {}
        train_time += time.perf_counter() - last
        cos = train_cosines(False)
        row = {"step": lr.step, "train_time_s": train_time, "mean_cosine_similarity": float(cos.mean())}
        curve.append(row)
        last = time.perf_counter()
        return {"cosine_similarity": row["mean_cosine_similarity"]}

    every = np.gcd(cfg.realign_every if nested else 0, cfg.eval_every) or max(cfg.realign_every, cfg.eval_every)
    learner.fit(sampler, cfg.steps, cfg.batch_size, progress=progress, callback=callback, callback_every=int(every))
    if nested and cfg.realign_every:  # the fit ends in the exact Rayleigh-Ritz basis of what it learned
        exact_realign(learner, obs_train_d, train_graph, max_condition=0.0)
    train_time += time.perf_counter() - last

    raw = train_cosines(False)
    order = np.argsort(-learner.eigenvalues, kind="stable")
    raw_values = learner.transition_eigenvalues()[order][:k]
    exact_realign(learner, obs_train_d, train_graph, realign=False)
    rr_values, _ = learner.eigenfunctions(obs_train_d, solve=True)
    rr_values = learner.operator.to_transition(rr_values[:k])
    rr = train_cosines(True)
    # the embedding: Rayleigh-Ritz functions of the training graph (nested: the modes as learned, already realigned)
    _, phi_all = learner.eigenfunctions(obs_all.to(learner.device), solve=True)
    emb = phi_all.cpu().numpy().astype(np.float64)
    metrics: dict[str, Any] = {
        **info,
        "cosine_similarity": raw.tolist(),
        "mean_cosine_similarity": float(raw.mean()),
        "rr_cosine_similarity": rr.tolist(),
        "rr_mean_cosine_similarity": float(rr.mean()),
        "eigenvalues": raw_values.tolist(),
        "rr_eigenvalues": rr_values.tolist(),
        "true_eigenvalues": tvals[:k].tolist(),
        "eigenvalue_rel_error": eigenvalue_error(raw_values, tvals[:k]).tolist(),
        "rr_eigenvalue_rel_error": eigenvalue_error(rr_values, tvals[:k]).tolist(),
        "steps": learner.step,
        "wall_time_s": train_time,
        "steps_per_s": learner.step / max(train_time, 1e-9),
        "curve": curve,
        "config": cfg.to_dict(),
        "torch_threads": torch.get_num_threads(),
    }
    if cfg.mode == "inductive" and len(unseen):
        # unseen nodes, scored against the whole graph's eigenvectors restricted to them (per mode, and the span)
        ucos = graph_cosines(emb[:, :k], graph, vals, vecs, nodes=unseen)
        span = span_similarity(emb[unseen, :k], vecs[unseen, :k], graph.degrees[unseen])
        every = graph_cosines(emb[:, :k], graph, vals, vecs)
        metrics.update(heldout_cosine_similarity=ucos.tolist(), heldout_mean_cosine_similarity=float(ucos.mean()),
                       heldout_span_similarity=span, all_nodes_mean_cosine_similarity=float(every.mean()))  # fmt: skip
    if data.labels is not None and data.split is not None:
        dims = cfg.probe_dims or tuple(sorted({d for d in (2, 4, 8, 16, 32, 64, 128, k) if d <= k}))
        metrics["probe"] = _probe_rows(data, emb, dims, None)
        if data.features is not None:  # + S^2 X of the row-normalized features (SGC's input, K = 2), whole graph
            Xn = data.features / np.maximum(np.abs(data.features).sum(1, keepdims=True), 1e-12)
            extra = propagate(Xn, graph, SGC_HOPS)[:, -data.features.shape[1] :]
            metrics["probe_with_features"] = _probe_rows(data, emb, (k,), extra)
    if out is not None:
        write_outputs(out, learner, metrics, emb, data, vals[:k], vecs[:, :k], cfg)
    return metrics


def span_similarity(learned: np.ndarray, true: np.ndarray, degrees: np.ndarray) -> float:
    """Mean squared cosine of the principal angles between span(D^1/2 learned) and span(true) over the given rows: 1
    when the learned functions span the exact modes there, whatever their order or mixing."""
    L = np.sqrt(degrees)[:, None] * learned
    qa, _ = np.linalg.qr(L)
    qb, _ = np.linalg.qr(true)
    return float(np.mean(np.linalg.svd(qa.T @ qb, compute_uv=False) ** 2))


def write_outputs(
    out: Path,
    learner: SpectralLearner,
    metrics: dict[str, Any],
    emb: np.ndarray,
    data: GraphData,
    vals: np.ndarray,
    vecs: np.ndarray,
    cfg: GraphFitConfig,
) -> None:
    """metrics.json, embedding.npy, model.pt, TensorBoard scalars and the PNGs (module doc)."""
    out.mkdir(parents=True, exist_ok=True)
    k = cfg.k
    np.save(out / "embedding.npy", emb[:, :k].astype(np.float32))
    learner.save(out / "model.pt")
    if learner.writer is not None:
        rr = metrics["rr_mean_cosine_similarity"]
        learner.writer.add_scalar("spectral/rr_mean_cosine_similarity", rr, learner.step)
        for row in metrics.get("probe", []):
            learner.writer.add_scalar("probe/test_accuracy", row["test_accuracy"], row["dim"])
        learner.writer.flush()
    if cfg.layout_iters:
        from rlspectral.graph.plots import save_graph_modes, save_probe_curve

        graph = data.graph
        learned = np.sqrt(graph.degrees)[:, None] * emb[:, :k]
        learned = learned / np.linalg.norm(learned, axis=0, keepdims=True)
        learned *= np.sign(np.sum(learned * vecs, axis=0, keepdims=True) + 1e-12)
        save_graph_modes(out / "eigenvectors.png", graph, vecs, learned, vals, iters=cfg.layout_iters, seed=cfg.seed)
        if metrics.get("probe"):
            save_probe_curve(out / "probe_accuracy.png", {cfg.method: metrics["probe"]})
    (out / "metrics.json").write_text(json.dumps(metrics, indent=1))
