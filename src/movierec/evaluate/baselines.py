"""Non-neural rating baselines every model must beat: the global mean and damped biases."""

from __future__ import annotations

import numpy as np
import pandas as pd

from movierec.errors import NotFittedError


class GlobalMean:
    """Predicts the training mean rating for every pair."""

    name = "global-mean"

    def fit(self, ratings: pd.DataFrame) -> GlobalMean:
        self.mean_ = float(ratings["rating"].mean())
        return self

    def predict(self, pairs: pd.DataFrame) -> np.ndarray:
        if not hasattr(self, "mean_"):
            raise NotFittedError("GlobalMean.predict called before fit")
        return np.full(len(pairs), self.mean_, dtype=np.float32)


class DampedBias:
    """Global mean + movie bias + user bias, each shrunk toward 0 by a damping count.

    b_movie = sum(r - mean) / (n_movie + movie_damping); b_user is then fitted on the
    residual r - mean - b_movie the same way. Unknown users or movies get bias 0.
    """

    name = "damped-bias"

    def __init__(self, user_damping: float = 5.0, movie_damping: float = 5.0) -> None:
        self.user_damping = user_damping
        self.movie_damping = movie_damping

    def fit(self, ratings: pd.DataFrame) -> DampedBias:
        users, user_ids = pd.factorize(ratings["user_id"].to_numpy(), sort=True)
        movies, movie_ids = pd.factorize(ratings["movie_id"].to_numpy(), sort=True)
        return self.fit_indexed(users, movies, ratings["rating"].to_numpy(), user_ids,
                                movie_ids)

    def fit_indexed(self, users: np.ndarray, movies: np.ndarray, ratings: np.ndarray,
                    user_ids: np.ndarray, movie_ids: np.ndarray) -> DampedBias:
        """Fit from index columns (`users[i]` a position in the raw `user_ids`): sums by
        bincount in blocks of rows, so tens of millions of ratings need no frame or copy."""
        self.mean_ = float(np.sum(ratings, dtype=np.float64) / len(ratings))
        movie_sum, movie_count = _sums_by(movies, len(movie_ids), ratings, self.mean_)
        movie_bias = movie_sum / (movie_count + self.movie_damping)
        user_sum, user_count = _sums_by(users, len(user_ids), ratings, self.mean_,
                                        movies, movie_bias)
        rated = movie_count > 0
        self.movie_bias_ = pd.Series(movie_bias[rated], index=np.asarray(movie_ids)[rated])
        rated = user_count > 0
        self.user_bias_ = pd.Series((user_sum / (user_count + self.user_damping))[rated],
                                    index=np.asarray(user_ids)[rated])
        return self

    def predict(self, pairs: pd.DataFrame) -> np.ndarray:
        if not hasattr(self, "mean_"):
            raise NotFittedError("DampedBias.predict called before fit")
        movie = pairs["movie_id"].map(self.movie_bias_).fillna(0.0).to_numpy()
        user = pairs["user_id"].map(self.user_bias_).fillna(0.0).to_numpy()
        return (self.mean_ + movie + user).astype(np.float32)


def _sums_by(keys: np.ndarray, n: int, ratings: np.ndarray, mean: float,
             other: np.ndarray | None = None, other_bias: np.ndarray | None = None,
             block: int = 1 << 22) -> tuple[np.ndarray, np.ndarray]:
    """(sum of r - mean [- other_bias[other]], count) per key 0..n-1, a block at a time."""
    sums, counts = np.zeros(n), np.zeros(n)
    for start in range(0, len(keys), block):
        part = slice(start, start + block)
        residual = ratings[part].astype(np.float64) - mean
        if other is not None:
            residual -= other_bias[other[part]]
        sums += np.bincount(keys[part], weights=residual, minlength=n)
        counts += np.bincount(keys[part], minlength=n)
    return sums, counts
