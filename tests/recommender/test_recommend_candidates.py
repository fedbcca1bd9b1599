"""`recommend(candidates=...)` and `movie_scores`: the facade pieces the service builds on."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from movierec import Recommender


@pytest.fixture(scope="module")
def rec(ratings_factory) -> Recommender:
    return Recommender("biased-mf", progress=False, dim=4, epochs=3).fit(ratings_factory())


def test_candidates_restrict_the_answer_and_keep_the_order(rec):
    full = rec.recommend(1, 40)
    wanted = set(full["movie_id"].iloc[::3]) | {999_999}  # an unknown id is ignored
    some = rec.recommend(1, 40, candidates=wanted)
    assert some["movie_id"].tolist() == [m for m in full["movie_id"] if m in wanted]


def test_movie_scores_match_predict(rec):
    scores = rec.movie_scores(2)
    assert scores.index.tolist() == rec.movie_ids.ids.tolist()
    pairs = pd.DataFrame({"user_id": 2, "movie_id": scores.index})
    np.testing.assert_allclose(scores.to_numpy(), rec.predict(pairs), atol=1e-5)
