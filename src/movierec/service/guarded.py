"""`GuardedRecommender`: one loaded Recommender shared by the event loop and request threads.

Fold-in grows the model's user tables and id map in place; a lock makes every locked read
see the model either before or after a fold-in, never halfway through one. Reads that never
touch a profile (known users, movie neighbours) are answered from copies of the parts that
serving never changes, without the lock and on the event loop.
"""

from __future__ import annotations

import threading

import numpy as np
import pandas as pd
import torch
from starlette.concurrency import run_in_threadpool

from movierec.errors import ConfigError, UnknownIdError
from movierec.recommender import Recommender
from movierec.service.catalog import MovieCatalog
from movierec.service.known_users import KnownUserScorer
from movierec.service.neighbours import MovieNeighbours

# Model user ids of service profiles: far above any MovieLens user id, so they never collide.
PROFILE_USER_BASE = 1 << 40


def profile_user_id(profile_id: int) -> int:
    return PROFILE_USER_BASE + profile_id


class GuardedRecommender:
    """Thread-safe reads and fold-ins over one Recommender, answers as plain dicts.

    Build it before any profile is folded in: the users it finds are the known users.
    """

    def __init__(self, rec: Recommender) -> None:
        self.rec = rec
        self.catalog = MovieCatalog(rec)
        self.lock = threading.Lock()
        low, high = rec.model.rating_range
        self.rating_range = (float(low), float(high))
        self._user_row = {int(u): i for i, u in enumerate(rec.user_ids.ids)
                          if u < PROFILE_USER_BASE}
        self.neighbours = MovieNeighbours(rec)
        self.scorer = KnownUserScorer.for_model(rec, len(self._user_row))
        # The first optimizer torch builds imports torch._dynamo (seconds); pay that at start-up,
        # not on the first profile write.
        torch.optim.Adam([torch.zeros(1, requires_grad=True)])

    # ------------------------------------------------------------------ checks
    def check_rating(self, rating: float) -> None:
        low, high = self.rating_range
        if not low <= rating <= high:
            raise ConfigError(f"rating {rating:g} is outside the model's scale {low:g}..{high:g}")

    def user_row(self, user_id: int) -> int:
        """A known (training) user's model row; UnknownIdError otherwise."""
        row = self._user_row.get(user_id)
        if row is None:
            raise UnknownIdError(f"user {user_id} is not known to the model")
        return row

    # ------------------------------------------------------------------ reads
    async def recommend(self, user_id: int, k: int, genre: str | None = None) -> list[dict]:
        """Top-k unseen movies for a known user, optionally of one genre."""
        row = self.user_row(user_id)
        allowed = self.catalog.genre_rows(genre) if genre else None
        if self.scorer is not None:
            return self._movies(*self.scorer.recommend(row, k, allowed))
        return await run_in_threadpool(self._recommend_locked, user_id, k, allowed)

    async def predict(self, user_id: int, movie_id: int) -> float:
        row, movie_row = self.user_row(user_id), self.catalog.row(movie_id)
        if self.scorer is not None:
            return float(self.scorer.ratings(row, np.array([movie_row]))[0])
        return await run_in_threadpool(self._predict_locked, user_id, movie_id)

    def similar_movies(self, movie_id: int, k: int) -> list[dict]:
        return self._movies(*self.neighbours.similar(self.catalog.row(movie_id), k))

    def users_for_movie(self, movie_id: int, k: int) -> list[dict]:
        """Training users (never service profiles) most likely to rate the movie highly."""
        self.catalog.require(movie_id)
        with self.lock:
            extra = len(self.rec.user_ids) - len(self._user_row)
            frame = self.rec.users_for_movie(movie_id, k + extra)
        frame = frame[frame["user_id"] < PROFILE_USER_BASE].head(k)
        return [{"user_id": int(u), "score": float(s)}
                for u, s in zip(frame["user_id"], frame["score"], strict=True)]

    def movie_scores(self, user_id: int) -> pd.Series:
        with self.lock:
            return self.rec.movie_scores(user_id)

    def closest_rated(self, movie_ids: list[int], rated: list[int]) -> list[int]:
        """For each movie, the rated movie with the most similar embedding (cosine)."""
        rows = self.neighbours.closest([self.catalog.row(m) for m in movie_ids],
                                       [self.catalog.row(m) for m in rated])
        return [int(self.rec.movie_ids.ids[r]) for r in rows]

    def _recommend_locked(self, user_id: int, k: int, allowed: np.ndarray | None) -> list[dict]:
        candidates = self.rec.movie_ids.ids[allowed] if allowed is not None else None
        with self.lock:
            frame = self.rec.recommend(user_id, k, candidates=candidates)
        rows = self.rec.movie_ids.to_index(frame["movie_id"].to_numpy())
        return self._movies(rows, frame["score"].to_numpy())

    def _predict_locked(self, user_id: int, movie_id: int) -> float:
        pair = pd.DataFrame({"user_id": [user_id], "movie_id": [movie_id]})
        with self.lock:
            return float(self.rec.predict(pair, strict=True)[0])

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

    def _movies(self, rows: np.ndarray, scores: np.ndarray) -> list[dict]:
        ids = self.rec.movie_ids.ids
        return [{"movie_id": int(ids[r]), "title": self.catalog.title(int(ids[r])),
                 "score": float(s)} for r, s in zip(rows.tolist(), scores.tolist(), strict=True)]
