"""The two-tower preset through the facade: side features, recommend, index, save/load."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch

from movierec import Recommender
from movierec.errors import ConfigError


@pytest.fixture(scope="module")
def side_data(ratings_factory):
    ratings = ratings_factory(n_users=50, n_movies=40, density=0.4, seed=3)
    movie_ids = np.sort(ratings["movie_id"].unique())
    movies = pd.DataFrame({"movie_id": movie_ids, "title": [f"Movie {m}" for m in movie_ids],
                           "year": [1950 + (m % 60) for m in movie_ids],
                           "genres": [["Drama"] if m % 20 < 10 else ["Comedy", "Crime"]
                                      for m in movie_ids]})
    user_ids = np.sort(ratings["user_id"].unique())
    users = pd.DataFrame({"user_id": user_ids, "age": 20 + user_ids % 40,
                          "gender": np.where(user_ids % 2, "F", "M"),
                          "occupation": np.where(user_ids % 3, "writer", "other")})
    return ratings, movies, users


@pytest.fixture(scope="module")
def rec(side_data):
    ratings, movies, users = side_data
    return Recommender("two-tower", progress=False, epochs=3, batch_size=128).fit(
        ratings, movies=movies, users=users)


def test_features_reach_the_towers(rec, side_data):
    _, movies, users = side_data
    model = rec.model
    # user fields: gender, age group, occupation
    assert (model.genres, model.year_buckets, model.user_fields) == (3, 25, (3, 8, 3))
    drama = rec.movie_ids.to_index(movies.loc[movies["genres"].str[0] == "Drama", "movie_id"])
    names = ["Comedy", "Crime", "Drama"]  # genre columns in sorted order
    assert model.movie.tag_matrix[torch.from_numpy(drama), names.index("Drama")].eq(1).all()
    women = rec.user_ids.to_index(users.loc[users["gender"] == "F", "user_id"])
    assert model.user.codes[torch.from_numpy(women), 0].eq(1).all()  # "F" sorts first
    assert model.user.history_indptr[-1] == len(side_data[0])  # every rating in a history


def test_recommend_excludes_seen_and_round_trips(rec, side_data, tmp_path):
    ratings = side_data[0]
    top = rec.recommend(1, 10)
    assert not set(top["movie_id"]) & set(ratings.loc[ratings["user_id"] == 1, "movie_id"])
    assert top["score"].is_monotonic_decreasing
    loaded = Recommender.load(rec.save(tmp_path / "tt"))
    pd.testing.assert_frame_equal(loaded.recommend(1, 10), top)
    assert torch.equal(loaded.model.user.history_items, rec.model.user.history_items)


def test_index_gives_the_exact_answer(rec, tmp_path):
    expected = rec.recommend(5, 8)
    rec.build_index("exact")
    try:
        from_index = rec.recommend(5, 8)
        loaded = Recommender.load(rec.save(tmp_path / "indexed"))
        assert loaded.index is not None
        pd.testing.assert_frame_equal(loaded.recommend(5, 8), from_index)
    finally:
        rec.index = None
    assert from_index["movie_id"].tolist() == expected["movie_id"].tolist()
    np.testing.assert_allclose(from_index["score"], expected["score"], atol=1e-5)


def test_features_can_be_switched_off(side_data):
    ratings, movies, users = side_data
    rec = Recommender("two-tower", progress=False, epochs=1, genres=0, user_fields=(),
                      history=False).fit(ratings, movies=movies, users=users)
    assert (rec.model.genres, rec.model.user_fields, rec.model.year_buckets) == (0, (), 25)


def test_wrong_feature_size_is_clear(side_data):
    ratings, movies, _ = side_data
    with pytest.raises(ConfigError, match="genres"):
        Recommender("two-tower", progress=False, epochs=1, genres=7).fit(ratings, movies=movies)


def test_fold_in_is_refused(rec, side_data):
    with pytest.raises(ConfigError, match="refit"):
        rec.fold_in(side_data[0].head(5))
