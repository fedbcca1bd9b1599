import numpy as np
import pytest

from movierec.analysis import movie_embeddings, user_embeddings, vector_columns, vector_matrix
from movierec.errors import NotFittedError
from movierec.recommender import Recommender


def test_movie_frame_joins_metadata_and_counts(fitted, tiny_data):
    movies = movie_embeddings(fitted)
    assert list(movies["movie_id"]) == list(fitted.movie_ids.ids)
    counts = tiny_data.ratings["movie_id"].value_counts()
    assert (movies["n_ratings"].to_numpy() == counts.reindex(movies["movie_id"]).to_numpy()).all()
    expected_titles = [f"Movie {m}" for m in movies["movie_id"]]
    assert list(movies["title"]) == expected_titles
    assert list(movies["main_genre"]) == [g[0] for g in movies["genres"]]
    assert vector_columns(movies) == [f"d{i}" for i in range(8)]
    raw = fitted.embeddings("movie")
    np.testing.assert_allclose(vector_matrix(movies), raw[vector_columns(raw)].to_numpy())


def test_user_frame_joins_demographics(fitted, tiny_data):
    users = user_embeddings(fitted, tiny_data.users)
    by_id = tiny_data.users.set_index("user_id")
    assert (users["age"].to_numpy() == by_id.loc[users["user_id"], "age"].to_numpy()).all()
    assert set(users["gender"]) == {"M", "F"}
    assert users["n_ratings"].sum() == len(tiny_data.ratings)
    assert vector_matrix(users).shape == (len(fitted.user_ids), 8)


def test_missing_metadata_becomes_nan(fitted, tiny_data):
    users = user_embeddings(fitted, tiny_data.users.iloc[1:])
    assert users["age"].isna().sum() == 1


def test_unfitted_model_is_a_clear_error():
    with pytest.raises(NotFittedError):
        movie_embeddings(Recommender(progress=False))


def test_saved_model_keeps_genres(fitted, tmp_path):
    loaded = movie_embeddings(Recommender.load(fitted.save(tmp_path / "model")))
    assert list(loaded["main_genre"]) == list(movie_embeddings(fitted)["main_genre"])
