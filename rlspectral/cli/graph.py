"""``rlspectral fit-graph``: learn the top eigenfunctions of a graph's random walk from its edges and score them.

Input: ``--dataset cora`` (the Planetoid raw files under ``--root``, default ``$RLSPECTRAL_PLANETOID``) or
``--edges FILE`` (``.npy`` [E, 2], or a text file of two integer columns, node ids from 0) with optional
``--features`` (``.npy`` [n, d]), ``--labels`` (``.npy`` [n]) and ``--split`` (``.npz`` with boolean ``train`` /
``test`` [/ ``val``] masks, for the linear probe). The fit runs on the largest connected component (a disconnected
graph's walk has one eigenvalue 1 per component); ``nodes.npy`` lists its node ids in the input's numbering.

Output in ``--out``: ``metrics.json`` (per-mode cosine to the exact eigenvectors from scipy, eigenvalue errors, probe
accuracy), ``embedding.npy`` [n, k] (L2(rho)-orthonormal eigenfunctions of the component's nodes, rho = degree /
volume), ``nodes.npy``, ``model.pt``, ``eigenvectors.png``, ``probe_accuracy.png`` and TensorBoard logs in ``tb/``.
"""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path

import numpy as np

from rlspectral.cli.common import add_run_arguments
from rlspectral.errors import ConfigError
from rlspectral.objectives import METHODS

DATASETS = ("cora", "citeseer", "pubmed")
INDUCTIVE_LR = 1e-3  # an MLP of features takes Adam's usual step; a free table a larger one


def add_graph_arguments(p: argparse.ArgumentParser) -> None:
    from rlspectral.graph import GraphFitConfig

    d = GraphFitConfig()
    src = p.add_mutually_exclusive_group(required=True)
    src.add_argument("--dataset", choices=DATASETS, help="a Planetoid graph read from --root (no download)")
    src.add_argument("--edges", help="edge list: .npy [E, 2] or a text file of two integer columns (ids from 0)")
    p.add_argument("--root", default=os.environ.get("RLSPECTRAL_PLANETOID"),
                   help="folder holding <Name>/raw/ind.<name>.* (default: $RLSPECTRAL_PLANETOID)")  # fmt: skip
    p.add_argument("--features", help="node features .npy [n, d] (inductive fits, probe with features)")
    p.add_argument("--labels", help="node labels .npy [n] (integers), for the linear probe")
    p.add_argument("--split", help=".npz with boolean [n] masks train, test (and val) for the probe")
    p.add_argument("--dim", "--k", dest="k", type=int, default=d.k, help="number of eigenfunctions k")
    p.add_argument("--extra-modes", type=int, default=d.extra_modes, help="learn k + N modes, score the top k")
    p.add_argument("--method", choices=METHODS, default=d.method)
    p.add_argument("--mode", choices=("transductive", "inductive"), default=d.mode)
    p.add_argument("--hops", type=int, default=d.hops, help="inductive: propagated feature copies S^h X")
    p.add_argument("--holdout", type=float, default=d.holdout, help="inductive without --split: share held out")
    p.add_argument("--operator", default=d.operator, help="transition (edges), lazy, successor[:lambda] (walks)")
    p.add_argument("--steps", type=int, default=d.steps)
    p.add_argument("--batch-size", type=int, default=d.batch_size)
    p.add_argument("--lr", type=float, default=None,
                   help=f"Adam learning rate (default: {d.lr} transductive, {INDUCTIVE_LR} inductive)")  # fmt: skip
    p.add_argument("--hidden", type=int, nargs="+", default=list(d.hidden), help="inductive MLP widths")
    p.add_argument("--shift", type=float, default=d.shift, help="nested methods learn T + shift I")
    p.add_argument("--realign-every", type=int, default=d.realign_every, help="exact Rayleigh-Ritz step every N")
    p.add_argument("--eval-every", type=int, default=d.eval_every)
    p.add_argument("--layout-iters", type=int, default=d.layout_iters, help="graph layout for the PNG (0: none)")
    p.add_argument("--device", default=d.device)
    add_run_arguments(p, "runs/fit-graph", d.seed)


def run_graph(args: argparse.Namespace) -> int:
    """Read, fit, score, write (module doc); bad input raises a one-line SpectralError."""
    from rlspectral.envs.graphs import largest_component, load_planetoid, read_graph_files
    from rlspectral.graph import GraphFitConfig, fit_graph

    cfg = GraphFitConfig(
        method=args.method, k=args.k, extra_modes=args.extra_modes, mode=args.mode, hops=args.hops,
        holdout=args.holdout, operator=args.operator, steps=args.steps, batch_size=args.batch_size,
        lr=args.lr if args.lr is not None else (INDUCTIVE_LR if args.mode == "inductive" else GraphFitConfig.lr),
        hidden=tuple(args.hidden), shift=args.shift, realign_every=args.realign_every, eval_every=args.eval_every,
        layout_iters=args.layout_iters, seed=args.seed, threads=args.threads, device=args.device,
    )  # fmt: skip
    if args.dataset:
        if not args.root:
            raise ConfigError.invalid("root", None, "pass the folder holding <Name>/raw/ or set $RLSPECTRAL_PLANETOID")
        name = {"cora": "Cora", "citeseer": "CiteSeer", "pubmed": "PubMed"}[args.dataset]
        data = load_planetoid(args.root, name)
    else:
        data = read_graph_files(args.edges, args.features, args.labels, args.split)
    full_n = data.graph.n
    data, nodes = largest_component(data)
    out = Path(args.out)
    metrics = fit_graph(data, cfg, out=out, progress=not args.no_progress)
    np.save(out / "nodes.npy", nodes)
    metrics.update(input_nodes=full_n, component="largest connected component", nodes_file="nodes.npy")
    (out / "metrics.json").write_text(json.dumps(metrics, indent=1))
    probe = metrics.get("probe")
    acc = f", probe test accuracy {probe[-1]['test_accuracy']:.3f}" if probe else ""
    where = f"the largest component ({data.graph.n} of {full_n} nodes)"
    cos = metrics["mean_cosine_similarity"]
    print(f"{args.method} {args.mode} k={args.k} on {where}: mean cosine {cos:.4f}{acc} -> {out}")
    return 0
