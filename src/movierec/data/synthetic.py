"""Synthetic ratings with MovieLens-like structure, for tests and benchmarks."""

from __future__ import annotations

import numpy as np
import pandas as pd

from movierec.errors import ConfigError


def make_synthetic_ratings(n_users: int, n_movies: int, n_ratings: int, dim: int = 8,
                           seed: int = 0) -> pd.DataFrame:
    """Canonical ratings: long-tail user activity and movie popularity, low-rank 1..5 stars.

    Each (user, movie) pair occurs at most once; ids are 1..n_users and 1..n_movies.
    """
    cells = n_users * n_movies
    if min(n_users, n_movies, n_ratings) < 1 or n_ratings > cells:
        raise ConfigError(f"need 1 <= n_ratings <= n_users * n_movies = {cells}, "
                          f"got {n_ratings} ratings for {n_users} users x {n_movies} movies")
    rng = np.random.default_rng(seed)
    user_w = rng.lognormal(0.0, 1.0, n_users)
    movie_w = rng.permutation(1.0 / (np.arange(n_movies) + 10.0) ** 1.1)  # Zipf-like tail
    user_p, movie_p = user_w / user_w.sum(), movie_w / movie_w.sum()
    if n_ratings > cells // 2:  # dense: draw cells without replacement from the full grid
        keys = rng.choice(cells, size=n_ratings, replace=False,
                          p=np.outer(user_p, movie_p).ravel())
    else:  # sparse: draw with replacement, drop repeats, top up until there are enough
        keys = np.zeros(0, dtype=np.int64)
        while len(keys) < n_ratings:
            k = 2 * (n_ratings - len(keys)) + 64
            draw = rng.choice(n_users, k, p=user_p) * n_movies + rng.choice(n_movies, k, p=movie_p)
            keys = pd.unique(np.concatenate([keys, draw]))
        keys = keys[:n_ratings]
    users, movies = np.divmod(np.sort(keys), n_movies)
    u = rng.normal(size=(n_users, dim))
    v = rng.normal(size=(n_movies, dim))
    bias = 3.5 + rng.normal(0, 0.4, n_users)[users] + rng.normal(0, 0.5, n_movies)[movies]
    raw = bias + (u[users] * v[movies]).sum(1) / np.sqrt(dim) + rng.normal(0, 0.5, len(keys))
    return pd.DataFrame({
        "user_id": (users + 1).astype(np.int64),
        "movie_id": (movies + 1).astype(np.int64),
        "rating": np.clip(np.rint(raw), 1, 5).astype(np.float32),
        "timestamp": rng.integers(946_684_800, 1_700_000_000, len(keys), dtype=np.int64),
    })
