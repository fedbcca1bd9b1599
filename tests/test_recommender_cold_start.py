"""Recommender.cold_start: stated tastes and a few ratings, blended as the service does."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch

from movierec import Recommender
from movierec.coldstart import Preferences, preference_scores
from movierec.errors import ConfigError

GENRES = ("Comedy", "Drama", "Sci-Fi", "Horror")


@pytest.fixture(scope="module")
def model_dir(ratings_factory, tmp_path_factory):
    torch.set_num_threads(1)
    ratings = ratings_factory()
    ids = np.sort(ratings["movie_id"].unique())
    movies = pd.DataFrame({
        "movie_id": ids, "title": [f"Movie {m}" for m in ids],
        "year": pd.array([1950 + i for i in range(len(ids))], dtype="Int64"),
        "genres": [[GENRES[i % 4]] for i in range(len(ids))]})
    rec = Recommender("biased-mf", progress=False, epochs=3, dim=4).fit(ratings, movies=movies)
    return rec.save(tmp_path_factory.mktemp("cold") / "model")


def test_no_ratings_ranks_by_stated_tastes(model_dir):
    rec = Recommender.load(model_dir)
    prefs = Preferences(liked_genres=("Comedy",), year_min=1960, year_max=1970)
    found = rec.cold_start(prefs, k=5)
    counts = np.asarray(rec.seen.matrix.sum(axis=0)).ravel()
    catalogue = rec.movies.reindex(rec.movie_ids.ids).reset_index(drop=True)
    catalogue["movie_id"] = rec.movie_ids.ids
    expected = preference_scores(catalogue, pd.Series(counts, index=rec.movie_ids.ids), prefs)
    assert found["movie_id"].tolist() == expected.nlargest(5).index.tolist()
    assert set(found.columns) == {"movie_id", "title", "score"}


def test_same_list_as_the_service_and_the_model_is_unchanged(model_dir, tmp_path):
    from movierec.service.guarded import GuardedRecommender
    from movierec.service.profiles import ProfileService
    from movierec.service.store import ProfileStore

    prefs = Preferences(liked_genres=("Drama",), disliked_genres=("Horror",))
    ratings = {17: 5.0, 27: 4.0, 37: 1.0}
    service = ProfileService(GuardedRecommender(Recommender.load(model_dir)),
                             ProfileStore(f"sqlite:///{tmp_path / 'p.db'}"))
    expected = service.recommend(service.create("ann", prefs, ratings), 8)
    rec = Recommender.load(model_dir)
    found = rec.cold_start(prefs, ratings, k=8)
    assert found["movie_id"].tolist() == [item["movie_id"] for item in expected]
    np.testing.assert_allclose(found["score"], [item["score"] for item in expected], rtol=1e-6)
    assert len(rec.user_ids) == 60 and not set(ratings) & set(found["movie_id"])


def test_refusals(model_dir, ratings_factory):
    rec = Recommender.load(model_dir)
    with pytest.raises(ConfigError, match="unknown genre"):
        rec.cold_start(Preferences(liked_genres=("Jazz",)))
    bare = Recommender("biased-mf", progress=False, epochs=1, dim=4).fit(ratings_factory())
    with pytest.raises(ConfigError, match="genres and years"):
        bare.cold_start(Preferences(liked_genres=("Drama",)))
    assert len(bare.cold_start(k=3)) == 3  # no tastes, no movies: the most rated
    whole = Recommender("autorec", progress=False, epochs=1).fit(ratings_factory())
    with pytest.raises(ConfigError, match="cannot fold in"):
        whole.cold_start(ratings={17: 5.0})
