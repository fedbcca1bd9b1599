"""Retrieve-then-rank: candidates come from the retriever's index, order from the ranker."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from movierec.errors import ConfigError
from movierec.topk import Popularity
from movierec.topk.neural import TwoTowerRanker
from movierec.topk.retrieve_rank import RetrieveThenRank


@pytest.fixture(scope="module")
def fitted(ratings_factory):
    ratings = ratings_factory(n_users=40, n_movies=30, density=0.4, seed=5)
    rtr = RetrieveThenRank(Popularity(), retriever=TwoTowerRanker(epochs=2), candidates=6)
    return ratings, rtr.fit_ratings(ratings)


def test_candidates_are_the_retrievers_best_unseen_movies(fitted):
    _, rtr = fitted
    users = np.array([0, 7, 39])
    rec = rtr.retriever.rec
    exact = rtr.retriever.score(users).clone()
    rows, cols = rec.seen.seen_positions(users)
    exact[torch.from_numpy(rows), torch.from_numpy(cols)] = -torch.inf
    expected = exact.topk(6, dim=1).indices.sort(dim=1).values
    scores = rtr.score(users)
    finite = torch.isfinite(scores)
    assert finite.sum(dim=1).tolist() == [6, 6, 6]
    got = torch.stack([torch.nonzero(row).ravel() for row in finite])
    assert torch.equal(got, expected)


def test_ranker_orders_the_candidates(fitted):
    _, rtr = fitted
    scores = rtr.score(np.array([3]))[0]
    candidates = torch.nonzero(torch.isfinite(scores)).ravel()
    popularity = rtr.ranker.score(np.array([3]))[0]
    torch.testing.assert_close(scores[candidates], popularity[candidates])
    assert rtr.name == "two-tower>popularity"


def test_candidates_must_be_positive():
    with pytest.raises(ConfigError, match="candidates"):
        RetrieveThenRank(Popularity(), candidates=0)
