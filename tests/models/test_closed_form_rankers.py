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


@pytest.mark.parametrize(("preset", "options"), [("ease", {"l2": 10.0}),
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
