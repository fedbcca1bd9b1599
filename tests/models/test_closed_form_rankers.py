"""Popularity and EASE: closed forms checked by hand; taste groups on block-structured data."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from taste_groups import taste_groups

from movierec.models import build_model


def fitted(preset: str, **options: object):  # type: ignore[no-untyped-def]
    users, movies = (torch.from_numpy(i.astype(np.int64)) for i in taste_groups().nonzero())
    model = build_model(preset, 40, 20, **options)
    model.observe_ratings(users, movies, torch.ones(len(users)))
    return model.eval(), users, movies


def test_popularity_scores_are_counts() -> None:
    model = build_model("popularity", 2, 3)
    model.observe_ratings(torch.tensor([0, 0, 1]), torch.tensor([0, 2, 0]), torch.ones(3))
    assert model.score(torch.tensor([0, 1])).tolist() == [[2.0, 0.0, 1.0], [2.0, 0.0, 1.0]]


def test_ease_matches_its_closed_form() -> None:
    model, users, movies = fitted("ease", l2=10.0)
    x = np.zeros((40, 20))
    x[users.numpy(), movies.numpy()] = 1.0
    p = np.linalg.inv(x.T @ x + 10.0 * np.eye(20))
    b = -p / np.diag(p)
    np.fill_diagonal(b, 0.0)
    with torch.no_grad():
        scores = model.score(torch.arange(5)).numpy()
    np.testing.assert_allclose(scores, x[:5] @ b, rtol=1e-4, atol=1e-5)


def test_item_ridge_matches_its_closed_form() -> None:
    model, users, movies = fitted("item-ridge", l2=10.0)
    x = np.zeros((40, 20))
    x[users.numpy(), movies.numpy()] = 1.0
    b = np.eye(20) - 10.0 * np.linalg.inv(x.T @ x + 10.0 * np.eye(20))
    np.fill_diagonal(b, 0.0)
    with torch.no_grad():
        scores = model.score(torch.arange(5)).numpy()
    np.testing.assert_allclose(scores, x[:5] @ b, rtol=1e-4, atol=1e-5)


def test_item_ridge_ranks_as_the_user_ridge_that_leaves_the_user_out() -> None:
    # predict user u's row from the other users' rows (ridge over users, u left out)
    rng = np.random.default_rng(0)
    x = (rng.random((30, 12)) < 0.3).astype(float)
    x[:, 0] = 1.0  # no empty rows
    users, movies = (torch.from_numpy(i.astype(np.int64)) for i in x.nonzero())
    model = build_model("item-ridge", 30, 12, l2=3.0)
    model.observe_ratings(users, movies, torch.ones(len(users)))
    with torch.no_grad():
        scores = model.eval().score(torch.arange(30)).numpy().astype(float)
    for u in range(30):
        others = np.delete(x, u, axis=0)
        weights = np.linalg.solve(others @ others.T + 3.0 * np.eye(29), others @ x[u])
        unseen = x[u] == 0
        ours, by_users = scores[u, unseen], (weights @ others)[unseen]
        factor = ours @ by_users / (by_users @ by_users)  # one positive number per user
        assert factor > 0
        np.testing.assert_allclose(ours, factor * by_users, rtol=1e-3, atol=1e-6)


@pytest.mark.parametrize(("preset", "options"), [("ease", {"l2": 10.0}),
                                                 ("item-ridge", {"l2": 10.0}),
                                                 ("ials", {"factors": 4, "iterations": 10,
                                                           "regularization": 0.05}),
                                                 ("bpr", {"factors": 4, "iterations": 200})])
def test_rankers_recommend_within_the_taste_group(preset: str, options: dict) -> None:
    model, users, movies = fitted(preset, **options)
    with torch.no_grad():
        scores = model.score(torch.arange(40)).numpy()
    scores[users.numpy(), movies.numpy()] = -np.inf
    top = np.argsort(-scores, axis=1)[:, :3]
    assert ((top // 10) == (np.arange(40) // 20)[:, None]).mean() > 0.9


def test_window_counts_weigh_pairs_by_closeness() -> None:
    from movierec.models.gram import window_counts

    counts = window_counts(np.array([0, 0, 0, 1]), np.array([0, 1, 2, 0]), 3, window=2,
                           closeness=True).toarray()
    np.testing.assert_allclose(counts, [[0, 2 / 3, 1 / 3], [2 / 3, 0, 2 / 3],
                                        [1 / 3, 2 / 3, 0]], rtol=1e-6)


def test_ease_window_matches_its_closed_form() -> None:
    # two users, time order 0 1 2 and 2 0: gaps of 1 weigh 2/3, of 2 weigh 1/3 (window 2)
    model = build_model("ease-window", 2, 3, l2=1.0, window=2)
    model.observe_ratings(torch.tensor([0, 0, 0, 1, 1]), torch.tensor([0, 1, 2, 2, 0]),
                          torch.ones(5), torch.tensor([10, 20, 30, 5, 6]))
    gram = np.array([[0, 2 / 3, 1 / 3 + 2 / 3], [2 / 3, 0, 2 / 3], [1.0, 2 / 3, 0]])
    gram += np.diag([2.0, 1.0, 2.0])  # each movie's rating count
    p = np.linalg.inv(gram + np.eye(3))
    b = -p / np.diag(p)
    np.fill_diagonal(b, 0.0)
    with torch.no_grad():
        np.testing.assert_allclose(model.score(torch.tensor([1])).numpy(),
                                   np.array([[1.0, 0.0, 1.0]]) @ b, rtol=1e-5, atol=1e-6)


def test_ease_window_prefers_what_is_rated_next_to_a_movie() -> None:
    # everyone rates movie 0, then 1 at once; movie 2 comes 8 ratings later (fillers 3..10)
    users, movies, times = [], [], []
    for user in range(30):
        for position, movie in enumerate([0, 1, *range(3, 10), 2]):
            users.append(user), movies.append(movie), times.append(position)
    columns = (torch.tensor(users), torch.tensor(movies), torch.ones(len(users)),
               torch.tensor(times))
    timed = build_model("ease-window", 31, 10, l2=10.0, window=2)
    timed.observe_ratings(*columns)
    plain = build_model("ease", 31, 10, l2=10.0)
    plain.observe_ratings(*columns)
    newcomer = torch.tensor([0])  # a history holding movie 0 alone
    with torch.no_grad():
        near = timed.similar_movie_scores(newcomer)[0]
        flat = plain.similar_movie_scores(newcomer)[0]
    assert near[1] > near[2] + 0.1  # next in time beats 8 ratings later
    assert abs(float(flat[1] - flat[2])) < 1e-5  # plain EASE cannot tell them apart


def test_ease_window_needs_timestamps() -> None:
    from movierec.errors import ConfigError

    model = build_model("ease-window", 2, 3)
    with pytest.raises(ConfigError, match="ease-window needs the ratings' timestamp"):
        model.observe_ratings(torch.tensor([0, 1]), torch.tensor([0, 1]), torch.ones(2))


def test_the_regularised_inverse_falls_back_to_float64_where_float32_fails() -> None:
    from movierec.models.gram import regularised_inverse

    gram = torch.full((50, 50), 1e6, dtype=torch.float64)  # rank one: the ridge is all
    diagonal = torch.full((50,), 1e-2, dtype=torch.float64)  # that float32 cannot resolve
    assert int(torch.linalg.cholesky_ex(gram.float() + torch.diag(diagonal.float()))[1]) > 0
    inverse = regularised_inverse(gram, diagonal)
    exact = torch.linalg.inv(gram + torch.diag(diagonal))
    assert inverse.dtype == torch.float32
    assert float((inverse.double() - exact).abs().max() / exact.abs().max()) < 1e-6
