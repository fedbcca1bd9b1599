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
        self.mean_ = float(ratings["rating"].mean())
        residual = ratings["rating"].astype(np.float64) - self.mean_
        self.movie_bias_ = self._damped_mean(residual, ratings["movie_id"], self.movie_damping)
        residual = residual - ratings["movie_id"].map(self.movie_bias_).to_numpy()
        self.user_bias_ = self._damped_mean(residual, ratings["user_id"], self.user_damping)
        return self

    @staticmethod
    def _damped_mean(values: pd.Series, keys: pd.Series, damping: float) -> pd.Series:
        grouped = values.groupby(keys.to_numpy())
        return grouped.sum() / (grouped.count() + damping)

    def predict(self, pairs: pd.DataFrame) -> np.ndarray:
        if not hasattr(self, "mean_"):
            raise NotFittedError("DampedBias.predict called before fit")
        movie = pairs["movie_id"].map(self.movie_bias_).fillna(0.0).to_numpy()
        user = pairs["user_id"].map(self.user_bias_).fillna(0.0).to_numpy()
        return (self.mean_ + movie + user).astype(np.float32)
