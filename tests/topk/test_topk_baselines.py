"""Top-k baselines: closed forms checked by hand, learned ones on block-structured data."""

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp

from movierec.topk import EASE, ImplicitALS, ImplicitBPR, Popularity, interactions_from_ratings


def blocks(n_users=40, n_movies=20, seed=0):
    """Two taste groups: users 0..19 like movies 0..9, users 20..39 like 10..19."""
    rng = np.random.default_rng(seed)
    rows, cols = [], []
    for user in range(n_users):
        group = user // (n_users // 2)
        liked = rng.choice(np.arange(10) + 10 * group, size=6, replace=False)
        rows += [user] * 6
        cols += list(liked)
    return sp.csr_matrix((np.ones(len(rows), np.float32), (rows, cols)), shape=(n_users, n_movies))


def test_popularity_scores_are_counts():
    train = sp.csr_matrix(np.array([[1, 0, 1], [1, 0, 0]], dtype=np.float32))
    scores = Popularity().fit(train).score(np.array([0, 1]))
    assert scores.tolist() == [[2.0, 0.0, 1.0], [2.0, 0.0, 1.0]]


def test_ease_matches_its_closed_form():
    train = blocks()
    x = train.toarray().astype(np.float64)
    p = np.linalg.inv(x.T @ x + 10.0 * np.eye(x.shape[1]))
    b = -p / np.diag(p)
    np.fill_diagonal(b, 0.0)
    scores = EASE(l2=10.0).fit(train).score(np.arange(5)).numpy()
    np.testing.assert_allclose(scores, x[:5] @ b, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("model", [EASE(l2=10.0), ImplicitALS(factors=4, iterations=10),
                                   ImplicitBPR(factors=4, iterations=200)])
def test_learned_models_recommend_within_the_taste_group(model):
    train = blocks()
    scores = model.fit(train).score(np.arange(40)).numpy()
    scores[train.toarray() > 0] = -np.inf
    top = np.argsort(-scores, axis=1)[:, :3]
    in_group = (top // 10) == (np.arange(40) // 20)[:, None]
    assert in_group.mean() > 0.9


def test_interactions_drop_unknown_test_ids_and_threshold():
    train = pd.DataFrame({"user_id": [1, 1, 2], "movie_id": [10, 20, 10],
                          "rating": [5.0, 2.0, 4.0]})
    test = pd.DataFrame({"user_id": [1, 2, 3], "movie_id": [30, 20, 10],
                         "rating": [5.0, 5.0, 5.0]})
    view = interactions_from_ratings(train, test, min_rating=4.0)
    assert view.shape == (2, 1)  # movie 20 only had a 2-star rating
    assert view.test_users.tolist() == [] and view.test_movies.tolist() == []
    view = interactions_from_ratings(train, test)
    assert view.test_users.tolist() == [1] and view.test_movies.tolist() == [1]
