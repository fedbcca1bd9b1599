"""End to end on the real ml-100k files (skipped when ../shared/data is absent)."""

import numpy as np

from movierec import Recommender
from movierec.data import load_movielens
from movierec.evaluate import DampedBias, rmse


def test_biased_mf_on_u1_beats_the_bias_baseline(ml100k_dir, tmp_path, monkeypatch):
    monkeypatch.setenv("MOVIEREC_HOME", str(tmp_path))
    data = load_movielens("ml-100k", ml100k_dir)
    train, test = data.canonical_folds("u")[0]
    rec = Recommender("biased-mf", progress=False).fit(train, movies=data.movies)
    model_rmse = rmse(rec.predict(test), test["rating"])
    baseline = rmse(DampedBias().fit(train).predict(test), test["rating"])
    assert model_rmse < 0.93 and model_rmse < baseline - 0.01
    top = rec.recommend(1, k=10)
    rated = set(train.loc[train["user_id"] == 1, "movie_id"])
    assert len(top) == 10 and not rated & set(top["movie_id"])
    assert top["title"].notna().all()
    rec.save(tmp_path / "model")
    again = Recommender.load(tmp_path / "model")
    np.testing.assert_array_equal(again.predict(test.head(100)), rec.predict(test.head(100)))
