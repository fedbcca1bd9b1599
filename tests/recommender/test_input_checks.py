"""One input rule at the facade: ids are whole numbers everywhere ("42" is 42, NaN is an
error naming the row) and ratings lie on the model's scale."""

from __future__ import annotations

import logging
import re

import numpy as np
import pandas as pd
import pytest
import torch

from movierec import Recommender
from movierec.errors import ConfigError, DataFormatError
from movierec.training.tasks import CrossEntropyTask

HALF_STARS = (0.5, 1.0, 1.5, 2.0, 2.5, 3.0, 3.5, 4.0, 4.5, 5.0)


@pytest.fixture(scope="module")
def ratings(ratings_factory):
    return ratings_factory(n_users=40, n_movies=30, density=0.5, seed=2)


@pytest.fixture(scope="module")
def rec(ratings):
    return Recommender("biased-mf", progress=False, epochs=3).fit(ratings)


def one_rating(user: object, movie: object, rating: float = 4.0) -> pd.DataFrame:
    return pd.DataFrame({"user_id": [user], "movie_id": [movie], "rating": [rating],
                         "timestamp": [0]})


# ------------------------------------------------------------------ ids
def test_predict_reads_numeric_strings_as_the_ids_fit_read(rec, ratings):
    pairs = ratings[["user_id", "movie_id"]].head(5)
    as_text = pairs.astype(str)
    np.testing.assert_array_equal(rec.predict(as_text), rec.predict(pairs))
    fallback = rec.fallback.predict(pairs)  # what an id unknown for its type used to get
    assert not np.allclose(rec.predict(as_text), np.clip(fallback, 1, 5))


def test_fit_and_predict_agree_on_string_ids(ratings):
    text = ratings.astype({"user_id": str, "movie_id": str})
    by_text = Recommender("biased-mf", progress=False, epochs=2).fit(text)
    by_number = Recommender("biased-mf", progress=False, epochs=2).fit(ratings)
    pairs = ratings[["user_id", "movie_id"]].head(8)
    np.testing.assert_array_equal(by_text.predict(pairs.astype(str)), by_number.predict(pairs))


@pytest.mark.parametrize(("bad", "message"), [
    (np.nan, "row 1: user_id is missing"),
    (None, "row 1: user_id is missing"),
    ("abc", "row 1: user_id 'abc' is not a number"),
    (2.5, "row 1: user_id 2.5 is not an integer"),
])
def test_predict_refuses_non_ids_naming_row_and_column(rec, ratings, bad, message):
    pairs = ratings[["user_id", "movie_id"]].head(3).astype(object)
    pairs.iloc[1, 0] = bad
    with pytest.raises(DataFormatError, match=re.escape(f"pairs passed to predict(): {message}")):
        rec.predict(pairs)


def test_every_id_method_reads_strings_as_numbers(rec, ratings):
    user, movie = int(ratings["user_id"].iloc[0]), int(ratings["movie_id"].iloc[0])
    pd.testing.assert_frame_equal(rec.recommend(str(user), k=4), rec.recommend(user, k=4))
    pd.testing.assert_frame_equal(rec.recommend_many([str(user)], k=3),
                                  rec.recommend_many([user], k=3))
    pd.testing.assert_frame_equal(rec.similar_movies(str(movie), k=3),
                                  rec.similar_movies(movie, k=3))
    pd.testing.assert_frame_equal(rec.users_for_movie(str(movie), k=3),
                                  rec.users_for_movie(movie, k=3))
    pd.testing.assert_frame_equal(rec.recommend(user, k=2, candidates=[str(movie)]),
                                  rec.recommend(user, k=2, candidates=[movie]))


@pytest.mark.parametrize("bad", [np.nan, None, "abc"])
def test_every_id_method_refuses_non_ids(rec, bad):
    calls = [lambda: rec.recommend(bad), lambda: rec.recommend_many([1, bad]),
             lambda: rec.similar_movies(bad), lambda: rec.users_for_movie(bad),
             lambda: rec.fold_in(one_rating(bad, 7))]
    for call in calls:
        with pytest.raises(DataFormatError, match=r"(user|movie)_id (is missing|'abc' is not)"):
            call()


def test_fold_in_reads_string_ids(ratings):
    rec = Recommender("biased-mf", progress=False, epochs=2).fit(ratings)
    movie = str(ratings["movie_id"].iloc[0])
    assert rec.fold_in(one_rating("9001", movie), epochs=1) == [9001]
    assert 9001 in rec.user_ids and len(rec.recommend(9001, k=2)) == 2


# ------------------------------------------------------------------ rating scales
def test_off_scale_ratings_warn_and_name_the_span(ratings, caplog):
    stray = ratings.copy()
    stray.loc[0, "rating"] = 50.0
    with caplog.at_level(logging.WARNING, "movierec.recommender.recommender"):
        rec = Recommender("biased-mf", progress=False, epochs=1).fit(stray)
    assert rec.model.rating_range == (1.0, 50.0)
    assert "1..50" in caplog.text and "rating_range=(low, high)" in caplog.text


def test_movielens_scales_and_stated_scales_do_not_warn(ratings, caplog):
    with caplog.at_level(logging.WARNING, "movierec.recommender.recommender"):
        wide = ratings.assign(rating=ratings["rating"] * 2)
        rec = Recommender("biased-mf", progress=False, epochs=1, rating_range=(1, 10)).fit(wide)
        few = ratings[ratings["rating"] < 5]  # nobody gave 5 stars: still the 1..5 scale
        capped = Recommender("biased-mf", progress=False, epochs=1).fit(few)
    assert caplog.text == ""
    assert rec.model.rating_range == (1.0, 10.0) and capped.model.rating_range == (1.0, 5.0)


def test_fit_refuses_ratings_outside_a_stated_scale(ratings):
    stray = ratings.copy()
    stray.loc[3, "rating"] = 50.0
    with pytest.raises(DataFormatError, match=r"row 3: rating 50 is outside 1\.\.5"):
        Recommender("biased-mf", progress=False, rating_range=(1, 5)).fit(stray)


@pytest.mark.parametrize("value", [np.inf, np.nan])
def test_fit_refuses_non_finite_ratings(ratings, value):
    bad = ratings.copy()
    bad.loc[2, "rating"] = value
    with pytest.raises(DataFormatError, match="row 2: rating"):
        Recommender("biased-mf", progress=False).fit(bad)


@pytest.mark.parametrize("scale", [(5, 1), (1, np.inf), (3,), "1..5"])
def test_bad_rating_range_is_a_config_error(scale):
    with pytest.raises(ConfigError, match="rating_range"):
        Recommender("biased-mf", rating_range=scale)


def test_fold_in_refuses_ratings_off_the_model_scale(ratings, tmp_path):
    rec = Recommender("biased-mf", progress=False, epochs=1).fit(ratings)
    before = len(rec.user_ids)
    movie = int(ratings["movie_id"].iloc[0])
    with pytest.raises(DataFormatError, match=r"fold_in\(\): row 0: rating 9 is outside 1\.\.5"):
        rec.fold_in(one_rating(9001, movie, 9.0))
    assert len(rec.user_ids) == before
    loaded = Recommender.load(rec.save(tmp_path / "m"))
    with pytest.raises(DataFormatError, match=r"rating 0\.5 is outside 1\.\.5"):
        loaded.fold_in(one_rating(9001, movie, 0.5))


def test_partial_retraining_refuses_ratings_off_the_model_scale(ratings):
    rec = Recommender("biased-mf", progress=False, epochs=1).fit(ratings)
    with pytest.raises(DataFormatError, match=r"rating 7 is outside 1\.\.5"):
        rec.fit(ratings.head(20).assign(rating=7.0), train_parts=["movie"])


def test_validation_off_the_scale_is_refused(ratings):
    with pytest.raises(DataFormatError, match=r"validation passed to fit\(\).*outside 1\.\.5"):
        Recommender("biased-mf", progress=False, epochs=1).fit(
            ratings, validation=ratings.head(5).assign(rating=6.0))


# ------------------------------------------------------------------ classifier classes
def test_classifier_classes_on_half_star_data_include_five(ratings):
    half = ratings.assign(rating=np.clip(ratings["rating"] - 0.5, 0.5, 5.0))
    half.loc[half.index[:3], "rating"] = 5.0
    rec = Recommender("classifier", progress=False, epochs=1).fit(half)
    assert rec.model.rating_values == HALF_STARS
    classes = CrossEntropyTask(rec.model.rating_values).classes(torch.tensor([5.0, 4.5, 0.5]))
    assert classes.tolist() == [9, 8, 0]
    assert rec.model.head[-1].out_features == 10


def test_classifier_classes_on_whole_star_data(ratings):
    rec = Recommender("classifier", progress=False, epochs=1).fit(ratings)
    assert rec.model.rating_values == (1.0, 2.0, 3.0, 4.0, 5.0)
