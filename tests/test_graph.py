"""Graph operators against exact linear algebra: a ring (closed-form spectrum), two-community SBMs (dense eigh)."""

import collections
import json
import pickle
from pathlib import Path

import numpy as np
import pytest
import scipy.sparse as sp
import torch

from rlspectral.envs.graphs import largest_component, load_planetoid, ring, sbm
from rlspectral.errors import DataError
from rlspectral.graph import (
    EdgeSampler,
    Graph,
    GraphData,
    GraphFitConfig,
    exact_graph_moments,
    fit_graph,
    graph_cosines,
    graph_eigenpairs,
    probe_accuracy,
    propagate,
)
from rlspectral.learner import LearnerConfig, SpectralLearner
from rlspectral.metrics import cosine_similarity
from rlspectral.operators import make_operator

CORA = Path("/work/shared/datasets/planetoid")


@pytest.fixture(autouse=True)
def _one_thread():
    """Graphs of tens of nodes gain nothing from a second thread (and lose a lot on a contended machine)."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def dense_P(graph: Graph) -> np.ndarray:
    A = graph.adjacency.toarray()
    return A / A.sum(1, keepdims=True)


def ring_spectrum(n: int) -> tuple[np.ndarray, np.ndarray]:
    """Closed form for the ring with self-loops: P = (A + I) / 3, eigenvalues (1 + 2 cos(2 pi j / n)) / 3, eigenvectors
    cos(2 pi j x / n), sin(2 pi j x / n) (degree is constant, so u_i and f_i agree up to scale)."""
    x = np.arange(n)
    vals, vecs = [1.0], [np.ones(n)]
    for j in range(1, n // 2 + 1):
        v = (1 + 2 * np.cos(2 * np.pi * j / n)) / 3
        vals.append(v)
        vecs.append(np.cos(2 * np.pi * j * x / n))
        if 2 * j != n:
            vals.append(v)
            vecs.append(np.sin(2 * np.pi * j * x / n))
    return np.array(vals), np.stack(vecs, axis=1)


def test_edge_list_is_symmetrized_deduplicated_and_checked():
    g = Graph.from_edges(np.array([[0, 1], [1, 0], [1, 1], [2, 1], [1, 2]]), 4)
    assert g.n == 4 and g.edges.tolist() == [[0, 1], [1, 2]]
    assert g.degrees.tolist() == [2, 3, 2, 1]  # A + I: node 3 is isolated but keeps its self-loop
    assert len(g.pairs) == g.volume == 8
    with pytest.raises(DataError, match=r"shape \[E, 2\]"):
        Graph.from_edges(np.array([0, 1, 2]))
    with pytest.raises(DataError, match="node 5, outside 0..3"):
        Graph.from_edges(np.array([[0, 5]]), 4)
    with pytest.raises(DataError, match="integer"):
        Graph.from_edges(np.array([[0.5, 1.0]]))
    sub, nodes = Graph.from_edges(np.array([[0, 1], [1, 2], [3, 4]])).largest_component()
    assert nodes.tolist() == [0, 1, 2] and sub.edges.tolist() == [[0, 1], [1, 2]]


@pytest.mark.parametrize("n", [12, 101])
def test_ring_eigenpairs_match_the_closed_form(n):
    g = ring(n)
    vals, vecs = graph_eigenpairs(g, 7)  # dense eigh: exact multiplicities (the cos / sin pairs)
    true_vals, true_vecs = ring_spectrum(n)
    order = np.argsort(-true_vals, kind="stable")
    np.testing.assert_allclose(vals, true_vals[order][:7], atol=1e-9)
    # eigenvectors of S, compared as L2(rho) functions D^-1/2 u (degree 3 everywhere: the same vectors)
    cos = graph_cosines(vecs / np.sqrt(g.degrees)[:, None], g, true_vals[order][:9], true_vecs[:, order][:, :9])
    np.testing.assert_allclose(cos, 1.0, atol=1e-8)


def test_sbm_eigenpairs_are_right_eigenvectors_of_the_random_walk():
    data = sbm((30, 30), 0.4, 0.03, seed=1, degree_exponent=2.5)
    g, _ = data.graph.largest_component()
    vals, U = graph_eigenpairs(g, 5)
    P = dense_P(g)
    f = U / np.sqrt(g.degrees)[:, None]  # f_i = D^-1/2 u_i: right eigenvectors of P = D^-1 (A + I)
    np.testing.assert_allclose(P @ f, f * vals, atol=1e-10)
    w = np.sort(np.linalg.eigvals(P).real)[::-1]
    np.testing.assert_allclose(vals, w[:5], atol=1e-10)


def test_sparse_eigensolver_agrees_with_the_dense_one():
    g, _ = sbm((150, 200), 0.06, 0.004, seed=4, degree_exponent=2.5).graph.largest_component()
    vals, U = graph_eigenpairs(g, 6)
    svals, sU = graph_eigenpairs(g, 6, dense_below=0)  # scipy eigsh
    np.testing.assert_allclose(svals, vals, atol=1e-9)
    np.testing.assert_allclose(cosine_similarity(sU, U, vals)[0], 1.0, atol=1e-7)


@pytest.mark.parametrize("spec", ["transition", "lazy", "successor:0.7"])
def test_sampled_pairs_follow_the_operator_and_exact_moments_agree(spec):
    g, _ = sbm((8, 8), 0.5, 0.1, seed=3).graph.largest_component()
    op = make_operator(spec)
    n, d = g.n, g.degrees
    P = dense_P(g)
    T = (1 - op.lam) * P @ np.linalg.inv(np.eye(n) - op.lam * P) if spec.startswith("successor") else P
    sampler = EdgeSampler(g, torch.arange(n).reshape(-1, 1), op, seed=0)
    pairs = sampler.node_pairs(400_000)
    counts = np.zeros((n, n))
    np.add.at(counts, (pairs[:, 0], pairs[:, 1]), 1.0)
    joint = d[:, None] * T / d.sum()  # rho(x) T(x, y): symmetric (reversible walk)
    np.testing.assert_allclose(joint, joint.T, atol=1e-12)
    np.testing.assert_allclose(counts / len(pairs), joint, atol=3e-3)
    F = torch.randn(n, 3, dtype=torch.float64)
    C, M = exact_graph_moments(F, g, op, shift=0.2)
    Fn = F.numpy()
    Top = op.pair_weight * T + (op.identity_weight + 0.2) * np.eye(n)
    np.testing.assert_allclose(C.numpy(), Fn.T @ (d[:, None] * (Top @ Fn)) / d.sum(), atol=1e-12)
    np.testing.assert_allclose(M.numpy(), Fn.T @ (d[:, None] * Fn) / d.sum(), atol=1e-12)


def small_cfg(**kw) -> GraphFitConfig:
    base = dict(k=5, extra_modes=3, steps=300, batch_size=512, lr=3e-2, eval_every=0, realign_every=50,
                layout_iters=0, hidden=(64, 64))  # fmt: skip
    return GraphFitConfig(**{**base, **kw})


@pytest.mark.parametrize("method", ["nested-lora", pytest.param("nested-omm", marks=pytest.mark.slow)])
def test_transductive_fit_learns_the_ring_eigenvectors_and_eigenvalues(method):
    g = ring(20)  # modes 1 | 2-3 | 4-5: no degenerate pair cut by k = 5
    m = fit_graph(GraphData(g), small_cfg(method=method), progress=False)
    true_vals, _ = ring_spectrum(20)
    top = np.sort(true_vals)[::-1][:5]
    assert m["mean_cosine_similarity"] > 0.99, m["cosine_similarity"]
    np.testing.assert_allclose(m["true_eigenvalues"], top, atol=1e-9)
    np.testing.assert_allclose(m["rr_eigenvalues"], top, atol=3e-3)  # exact-moment Rayleigh quotients
    np.testing.assert_allclose(m["eigenvalues"], top, atol=3e-2)  # running estimates from batches


@pytest.mark.slow
def test_transductive_fit_on_a_degree_corrected_sbm_and_its_outputs(tmp_path):
    data, _ = largest_component(sbm((30, 40, 50), 0.3, 0.02, seed=0, degree_exponent=2.5))
    m = fit_graph(data, small_cfg(k=3, extra_modes=5, layout_iters=20), out=tmp_path, progress=False)
    assert min(m["rr_cosine_similarity"]) > 0.985, m["rr_cosine_similarity"]  # two community modes + the constant
    np.testing.assert_allclose(m["rr_eigenvalues"], m["true_eigenvalues"], atol=5e-3)
    emb = np.load(tmp_path / "embedding.npy")
    assert emb.shape == (data.graph.n, 3)
    # the embedding is orthonormal in L2(rho): E_rho[phi_i phi_j] = delta_ij
    rho = data.graph.rho
    np.testing.assert_allclose(emb.T @ (rho[:, None] * emb), np.eye(3), atol=1e-4)
    vals, vecs = graph_eigenpairs(data.graph, 3)
    assert cosine_similarity(np.sqrt(data.graph.degrees)[:, None] * emb, vecs, vals)[1] > 0.99
    for name in ("metrics.json", "model.pt", "eigenvectors.png"):
        assert (tmp_path / name).is_file()
    assert any((tmp_path / "tb").iterdir())
    # the saved table learner loads (weights_only) and gives the same functions
    learner = SpectralLearner.load(tmp_path / "model.pt")
    ids = torch.arange(data.graph.n).reshape(-1, 1)
    assert learner.config.table == data.graph.n and learner.features(ids).shape == (data.graph.n, 8)


def test_inductive_fit_embeds_held_out_nodes_from_features():
    data, _ = largest_component(sbm((60, 60), 0.2, 0.01, seed=2, feature_dim=8, feature_noise=0.5))
    rng = np.random.default_rng(0)
    test = rng.random(data.graph.n) < 0.3  # held out: nodes and their edges never seen in training
    data.split = {"train": ~test & (rng.random(data.graph.n) < 0.3), "test": test}
    cfg = small_cfg(mode="inductive", k=2, extra_modes=2, hops=1, steps=300, lr=3e-3, seed=1)
    m = fit_graph(data, cfg, progress=False)
    held = data.split["test"]
    assert m["held_out_nodes"] == held.sum() and m["train_nodes"] <= data.graph.n - held.sum()
    # the community mode (mode 2) on nodes never seen in training, from their features and their edges
    assert m["heldout_cosine_similarity"][1] > 0.97, m["heldout_cosine_similarity"]
    assert m["mean_cosine_similarity"] > 0.97  # on the training graph, against its own eigenvectors
    assert m["probe"][-1]["test_accuracy"] > 0.95


def test_table_network_config_is_checked():
    from rlspectral.errors import ConfigError

    with pytest.raises(ConfigError, match="obs_shape"):
        LearnerConfig(obs_shape=(3,), k=2, table=10)
    with pytest.raises(ConfigError, match="table"):
        LearnerConfig(obs_shape=(1,), k=2, table=-1)


def test_table_steps_only_the_batch_rows_and_resumes_from_a_checkpoint(tmp_path):
    """A table's step is sparse (SparseAdam on the rows of the batch's ids: O(batch), not O(n)); clipping works on
    its sparse gradient, and a saved learner resumes with the same optimizer state (the next step is identical)."""
    cfg = LearnerConfig(obs_shape=(1,), k=3, table=50, method="nested-lora", lr=1e-2, grad_clip=1e-3, seed=4)
    learner = SpectralLearner(cfg)
    sampler = EdgeSampler(ring(50), torch.arange(50).reshape(-1, 1), learner.operator, seed=0)
    table = learner.f.body.body[0].weight
    assert learner.sparse_optimizer is not None
    assert all(p is not table for p in learner.optimizer.param_groups[0]["params"])
    x, y = sampler(4)
    before = table.detach().clone()
    learner.update(x, y)
    moved = (table.detach() != before).any(1).nonzero().flatten()
    assert set(moved.tolist()) == set(torch.cat([x, y]).flatten().tolist())  # only the ids in the batch
    learner.save(tmp_path / "t.pt")
    again = SpectralLearner.load(tmp_path / "t.pt")
    x, y = sampler(16)
    learner.update(x, y)
    again.update(x, y)
    for a, b in zip(learner.f.parameters(), again.f.parameters()):
        torch.testing.assert_close(a, b)


def test_table_checkpoint_from_before_sparse_tables_loads_its_weights(tmp_path):
    """Table checkpoints written when one dense Adam stepped the whole table: the weights load, the optimizer
    restarts (its state does not fit the two optimizers)."""
    learner = SpectralLearner(LearnerConfig(obs_shape=(1,), k=3, table=20, seed=1))
    state = learner.state_dict()
    state["optimizer"] = torch.optim.Adam(learner.f.parameters()).state_dict()
    del state["sparse_optimizer"]
    torch.save(state, tmp_path / "old.pt")
    again = SpectralLearner.load(tmp_path / "old.pt")
    for a, b in zip(learner.f.parameters(), again.f.parameters()):
        torch.testing.assert_close(a, b)
    x = torch.arange(20).reshape(-1, 1)
    again.update(x, x.roll(1, 0))  # and it trains on


def test_clip_grad_norm_matches_torch_on_dense_gradients_and_handles_sparse_ones():
    from rlspectral.learner import clip_grad_norm

    gen = torch.Generator().manual_seed(0)
    a = torch.nn.Parameter(torch.randn(4, 3, generator=gen))
    b = torch.nn.Parameter(a.detach().clone())
    g = torch.randn(4, 3, generator=gen)
    a.grad, b.grad = g.clone(), g.clone()
    torch.nn.utils.clip_grad_norm_([a], 0.5)
    assert clip_grad_norm([b], 0.5) == pytest.approx(float(g.norm()))
    torch.testing.assert_close(a.grad, b.grad, rtol=1e-5, atol=1e-6)
    emb = torch.nn.Embedding(10, 3, sparse=True)
    emb(torch.tensor([1, 2, 2])).sum().backward()
    dense = emb.weight.grad.to_dense()
    clip_grad_norm([emb.weight], 0.1)
    torch.testing.assert_close(emb.weight.grad.to_dense(), dense * 0.1 / float(dense.norm()), rtol=1e-4, atol=1e-6)


def test_propagate_is_the_normalized_adjacency_power():
    g = ring(6)
    X = np.eye(6, dtype=np.float32)[:, :2]
    Z = propagate(X, g, 2)
    S = g.normalized_adjacency().toarray()
    np.testing.assert_allclose(Z, np.concatenate([X, S @ X, S @ S @ X], axis=1), atol=1e-6)
    with pytest.raises(DataError, match="rows"):
        propagate(X[:5], g, 1)


def test_probe_separates_separable_classes_and_reads_chance_from_noise():
    rng = np.random.default_rng(0)
    y = np.repeat([0, 1, 2], 100)
    X = rng.normal(size=(300, 4)) + 4 * np.eye(3, 4)[y]
    idx = rng.permutation(300)
    train, val, test = (np.isin(np.arange(300), idx[a:b]) for a, b in ((0, 60), (60, 100), (100, 300)))
    assert probe_accuracy(X, y, train, val, test)["test_accuracy"] > 0.97
    noise = rng.normal(size=(300, 4))
    assert probe_accuracy(noise, y, train, val, test)["test_accuracy"] < 0.5


def _write_planetoid(root: Path) -> None:
    """A 6-node fake in the raw Planetoid format: allx rows 0..3, test indices 5, 4 (file order) for tx rows 0, 1."""
    raw = root / "Toy" / "raw"
    raw.mkdir(parents=True)
    feats = np.arange(6 * 3, dtype=np.float32).reshape(6, 3)
    onehot = np.eye(2)[[0, 1, 0, 1, 1, 0]]
    objs = {
        "x": sp.csr_matrix(feats[:2]), "y": onehot[:2], "allx": sp.csr_matrix(feats[:4]), "ally": onehot[:4],
        "tx": sp.csr_matrix(feats[[5, 4]]), "ty": onehot[[5, 4]],
        "graph": collections.defaultdict(list, {0: [1], 1: [0, 2], 2: [1, 3], 3: [2], 4: [5], 5: [4]}),
    }  # fmt: skip
    for key, obj in objs.items():
        (raw / f"ind.toy.{key}").write_bytes(pickle.dumps(obj, protocol=2))
    (raw / "ind.toy.test.index").write_text("5\n4\n")


def test_planetoid_reader_places_test_rows_at_their_indices(tmp_path):
    _write_planetoid(tmp_path)
    d = load_planetoid(tmp_path, "Toy")
    np.testing.assert_array_equal(d.features, np.arange(18, dtype=np.float32).reshape(6, 3))
    assert d.labels.tolist() == [0, 1, 0, 1, 1, 0]
    assert d.split["train"].tolist() == [True, True, False, False, False, False]
    assert d.split["test"].tolist() == [False, False, False, False, True, True]
    assert d.graph.edges.tolist() == [[0, 1], [1, 2], [2, 3], [4, 5]]
    lcc, nodes = largest_component(d)
    assert nodes.tolist() == [0, 1, 2, 3] and lcc.graph.n == 4 and lcc.split["test"].sum() == 0


def test_planetoid_reader_refuses_other_pickled_objects(tmp_path):
    _write_planetoid(tmp_path)
    (tmp_path / "Toy" / "raw" / "ind.toy.graph").write_bytes(pickle.dumps(Path("x")))
    with pytest.raises(DataError, match="unexpected object"):
        load_planetoid(tmp_path, "Toy")
    with pytest.raises(DataError, match="not found"):
        load_planetoid(tmp_path / "nowhere", "Toy")


@pytest.mark.skipif(not (CORA / "Cora" / "raw" / "ind.cora.graph").is_file(), reason="Cora files not present")
def test_cora_matches_the_published_counts():
    d = load_planetoid(CORA, "Cora")
    assert (d.graph.n, len(d.graph.edges), d.features.shape[1], d.labels.max() + 1) == (2708, 5278, 1433, 7)
    assert [int(d.split[s].sum()) for s in ("train", "val", "test")] == [140, 500, 1000]
    lcc, _ = largest_component(d)
    assert lcc.graph.n == 2485


def _ring_files(tmp_path: Path, n: int = 16) -> dict[str, Path]:
    """A ring of n nodes plus a detached edge (n, n + 1), features = the node's angle, labels = the ring's half."""
    i = np.arange(n)
    edges = np.concatenate([np.stack([i, (i + 1) % n], axis=1), [[n, n + 1]]])
    paths = {"edges": tmp_path / "edges.txt", "features": tmp_path / "x.npy", "labels": tmp_path / "y.npy",
             "split": tmp_path / "split.npz"}  # fmt: skip
    paths["edges"].write_text("# ring\n" + "\n".join(f"{u} {v}" for u, v in edges) + "\n")
    angle = 2 * np.pi * np.arange(n + 2) / n
    np.save(paths["features"], np.stack([np.cos(angle), np.sin(angle)], axis=1).astype(np.float32))
    np.save(paths["labels"], (np.arange(n + 2) < n // 2).astype(np.int64))
    train = np.arange(n + 2) % 2 == 0
    np.savez(paths["split"], train=train, test=~train)
    return paths


def test_fit_graph_cli_from_files_writes_every_output(tmp_path, capsys):
    from rlspectral.cli.main import main

    p = _ring_files(tmp_path)
    out = tmp_path / "run"
    argv = ["fit-graph", "--edges", str(p["edges"]), "--features", str(p["features"]), "--labels", str(p["labels"]),
            "--split", str(p["split"]), "--dim", "3", "--extra-modes", "2", "--steps", "150", "--batch-size", "512",
            "--eval-every", "50", "--layout-iters", "10", "--out", str(out), "--no-progress"]  # fmt: skip
    assert main(argv) == 0
    assert "largest component (16 of 18 nodes)" in capsys.readouterr().out
    m = json.loads((out / "metrics.json").read_text())
    assert m["n_nodes"] == 16 and m["input_nodes"] == 18 and len(m["cosine_similarity"]) == 3
    assert m["mean_cosine_similarity"] > 0.99 and m["probe"][-1]["dim"] == 3
    assert np.load(out / "embedding.npy").shape == (16, 3)
    assert np.load(out / "nodes.npy").tolist() == list(range(16))
    for name in ("model.pt", "eigenvectors.png", "probe_accuracy.png"):
        assert (out / name).is_file()
    assert any((out / "tb").iterdir())


@pytest.mark.parametrize(
    "case, message",
    [
        ("ragged", "expected two node ids per line"),
        ("out_of_range", "node id 40 is outside 0..17"),
        ("feature_rows", "node id 17 is outside 0..9"),
        ("split_shape", "split mask 'train' must be boolean of shape [18]"),
        ("no_root", "--root=None"),
    ],
)
def test_fit_graph_cli_rejects_bad_files_in_one_line(tmp_path, capsys, case, message):
    from rlspectral.cli.main import main

    p = _ring_files(tmp_path)
    argv = ["fit-graph", "--edges", str(p["edges"]), "--features", str(p["features"]), "--out", str(tmp_path / "o")]
    if case == "ragged":
        p["edges"].write_text("0 1\n1 2 3\n")
    elif case == "out_of_range":
        p["edges"].write_text("0 1\n1 40\n")
    elif case == "feature_rows":
        np.save(p["features"], np.zeros((10, 2), dtype=np.float32))
    elif case == "split_shape":
        np.savez(p["split"], train=np.ones(5, dtype=bool), test=np.ones(18, dtype=bool))
        argv += ["--labels", str(p["labels"]), "--split", str(p["split"])]
    else:
        argv = ["fit-graph", "--dataset", "cora", "--root", ""]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert message in err and len(err.strip().splitlines()) == 1 and "Traceback" not in err
