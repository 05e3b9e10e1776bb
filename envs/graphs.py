"""Graph data: the Planetoid citation graphs read from their raw files, and graphs generated with a seed (a ring, a
stochastic block model with optional degree correction and class-dependent features).

The Planetoid reader needs neither torch_geometric nor a download: the raw files
``<root>/<Name>/raw/ind.<name>.{x,y,tx,ty,allx,ally,graph,test.index}`` (Yang, Cohen, Salakhutdinov, ICML 2016) are
Python-2 pickles of scipy CSR matrices, numpy arrays and a dict of adjacency lists. They are unpickled with an
allow-list of exactly those classes. Node order and split are the ones torch_geometric's ``Planetoid`` gives: the
``allx`` rows, then the ``tx`` rows placed at the sorted test indices; train = the first ``len(y)`` nodes (140 for
Cora), val = the next 500, test = the 1000 listed test indices.
"""

from __future__ import annotations

import codecs
import collections
import pickle
from pathlib import Path

import numpy as np
import scipy.sparse as sp

from rlspectral.errors import DataError
from rlspectral.graph import Graph, GraphData

PLANETOID_FILES = ("x", "y", "tx", "ty", "allx", "ally", "graph")


class _PlanetoidUnpickler(pickle.Unpickler):
    """Unpickles only the classes the Planetoid files hold (CSR matrices, arrays, a defaultdict of lists)."""

    def find_class(self, module: str, name: str):  # type: ignore[override]
        if (module, name) in (("scipy.sparse.csr", "csr_matrix"), ("scipy.sparse._csr", "csr_matrix")):
            return sp.csr_matrix
        if module in ("numpy.core.multiarray", "numpy._core.multiarray") and name == "_reconstruct":
            return _reconstruct()
        if module == "numpy" and name in ("ndarray", "dtype"):
            return getattr(np, name)
        if (module, name) == ("_codecs", "encode"):  # bytes inside a protocol-2 pickle written by Python 3
            return codecs.encode
        if (module, name) == ("collections", "defaultdict"):
            return collections.defaultdict
        if module in ("__builtin__", "builtins") and name in ("list", "dict", "int"):
            return {"list": list, "dict": dict, "int": int}[name]
        raise DataError(f"Planetoid file holds an unexpected object {module}.{name}; refusing to unpickle it")


def _reconstruct():
    """numpy's array-unpickling helper (``numpy._core.multiarray._reconstruct`` in numpy 2, ``numpy.core`` before)."""
    try:
        from numpy._core.multiarray import _reconstruct as rec  # type: ignore[attr-defined]
    except ImportError:  # numpy < 2
        from numpy.core.multiarray import _reconstruct as rec  # type: ignore[no-redef]
    return rec


def load_planetoid(root: str | Path, name: str = "Cora") -> GraphData:
    """The whole Planetoid graph ``name`` under ``root`` (``<root>/<name>/raw/``) with features, labels and the
    standard split; a missing or unreadable file is one :class:`DataError` line."""
    raw = Path(root) / name / "raw"
    prefix = f"ind.{name.lower()}."
    objs = {}
    for key in PLANETOID_FILES:
        path = raw / (prefix + key)
        if not path.is_file():
            raise DataError(f"{path}: Planetoid file not found (pass the folder holding {name}/raw/)")
        with path.open("rb") as f:
            try:
                objs[key] = _PlanetoidUnpickler(f, encoding="latin1").load()
            except DataError:
                raise
            except Exception as e:  # noqa: BLE001 - a corrupt pickle raises many types
                raise DataError(f"{path}: not a readable Planetoid file ({type(e).__name__})") from None
    test_path = raw / (prefix + "test.index")
    if not test_path.is_file():
        raise DataError(f"{test_path}: Planetoid file not found")
    test_index = np.array([int(line) for line in test_path.read_text().split()], dtype=np.int64)
    test_sorted = np.sort(test_index)
    x, y, tx, ty, allx, ally = (objs[k] for k in ("x", "y", "tx", "ty", "allx", "ally"))
    n = max(allx.shape[0] + tx.shape[0], int(test_sorted.max()) + 1 if len(test_sorted) else 0)
    # Citeseer lists test indices past the tx rows (isolated nodes): those rows stay zero, as torch_geometric does
    features = np.zeros((n, allx.shape[1]), dtype=np.float32)
    labels_1h = np.zeros((n, ally.shape[1]), dtype=np.float32)
    features[: allx.shape[0]] = allx.toarray()
    labels_1h[: ally.shape[0]] = ally
    # row j of tx belongs to node test_index[j]
    features[test_index] = tx.toarray()
    labels_1h[test_index] = ty
    labels = labels_1h.argmax(axis=1).astype(np.int64)
    adj = objs["graph"]
    edges = np.array([(u, v) for u, nbrs in adj.items() for v in nbrs], dtype=np.int64).reshape(-1, 2)
    graph = Graph.from_edges(edges, n)
    train, val, test = (np.zeros(n, dtype=bool) for _ in range(3))
    train[: y.shape[0]] = True
    val[y.shape[0] : y.shape[0] + 500] = True
    test[test_index] = True
    return GraphData(graph, features, labels, {"train": train, "val": val, "test": test}, name=name.lower())


def largest_component(data: GraphData) -> tuple[GraphData, np.ndarray]:
    """``(data on the largest connected component, its node ids in data)``."""
    _, nodes = data.graph.largest_component()
    return data.restrict(nodes), nodes


def ring(n: int) -> Graph:
    """The cycle on n nodes. With A + I: degrees 3, eigenvalues (1 + 2 cos(2 pi j / n)) / 3, eigenvectors cos / sin."""
    i = np.arange(n)
    return Graph.from_edges(np.stack([i, (i + 1) % n], axis=1), n)


def sbm(
    sizes: tuple[int, ...],
    p_in: float,
    p_out: float,
    seed: int = 0,
    degree_exponent: float = 0.0,
    feature_dim: int = 0,
    feature_noise: float = 1.0,
) -> GraphData:
    """A (degree-corrected) stochastic block model: blocks of ``sizes``, edge probability ``theta_u theta_v p`` with
    p = ``p_in`` inside a block and ``p_out`` across, node weights theta from a Pareto law of exponent
    ``degree_exponent`` (0: all 1, the plain SBM), normalized to mean 1 per block (Karrer & Newman, 2011). Edges are
    drawn block pair by block pair in O(E) (a Poisson number of endpoint draws, duplicates merged), so 10^6 nodes fit.
    With ``feature_dim``: features = a class mean (a seeded Gaussian per block) + Gaussian noise of std
    ``feature_noise``; labels are the blocks; a random 10 / 10 / 80 % train / val / test split."""
    rng = np.random.default_rng(seed)
    sizes = tuple(int(s) for s in sizes)
    n = sum(sizes)
    start = np.concatenate([[0], np.cumsum(sizes)])
    theta = np.ones(n)
    if degree_exponent:
        theta = rng.pareto(degree_exponent, size=n) + 1.0
        for b in range(len(sizes)):
            theta[start[b] : start[b + 1]] /= theta[start[b] : start[b + 1]].mean()
    chunks = []
    for a in range(len(sizes)):
        for b in range(a, len(sizes)):
            p = p_in if a == b else p_out
            pairs = sizes[a] * sizes[b] / (2 if a == b else 1)
            m = rng.poisson(p * pairs)
            wa = theta[start[a] : start[a + 1]] / theta[start[a] : start[a + 1]].sum()
            wb = theta[start[b] : start[b + 1]] / theta[start[b] : start[b + 1]].sum()
            u = start[a] + rng.choice(sizes[a], size=m, p=wa)
            v = start[b] + rng.choice(sizes[b], size=m, p=wb)
            chunks.append(np.stack([u, v], axis=1))
    graph = Graph.from_edges(np.concatenate(chunks) if chunks else np.zeros((0, 2), np.int64), n)
    labels = np.repeat(np.arange(len(sizes)), sizes)
    features = None
    if feature_dim:
        means = rng.normal(size=(len(sizes), feature_dim))
        features = (means[labels] + feature_noise * rng.normal(size=(n, feature_dim))).astype(np.float32)
    order = rng.permutation(n)
    train, val, test = (np.zeros(n, dtype=bool) for _ in range(3))
    train[order[: n // 10]] = True
    val[order[n // 10 : n // 5]] = True
    test[order[n // 5 :]] = True
    return GraphData(graph, features, labels, {"train": train, "val": val, "test": test}, name="sbm")


def _load_npy(path: str | Path, what: str) -> np.ndarray:
    path = Path(path)
    if not path.is_file():
        raise DataError(f"{path}: {what} file not found")
    try:
        return np.load(path, allow_pickle=False)
    except (OSError, ValueError, EOFError) as e:
        first = str(e).strip().splitlines()[0][:120] if str(e).strip() else type(e).__name__
        raise DataError(f"{path}: not a readable .npy {what} file ({first})") from None


def read_edges(path: str | Path) -> np.ndarray:
    """An edge list [E, 2] of integer node ids from 0: a ``.npy`` array, or a text file of two integer columns
    (whitespace or comma separated, ``#`` comments); a ragged or non-integer list is one :class:`DataError` line."""
    path = Path(path)
    if path.suffix == ".npy":
        e = _load_npy(path, "edge list")
    else:
        if not path.is_file():
            raise DataError(f"{path}: edge list file not found")
        rows = []
        for number, line in enumerate(path.read_text().splitlines(), start=1):
            fields = line.split("#", 1)[0].replace(",", " ").split()
            if not fields:
                continue
            if len(fields) != 2:
                got = f"{len(fields)} ({line.strip()!r})"
                raise DataError(f"{path}:{number}: expected two node ids per line, got {got}")
            try:
                rows.append((int(fields[0]), int(fields[1])))
            except ValueError:
                raise DataError(f"{path}:{number}: node ids must be integers ({line.strip()!r})") from None
        e = np.array(rows, dtype=np.int64).reshape(-1, 2)
    if e.dtype == object or e.ndim != 2 or e.shape[1] != 2:
        raise DataError(f"{path}: edge list must have shape [E, 2], got {list(e.shape)}")
    if not np.issubdtype(e.dtype, np.integer):
        raise DataError(f"{path}: edge list must hold integer node ids, not dtype {e.dtype}")
    if len(e) == 0:
        raise DataError(f"{path}: the edge list is empty")
    return e.astype(np.int64)


def read_graph_files(
    edges: str | Path,
    features: str | Path | None = None,
    labels: str | Path | None = None,
    split: str | Path | None = None,
) -> GraphData:
    """A graph from files: ``edges`` (:func:`read_edges`), ``features`` ``.npy`` [n, d] (n fixes the node count,
    else the largest id + 1), ``labels`` ``.npy`` [n] of integers, ``split`` ``.npz`` of boolean [n] masks
    ``train`` and ``test`` (``val`` optional). Any mismatch is one :class:`DataError` line naming the file."""
    e = read_edges(edges)
    X = None
    if features is not None:
        X = _load_npy(features, "features")
        if X.ndim != 2 or not np.issubdtype(X.dtype, np.number) or not np.all(np.isfinite(X)):
            got = f"{X.dtype} {list(X.shape)}"
            raise DataError(f"{features}: features must be a finite numeric array [n, d], got {got}")
    n = X.shape[0] if X is not None else int(e.max()) + 1
    if e.min() < 0 or e.max() >= n:
        bad = int(e.min()) if e.min() < 0 else int(e.max())
        src = f"the {n} rows of {features}" if X is not None else f"{n} nodes"
        raise DataError(f"{edges}: node id {bad} is outside 0..{n - 1} ({src})")
    y = None
    if labels is not None:
        y = _load_npy(labels, "labels")
        if y.shape != (n,) or not np.issubdtype(y.dtype, np.integer) or y.min() < 0:
            raise DataError(f"{labels}: labels must be integers >= 0 of shape [{n}], got {y.dtype} {list(y.shape)}")
    masks = None
    if split is not None:
        if y is None:
            raise DataError(f"{split}: a split needs --labels")
        path = Path(split)
        if not path.is_file():
            raise DataError(f"{path}: split file not found")
        try:
            with np.load(path, allow_pickle=False) as z:
                masks = {key: z[key] for key in ("train", "val", "test") if key in z.files}
        except (OSError, ValueError, EOFError):
            raise DataError(f"{path}: not a readable .npz split file") from None
        for key in ("train", "test"):
            if key not in masks:
                raise DataError(f"{path}: the split needs boolean arrays 'train' and 'test' (missing {key!r})")
        for key, m in masks.items():
            if m.dtype != np.bool_ or m.shape != (n,):
                got = f"{m.dtype} {list(m.shape)}"
                raise DataError(f"{path}: split mask {key!r} must be boolean of shape [{n}], got {got}")
    return GraphData(Graph.from_edges(e, n), X, None if y is None else y.astype(np.int64), masks, name=Path(edges).stem)
