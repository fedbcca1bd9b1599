"""`GuardedRecommender`: one loaded Recommender shared by request threads, behind a lock.

Fold-in grows the model's user tables and id map in place; the lock makes every read see
the model either before or after a fold-in, never halfway through one.
"""

from __future__ import annotations

import threading

import numpy as np
import pandas as pd
import torch

from movierec.errors import ConfigError, UnknownIdError
from movierec.recommender import Recommender
from movierec.service.catalog import MovieCatalog

# Model user ids of service profiles: far above any MovieLens user id, so they never collide.
PROFILE_USER_BASE = 1 << 40


def profile_user_id(profile_id: int) -> int:
    return PROFILE_USER_BASE + profile_id


class GuardedRecommender:
    """Thread-safe reads and fold-ins over one Recommender, answers as plain dicts."""

    def __init__(self, rec: Recommender) -> None:
        self.rec = rec
        self.catalog = MovieCatalog(rec)
        self.lock = threading.Lock()
        low, high = rec.model.rating_range
        self.rating_range = (float(low), float(high))
        vectors = rec.embeddings("movie").filter(regex=r"^d\d+$").to_numpy(np.float32)
        norms = np.linalg.norm(vectors, axis=1, keepdims=True)
        self._unit_vectors = vectors / np.where(norms > 0, norms, 1.0)
        self._movie_row = {int(m): i for i, m in enumerate(rec.movie_ids.ids)}
        # The first optimizer torch builds imports torch._dynamo (seconds); pay that at start-up,
        # not on the first profile write.
        torch.optim.Adam([torch.zeros(1, requires_grad=True)])

    # ------------------------------------------------------------------ checks
    def check_rating(self, rating: float) -> None:
        low, high = self.rating_range
        if not low <= rating <= high:
            raise ConfigError(f"rating {rating:g} is outside the model's scale {low:g}..{high:g}")

    def check_user(self, user_id: int) -> None:
        if user_id >= PROFILE_USER_BASE or user_id not in self.rec.user_ids:
            raise UnknownIdError(f"user {user_id} is not known to the model")

    # ------------------------------------------------------------------ reads
    def recommend(self, user_id: int, k: int, genre: str | None = None) -> list[dict]:
        self.check_user(user_id)
        candidates = self.catalog.with_genre(genre) if genre else None
        with self.lock:
            frame = self.rec.recommend(user_id, k, candidates=candidates)
        return self._movies(frame)

    def predict(self, user_id: int, movie_id: int) -> float:
        self.check_user(user_id)
        self.catalog.require(movie_id)
        pair = pd.DataFrame({"user_id": [user_id], "movie_id": [movie_id]})
        with self.lock:
            return float(self.rec.predict(pair, strict=True)[0])

    def similar_movies(self, movie_id: int, k: int) -> list[dict]:
        self.catalog.require(movie_id)
        with self.lock:
            frame = self.rec.similar_movies(movie_id, k)
        return self._movies(frame)

    def users_for_movie(self, movie_id: int, k: int) -> list[dict]:
        """Training users (never service profiles) most likely to rate the movie highly."""
        self.catalog.require(movie_id)
        with self.lock:
            extra = len(self.rec.user_ids) - int((self.rec.user_ids.ids < PROFILE_USER_BASE).sum())
            frame = self.rec.users_for_movie(movie_id, k + extra)
        frame = frame[frame["user_id"] < PROFILE_USER_BASE].head(k)
        return [{"user_id": int(u), "score": float(s)}
                for u, s in zip(frame["user_id"], frame["score"], strict=True)]

    def movie_scores(self, user_id: int) -> pd.Series:
        with self.lock:
            return self.rec.movie_scores(user_id)

    def closest_rated(self, movie_ids: list[int], rated: list[int]) -> list[int]:
        """For each movie, the rated movie with the most similar embedding (cosine)."""
        targets = self._unit_vectors[[self._movie_row[m] for m in movie_ids]]
        sources = self._unit_vectors[[self._movie_row[m] for m in rated]]
        best = (targets @ sources.T).argmax(axis=1)
        return [rated[i] for i in best]

    # ------------------------------------------------------------------ writes
    def fold_in(self, ratings: dict[int, dict[int, float]], epochs: int) -> None:
        """Fit these profiles' rows ({profile_id: {movie_id: rating}}), all else frozen."""
        rows = [(profile_user_id(p), m, r) for p, rated in ratings.items()
                for m, r in rated.items()]
        if not rows:
            return
        users, movies, values = zip(*rows, strict=True)
        frame = pd.DataFrame({"user_id": np.array(users, np.int64),
                              "movie_id": np.array(movies, np.int64),
                              "rating": np.array(values, np.float32),
                              "timestamp": np.zeros(len(rows), np.int64)})
        with self.lock:
            self.rec.fold_in(frame, epochs=epochs)

    def _movies(self, frame: pd.DataFrame) -> list[dict]:
        return [{"movie_id": int(m), "title": self.catalog.title(int(m)), "score": float(s)}
                for m, s in zip(frame["movie_id"], frame["score"], strict=True)]
