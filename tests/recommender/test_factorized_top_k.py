"""Recommender.factorized_top_k: TensorFlow Recommenders' retrieval accuracy through the facade."""

from __future__ import annotations

import pandas as pd
import pytest

from movierec import Recommender
from movierec.errors import ConfigError

# movie 10 rated by 3 users, 20 by 2, 30 by 1: popularity ranks them 10, 20, 30 for everyone
TRAIN = pd.DataFrame({"user_id": [1, 2, 3, 1, 2, 3],
                      "movie_id": [10, 10, 10, 20, 20, 30],
                      "rating": [5.0, 4.0, 3.0, 4.0, 2.0, 1.0],
                      "timestamp": [1, 2, 3, 4, 5, 6]})


@pytest.fixture(scope="module")
def popularity() -> Recommender:
    return Recommender("popularity", progress=False).fit(TRAIN)


def test_known_answer_counts_seen_movies_and_leaves_out_unknown_ids(popularity):
    test = pd.DataFrame({"user_id": [1, 2, 3, 99], "movie_id": [10, 30, 20, 10]})
    found = popularity.factorized_top_k(test, ks=(1, 2, 3))
    # ranks 0 (movie 10, which user 1 rated in training: still counted), 2, 1; user 99 unknown
    assert found == {"factorized_top_1": 1 / 3, "factorized_top_2": 2 / 3,
                     "factorized_top_3": 1.0, "n_test": 3}
    # the list metrics exclude seen movies, so the same rows score differently there
    assert popularity.ranking_metrics(test, ks=(1,))["n_test"] == 3


def test_no_known_row_is_a_config_error(popularity):
    with pytest.raises(ConfigError, match="no test row"):
        popularity.factorized_top_k(pd.DataFrame({"user_id": [99], "movie_id": [10]}))


def test_user_ranking_metrics_are_indexed_by_raw_user_id(popularity):
    test = pd.DataFrame({"user_id": [3, 1, 2, 99], "movie_id": [10, 30, 30, 10]})
    table = popularity.user_ranking_metrics(test, ks=(1,))
    assert table.index.tolist() == [1, 2, 3] and table.index.name == "user_id"
    # top-1 unseen lists: user 1 -> [30] (hit), user 2 -> [30] (hit), user 3 -> [20] (miss)
    assert table["hit_rate@1"].tolist() == [1.0, 1.0, 0.0]
    assert table["ndcg@1"].mean() == popularity.ranking_metrics(test, ks=(1,))["ndcg@1"]
