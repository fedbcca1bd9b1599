"""Synthetic inputs for the analysis tests: a small fitted model, movies with genres, users."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from movierec import Recommender
from movierec.data import MovieLensData

GENRES = ["Action", "Comedy", "Drama", "Horror", "Romance"]


def tiny_movies(movie_ids: np.ndarray) -> pd.DataFrame:
    """Titles "Movie <id>"; genre i % 4, plus Romance for every third movie."""
    genres = [[GENRES[i % 4], *(["Romance"] if i % 3 == 0 else [])]
              for i in range(len(movie_ids))]
    return pd.DataFrame({"movie_id": movie_ids, "title": [f"Movie {m}" for m in movie_ids],
                         "year": pd.array([1990 + i % 10 for i in range(len(movie_ids))],
                                          dtype="Int64"),
                         "genres": genres})


def tiny_users(user_ids: np.ndarray) -> pd.DataFrame:
    return pd.DataFrame({"user_id": user_ids, "age": 18 + (user_ids * 7) % 50,
                         "gender": ["MF"[u % 2] for u in user_ids], "occupation": "writer",
                         "zip_code": "00000"})


@pytest.fixture(scope="package")
def tiny_data(ratings_factory) -> MovieLensData:
    ratings = ratings_factory(n_users=40, n_movies=30, density=0.6, seed=5)
    return MovieLensData("ml-100k", ratings, tiny_movies(np.sort(ratings["movie_id"].unique())),
                         tiny_users(np.sort(ratings["user_id"].unique())), "synthetic")


@pytest.fixture(scope="package")
def fitted(tiny_data) -> Recommender:
    return Recommender("biased-mf", progress=False, epochs=5, dim=8).fit(
        tiny_data.ratings, movies=tiny_data.movies)


@pytest.fixture(scope="package")
def unbiased(tiny_data) -> Recommender:
    """A model without movie biases, with 2-d embeddings (the Keras tutorial's mlp-tiny)."""
    return Recommender("mlp-tiny", progress=False, epochs=2).fit(tiny_data.ratings,
                                                                  movies=tiny_data.movies)
