"""Full-catalogue top-k metrics in user blocks: same answer for any block size, scores
never asked for more than one block of users at a time."""

import numpy as np
import pytest
import torch

from movierec.data import SeenMovies
from movierec.evaluate.ranking import factorized_top_k_accuracy, ranking_metrics


def test_blocks_bound_the_score_matrix_and_do_not_change_metrics():
    rng = np.random.default_rng(0)
    n_users, n_movies = 500, 300
    users_vec, movies_vec = rng.normal(size=(n_users, 8)), rng.normal(size=(n_movies, 8))
    asked: list[int] = []

    def scorer(users: np.ndarray) -> torch.Tensor:
        asked.append(len(users))
        return torch.from_numpy(users_vec[users] @ movies_vec.T).float()

    train_u, train_m = rng.integers(0, n_users, 4000), rng.integers(0, n_movies, 4000)
    seen = SeenMovies.from_indices(train_u, train_m, n_users, n_movies)
    test_u, test_m = rng.integers(0, n_users, 1500), rng.integers(0, n_movies, 1500)
    whole = ranking_metrics(scorer, test_u, test_m, n_movies, seen=seen, block=10_000)
    asked.clear()
    blocked = ranking_metrics(scorer, test_u, test_m, n_movies, seen=seen, block=37,
                              progress=True)
    assert max(asked) <= 37 and len(asked) > 10
    assert blocked == pytest.approx(whole, rel=1e-12)
    assert factorized_top_k_accuracy(scorer, test_u, test_m, block=37, progress=True) == \
        factorized_top_k_accuracy(scorer, test_u, test_m, block=10_000)
