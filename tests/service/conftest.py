"""Fixtures for the service tests: a tiny saved model, an app on it, the real ml-100k model."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from fastapi.testclient import TestClient

from movierec import Recommender
from movierec.service.app import create_app
from movierec.service.settings import ServiceSettings

GENRES = ("Comedy", "Drama", "Sci-Fi", "Horror")
SPECIAL_TITLES = {0: "Misérables, Les", 1: "Star Wars", 2: "Café au Lait", 3: "Star Trek"}


def tiny_movies(movie_ids: list[int]) -> pd.DataFrame:
    """Titles (a few with accents), years 1950.. and one or two genres per movie."""
    return pd.DataFrame({
        "movie_id": movie_ids,
        "title": [SPECIAL_TITLES.get(i, f"Movie {m}") for i, m in enumerate(movie_ids)],
        "year": pd.array([1950 + i for i in range(len(movie_ids))], dtype="Int64"),
        "genres": [[GENRES[i % 4]] + ([GENRES[(i + 1) % 4]] if i % 3 == 0 else [])
                   for i in range(len(movie_ids))],
    })


@pytest.fixture(scope="session")
def fit_tiny(ratings_factory):
    """`fit_tiny(preset, **options)`: a Recommender fitted on the generated ratings and
    `tiny_movies`."""

    def fit(preset: str, **options: object) -> Recommender:
        ratings = ratings_factory()
        movies = tiny_movies(sorted(ratings["movie_id"].unique().tolist()))
        return Recommender(preset, progress=False, **options).fit(ratings, movies=movies)

    return fit


@pytest.fixture(scope="session")
def tiny_model_dir(fit_tiny, tmp_path_factory) -> Path:
    rec = fit_tiny("biased-mf", dim=8, epochs=10)
    return rec.save(tmp_path_factory.mktemp("tiny") / "model")


@pytest.fixture
def settings(tiny_model_dir, tmp_path) -> ServiceSettings:
    return ServiceSettings(tiny_model_dir, database_url=f"sqlite:///{tmp_path / 'profiles.db'}")


@pytest.fixture
def client(settings) -> TestClient:
    with TestClient(create_app(settings)) as test_client:
        yield test_client


@pytest.fixture
def ml100k_model_dir(ml100k_dir, tmp_path) -> Path:
    """biased-mf trained on all of ml-100k (a few seconds); skips when the data is absent."""
    from movierec.data import load_movielens

    data = load_movielens("ml-100k", ml100k_dir)
    rec = Recommender("biased-mf", progress=False).fit(data.ratings, movies=data.movies)
    return rec.save(tmp_path / "model")
