"""Named evaluation protocols: fold counts, test shares, seeds."""

from __future__ import annotations

import pandas as pd
import pytest

from movierec.data import MovieLensData
from movierec.errors import ConfigError
from movierec.evaluate import protocol_folds


@pytest.fixture
def data(synthetic_ratings: pd.DataFrame) -> MovieLensData:
    return MovieLensData("synthetic", synthetic_ratings, pd.DataFrame(), None, "generated")


def test_repeated_holdout_is_ten_percent_with_distinct_seeds(data: MovieLensData) -> None:
    description, folds = protocol_folds(data, "holdout-90", k=3, seed=4)
    assert description == "random 90/10 split x 3 (seeds 4..6)"
    assert len(folds) == 3
    for train, test in folds:
        assert len(test) == pytest.approx(0.1 * len(data.ratings), abs=2)
        assert len(train) + len(test) == len(data.ratings)
    pairs = [set(zip(test["user_id"], test["movie_id"], strict=True)) for _, test in folds]
    assert pairs[0] != pairs[1]


def test_kfold_tests_partition_the_ratings(data: MovieLensData) -> None:
    _, folds = protocol_folds(data, "kfold", k=4, seed=0)
    tested = pd.concat([test for _, test in folds])
    assert len(tested) == len(data.ratings)
    assert not tested.duplicated(["user_id", "movie_id"]).any()


def test_canonical_protocols_need_the_folds_and_unknown_names_fail(data: MovieLensData) -> None:
    with pytest.raises(Exception, match="canonical folds"):
        protocol_folds(data, "u1")
    with pytest.raises(ConfigError, match="holdout-90"):
        protocol_folds(data, "leave-one-in")
