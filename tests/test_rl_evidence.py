"""The pieces of the RL-evidence experiments: exact V*, fixed embeddings, the goal bonus on a fixed embedding."""

from __future__ import annotations

from collections import deque

import numpy as np
import torch

from rlspectral.agents.embeddings import CellTableEmbedding, ObservationEmbedding, exact_eigenvector_embedding
from rlspectral.envs.gridworld import load_grid
from rlspectral.envs.spectra import transition_eigenpairs
from rlspectral.envs.values import optimal_values, polynomial_features, random_fourier, relative_error
from rlspectral.sb3.bonus import GoalBonus


def _bfs_distance(grid, goal: int) -> np.ndarray:
    dist = -np.ones(grid.n, dtype=int)
    dist[goal] = 0
    queue = deque([goal])
    while queue:
        s = queue.popleft()
        for t in grid.next_state[s]:  # moves are symmetric on a grid
            if dist[t] < 0:
                dist[t] = dist[s] + 1
                queue.append(t)
    return dist


def test_value_iteration_matches_shortest_paths():
    grid = load_grid("GridRoom-4")
    v, goal = optimal_values("GridRoom-4", gamma=0.9)
    d = _bfs_distance(grid, goal)
    others = np.arange(grid.n) != goal
    np.testing.assert_allclose(v[others], 0.9 ** (d[others] - 1), atol=1e-9)
    assert v[goal] == 0.0


def test_least_squares_error_is_zero_on_a_full_basis_and_one_on_nothing():
    grid = load_grid("GridMaze-7")
    v, _ = optimal_values("GridMaze-7")
    _, vecs = transition_eigenpairs(grid)
    assert relative_error(vecs, v) < 1e-8  # all n eigenvectors span R^n
    assert abs(relative_error(np.zeros((grid.n, 1)), v) - 1.0) < 1e-12  # only the intercept
    xy = grid.observations("xy").astype(np.float64)
    p = polynomial_features(xy, 6)
    np.testing.assert_allclose(p[:, :3], np.c_[np.ones(grid.n), xy])  # 1, x, y, x^2, xy, y^2
    np.testing.assert_allclose(p[:, 3:], np.c_[xy[:, 0] ** 2, xy[:, 0] * xy[:, 1], xy[:, 1] ** 2])
    rf = random_fourier(xy, 5, sigma=3.0, seed=0)
    assert rf.shape == (grid.n, 5) and np.abs(rf).max() <= np.sqrt(2)
    np.testing.assert_array_equal(rf, random_fourier(xy, 5, sigma=3.0, seed=0))  # a draw is its seed


def test_cell_table_embedding_looks_up_each_cell():
    grid = load_grid("GridRoom-4")
    emb = exact_eigenvector_embedding("GridRoom-4", "xy", k=5)
    _, vecs = transition_eigenpairs(grid, 5)
    X = torch.from_numpy(grid.observations("xy"))
    np.testing.assert_allclose(emb(X).numpy(), vecs * np.sqrt(grid.n), atol=1e-5)
    perm = torch.randperm(grid.n)
    assert torch.equal(emb.cells(X[perm]), perm)
    onehot = CellTableEmbedding(grid.observations("onehot"), np.arange(grid.n)[:, None])
    assert torch.equal(onehot(torch.eye(grid.n)[perm])[:, 0].long(), perm)


def test_goal_bonus_on_a_fixed_embedding_is_minus_the_distance_to_the_goal():
    grid = load_grid("GridMaze-9")
    X = torch.from_numpy(grid.observations("xy"))
    goal = X[-1].numpy()
    bonus = GoalBonus(goal, coef=1.0, normalize=False, embedding=ObservationEmbedding())
    assert bonus.ready  # no learned features needed
    r = bonus(X, X).numpy()
    np.testing.assert_allclose(r, -np.linalg.norm(X.numpy() - goal, axis=1), atol=1e-6)
    exact = GoalBonus(goal, coef=1.0, normalize=False, embedding=exact_eigenvector_embedding("GridMaze-9", "xy", 20))
    r = exact(X, X).numpy()
    assert r[-1] == 0.0 and (r[:-1] < 0).all()
    # in a maze, the distance over the first few eigenvectors tracks the shortest-path distance far better than
    # the Euclidean distance (GridMaze-19: correlation 0.83 vs 0.46) -- why the shaping experiment uses 4 modes
    maze = load_grid("GridMaze-19")
    Xm = torch.from_numpy(maze.observations("xy"))
    eig = GoalBonus(Xm[-1].numpy(), 1.0, False, modes=4, embedding=exact_eigenvector_embedding("GridMaze-19"))
    d = _bfs_distance(maze, maze.n - 1)
    corr_eig = np.corrcoef(-eig(Xm, Xm).numpy(), d)[0, 1]
    corr_xy = np.corrcoef(np.linalg.norm(Xm.numpy() - Xm[-1].numpy(), axis=1), d)[0, 1]
    assert corr_eig > 0.8 > 0.5 > corr_xy
    truncated = GoalBonus(goal, coef=1.0, normalize=False, modes=3, embedding=exact_eigenvector_embedding("GridMaze-9"))
    emb = exact_eigenvector_embedding("GridMaze-9")(X)[:, :3]
    np.testing.assert_allclose(truncated(X, X).numpy(), -(emb - emb[-1]).norm(dim=1).numpy(), atol=1e-5)


def test_learned_embedding_evaluates_a_checkpoint_on_each_cell(tmp_path):
    from rlspectral.agents.embeddings import learned_embedding
    from rlspectral.learner import LearnerConfig, SpectralLearner

    grid = load_grid("GridMaze-9")
    learner = SpectralLearner(LearnerConfig(obs_shape=(2,), k=4, hidden=(16,)))
    path = learner.save(tmp_path / "m.pt")
    _, phi = learner.eigenfunctions(torch.from_numpy(grid.observations("xy")))
    emb = learned_embedding("GridMaze-9", "onehot", str(path))  # a checkpoint on xy, looked up from one-hot cells
    np.testing.assert_allclose(emb(torch.eye(grid.n)).numpy(), phi.numpy(), atol=1e-6)


def test_learned_embedding_rejects_a_checkpoint_from_another_layout(tmp_path):
    import pytest

    from rlspectral.agents.embeddings import learned_embedding
    from rlspectral.errors import SpectralError
    from rlspectral.learner import LearnerConfig, SpectralLearner

    path = SpectralLearner(LearnerConfig(obs_shape=(7,), k=2, hidden=(8,))).save(tmp_path / "m.pt")
    with pytest.raises(SpectralError, match="no observation type of GridMaze-9"):
        learned_embedding("GridMaze-9", "onehot", str(path))
    assert not GoalBonus(np.zeros(2), embedding=ObservationEmbedding()).needs_features
    assert GoalBonus(np.zeros(2)).needs_features
