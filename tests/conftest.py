"""Shared fixtures: seeded synthetic ratings and the real MovieLens files when present."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch

REPO_ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = Path(os.environ.get("MOVIEREC_SHARED_DATA", REPO_ROOT.parent / "shared" / "data"))


def real_data_dir(name: str) -> Path:
    """Folder of a real MovieLens variant under ../shared/data, or skip the test."""
    folder = SHARED_DATA / name
    if not folder.is_dir():
        pytest.skip(f"real data {folder} not present")
    return folder


@pytest.fixture
def ml100k_dir() -> Path:
    return real_data_dir("ml-100k")


@pytest.fixture
def ml_latest_small_dir() -> Path:
    return real_data_dir("ml-latest-small")


def make_ratings(n_users: int = 60, n_movies: int = 40, density: float = 0.5,
                 dim: int = 3, seed: int = 0) -> pd.DataFrame:
    """Canonical ratings from a low-rank model, rounded to 1..5, so models can learn them."""
    rng = np.random.default_rng(seed)
    u = rng.normal(size=(n_users, dim))
    m = rng.normal(size=(n_movies, dim))
    raw = 3.0 + u @ m.T / np.sqrt(dim) + rng.normal(scale=0.3, size=(n_users, n_movies))
    mask = rng.random((n_users, n_movies)) < density
    users, movies = np.nonzero(mask)
    return pd.DataFrame({
        "user_id": (users + 1).astype("int64"),
        "movie_id": (movies * 10 + 7).astype("int64"),  # raw ids deliberately non-contiguous
        "rating": np.clip(np.rint(raw[users, movies]), 1, 5).astype("float32"),
        "timestamp": rng.integers(8e8, 9e8, size=len(users)).astype("int64"),
    })


@pytest.fixture
def synthetic_ratings() -> pd.DataFrame:
    return make_ratings()


@pytest.fixture(scope="session")
def ratings_factory():
    """`make_ratings` as a fixture, for module-scoped fixtures that build their own data."""
    return make_ratings


@pytest.fixture(scope="module")
def one_torch_thread():
    """torch on one thread for a module (small models: threads only add overhead and
    run-to-run noise), restored afterwards."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)
