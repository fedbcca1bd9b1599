"""The facade's contract: raw ids, input order, unknown-id rule, seen exclusion, save/load."""

import time

import numpy as np
import pandas as pd
import pytest
import torch

from movierec import Recommender
from movierec.errors import ConfigError, DataFormatError, NotFittedError, UnknownIdError
from movierec.evaluate import rmse


def fitted(ratings, model="biased-mf", **options):
    options.setdefault("epochs", 30)
    return Recommender(model, progress=False, **options).fit(ratings)


@pytest.fixture(scope="module")
def ratings(ratings_factory):
    return ratings_factory(n_users=80, n_movies=50, density=0.6, seed=1)


@pytest.fixture(scope="module")
def rec(ratings):
    movies = pd.DataFrame({"movie_id": np.sort(ratings["movie_id"].unique())})
    movies["title"] = [f"Movie {i}" for i in movies["movie_id"]]
    return Recommender("biased-mf", progress=False, epochs=30).fit(ratings, movies=movies)


def test_fit_learns_better_than_global_mean(rec, ratings):
    predicted = rec.predict(ratings)
    assert rmse(predicted, ratings["rating"]) < ratings["rating"].std() * 0.8


def test_predict_keeps_input_order(rec, ratings):
    pairs = ratings[["user_id", "movie_id"]].iloc[:20]
    forward = rec.predict(pairs)
    backward = rec.predict(pairs.iloc[::-1])
    np.testing.assert_array_equal(forward, backward[::-1])
    single = [rec.predict(pairs.iloc[[i]])[0] for i in range(3)]
    np.testing.assert_allclose(forward[:3], single, rtol=1e-6)


def test_unknown_ids_get_the_damped_bias_fallback(rec, ratings):
    pairs = pd.DataFrame({"user_id": [10_000, 1], "movie_id": [7, 99_999]})
    predicted = rec.predict(pairs)
    expected = rec.fallback.predict(pairs)
    np.testing.assert_allclose(predicted, np.clip(expected, 1, 5), rtol=1e-6)
    with pytest.raises(UnknownIdError, match="10000"):
        rec.predict(pairs, strict=True)


def test_recommend_excludes_seen_and_is_sorted(rec, ratings):
    top = rec.recommend(1, k=5)
    rated = set(ratings.loc[ratings["user_id"] == 1, "movie_id"])
    assert len(top) == 5 and not rated & set(top["movie_id"])
    assert list(top["score"]) == sorted(top["score"], reverse=True)
    assert top["title"].str.startswith("Movie").all()
    with_seen = rec.recommend(1, k=50, exclude_seen=False)
    assert len(with_seen) == 50 and rated <= set(with_seen["movie_id"])


def test_recommend_scores_match_predict(rec):
    top = rec.recommend(2, k=3)
    again = rec.predict(pd.DataFrame({"user_id": [2] * 3, "movie_id": top["movie_id"]}))
    np.testing.assert_allclose(top["score"], again, rtol=1e-5)


def test_recommend_unknown_user(rec):
    with pytest.raises(UnknownIdError, match="user 424242"):
        rec.recommend(424242)
    popular = rec.recommend(424242, k=3, unknown="popular")
    counts = np.asarray(rec.seen.matrix.sum(axis=0)).ravel()
    assert set(popular["score"]) <= set(counts.astype(np.float32))
    assert popular["score"].iloc[0] == counts.max()


def test_similar_movies_excludes_itself_and_ranks_by_cosine(rec):
    similar = rec.similar_movies(7, k=4)
    assert 7 not in set(similar["movie_id"]) and len(similar) == 4
    vectors = rec.embeddings("movie").set_index("movie_id").filter(like="d")
    unit = vectors.div(np.linalg.norm(vectors, axis=1), axis=0)
    cosine = unit.drop(index=7) @ unit.loc[7]
    assert list(similar["movie_id"]) == list(cosine.sort_values(ascending=False).index[:4])


def test_users_for_movie_excludes_raters(rec, ratings):
    users = rec.users_for_movie(7, k=5)
    raters = set(ratings.loc[ratings["movie_id"] == 7, "user_id"])
    assert len(users) == 5 and not raters & set(users["user_id"])
    assert list(users["score"]) == sorted(users["score"], reverse=True)


def test_embeddings_frames(rec, ratings):
    users = rec.embeddings("user")
    assert list(users["user_id"]) == sorted(ratings["user_id"].unique())
    with pytest.raises(ConfigError):
        rec.embeddings("genre")


def test_fold_in_trains_only_new_rows(ratings):
    rec = fitted(ratings)
    before = {k: v.clone() for k, v in rec.model.state_dict().items()}
    old_users = len(rec.user_ids)
    liked = ratings[ratings["user_id"] == 3].assign(user_id=5000).head(10)
    start = time.perf_counter()
    assert rec.fold_in(liked) == [5000]
    top = rec.recommend(5000, k=10)
    assert time.perf_counter() - start < 1.0
    assert not set(liked["movie_id"]) & set(top["movie_id"])
    after = rec.model.state_dict()
    for name, old in before.items():
        new = after[name]
        if new.dim() and new.shape[0] == old_users + 1 and old.shape[0] == old_users:
            assert torch.equal(new[:old_users], old), name
        else:
            assert torch.equal(new, old), name
    predicted = rec.predict(liked)
    assert rmse(predicted, liked["rating"]) < rmse(np.full(10, liked["rating"].mean()),
                                                   liked["rating"]) + 0.3


def test_fold_in_rejects_unknown_movies(rec):
    with pytest.raises(UnknownIdError, match="123456"):
        rec.fold_in(pd.DataFrame({"user_id": [9], "movie_id": [123456], "rating": [4.0],
                                  "timestamp": [0]}))


def test_partial_retraining_keeps_other_parts(ratings):
    rec = fitted(ratings, epochs=5)
    parts = rec.model.parts()
    frozen = {k: v.clone() for k, v in parts["user"].state_dict().items()}
    rec.fit(ratings.head(200), train_parts=["movie"])
    for name, value in parts["user"].state_dict().items():
        assert torch.equal(value, frozen[name]), name


def test_save_load_gives_identical_predictions(rec, ratings, tmp_path):
    rec.save(tmp_path / "model")
    loaded = Recommender.load(tmp_path / "model")
    np.testing.assert_array_equal(loaded.predict(ratings), rec.predict(ratings))
    pd.testing.assert_frame_equal(loaded.recommend(4, k=5), rec.recommend(4, k=5))
    unknown = pd.DataFrame({"user_id": [10_000], "movie_id": [7]})
    np.testing.assert_array_equal(loaded.predict(unknown), rec.predict(unknown))
    assert (tmp_path / "model" / "weights.safetensors").exists()
    assert not any(p.suffix == ".pkl" for p in (tmp_path / "model").iterdir())


def test_save_over_existing_model_replaces_it(rec, tmp_path):
    rec.save(tmp_path / "m")
    rec.save(tmp_path / "m")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m"]


def test_load_bad_folder_is_clear(tmp_path):
    with pytest.raises(DataFormatError, match=r"config\.json"):
        Recommender.load(tmp_path)


def test_unfitted_and_bad_options_are_clear():
    with pytest.raises(NotFittedError, match="fit"):
        Recommender().recommend(1)
    with pytest.raises(ConfigError, match="biased-mf"):
        Recommender("no-such-model")


def test_bad_ratings_frame_names_the_column(ratings):
    with pytest.raises(DataFormatError, match="rating"):
        Recommender(progress=False).fit(ratings.drop(columns="rating"))


@pytest.mark.parametrize("kind", ["exact", "hnsw"])
def test_index_backed_recommend_matches_exact_scoring(ratings, kind, tmp_path):
    rec = fitted(ratings)
    expected = rec.recommend(5, k=8)
    rec.build_index(kind)
    from_index = rec.recommend(5, k=8)
    assert list(from_index["movie_id"]) == list(expected["movie_id"])
    np.testing.assert_allclose(from_index["score"], expected["score"], rtol=1e-5)
    rec.save(tmp_path / "m")
    loaded = Recommender.load(tmp_path / "m")
    assert loaded.index is not None and loaded.index.kind == kind
    pd.testing.assert_frame_equal(loaded.recommend(5, k=8), from_index)


def test_index_needs_a_dot_model(ratings):
    rec = fitted(ratings, model="mlp-tiny", epochs=1)
    with pytest.raises(ConfigError, match="dot product"):
        rec.build_index()
