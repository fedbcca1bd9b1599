"""A ranker with a rater: lists from the ranker, stars from a rating preset fitted beside it."""

from __future__ import annotations

import numpy as np
import pytest

from movierec import Recommender
from movierec.errors import ConfigError


@pytest.fixture(scope="module")
def ratings(ratings_factory):
    return ratings_factory(n_users=50, n_movies=30, density=0.5, seed=3)


@pytest.fixture(scope="module")
def rec(ratings):
    return Recommender("ease", rater="biased-mf", progress=False, epochs=3).fit(ratings)


def test_lists_from_the_ranker_stars_from_the_rater(rec, ratings) -> None:
    alone = Recommender("ease", progress=False).fit(ratings)
    user = int(ratings["user_id"].iloc[0])
    assert rec.recommend(user, k=5)["movie_id"].tolist() == \
        alone.recommend(user, k=5)["movie_id"].tolist()
    pairs = ratings[["user_id", "movie_id"]].head(20)
    assert np.array_equal(rec.predict(pairs), rec.rater.predict(pairs))
    assert rec.roles() == {"ranker": "ease", "rater": "biased-mf"}
    with pytest.raises(ConfigError, match="does not predict ratings"):
        alone.predict(pairs)


def test_rater_saved_and_folded_in(rec, ratings, tmp_path) -> None:
    rec.save(tmp_path / "m")
    loaded = Recommender.load(tmp_path / "m")
    pairs = ratings[["user_id", "movie_id"]].head(20)
    assert np.allclose(loaded.predict(pairs), rec.predict(pairs))
    assert loaded.roles() == rec.roles()
    new = ratings[ratings["user_id"] == ratings["user_id"].iloc[0]].assign(user_id=10**9)
    loaded.fold_in(new)
    assert 10**9 in loaded.rater.user_ids and 10**9 in loaded.user_ids


def test_rater_must_rate_and_the_model_must_rank() -> None:
    with pytest.raises(ConfigError, match="predicts ratings itself"):
        Recommender("biased-mf", rater="biased-mf")
    with pytest.raises(ConfigError, match="does not predict ratings"):
        Recommender("ease", rater="popularity")
