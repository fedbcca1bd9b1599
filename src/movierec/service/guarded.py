"""`GuardedRecommender`: one loaded Recommender shared by the event loop and request threads.

Fold-in grows the model's user tables and id map in place; a lock makes every locked read
see the model either before or after a fold-in, never halfway through one. Reads that never
touch a profile (known users, movie neighbours) are answered from copies of the parts that
serving never changes, without the lock and on the event loop.

Any preset can be served: the lists come from its ranker, the stars beside them from its
rater (`Recommender.roles()`); a model without a rater answers lists without stars, and
refuses a predicted rating with a 409.
"""

from __future__ import annotations

import json
import math
import threading

import numpy as np
import pandas as pd
import torch
from starlette.concurrency import run_in_threadpool

from movierec.errors import ConfigError, UnknownIdError
from movierec.recommender import Recommender
from movierec.service.catalog import MovieCatalog
from movierec.service.errors import ModelCannot
from movierec.service.known_users import KnownUserScorer
from movierec.service.neighbours import movie_neighbours
from movierec.service.top_lists import KnownUserLists

# Model user ids of service profiles: far above any MovieLens user id, so they never collide.
PROFILE_USER_BASE = 1 << 40


def profile_user_id(profile_id: int) -> int:
    return PROFILE_USER_BASE + profile_id


class GuardedRecommender:
    """Thread-safe reads and fold-ins over one Recommender, answers as plain dicts.

    Build it before any profile is folded in: the users it finds are the known users.
    Known users' lists come from the numpy copy of a factorisation model when there is one
    (it also answers predicted ratings), else from the lists computed at start-up (overall
    and per genre).
    """

    def __init__(self, rec: Recommender) -> None:
        self.rec = rec
        self.catalog = MovieCatalog(rec)
        self.lock = threading.Lock()
        low, high = rec.model.rating_range
        self.rating_range = (float(low), float(high))
        roles = rec.roles()
        self.ranker, self.rater = roles["ranker"], roles["rater"]
        self._user_row = {int(u): i for i, u in enumerate(rec.user_ids.ids)
                          if u < PROFILE_USER_BASE}
        self.neighbours = movie_neighbours(rec, self.lock)
        self.scorer = KnownUserScorer.for_model(rec, len(self._user_row))
        genres = {g: self.catalog.genre_rows(g) for g in self.catalog.genres}
        self.lists = (KnownUserLists(rec, len(self._user_row), genres) if self.scorer is None
                      else None)
        # The first optimizer torch builds imports torch._dynamo (seconds); pay that at start-up,
        # not on the first profile write.
        torch.optim.Adam([torch.zeros(1, requires_grad=True)])

    @property
    def folds_in(self) -> bool:
        return self.rec.model.supports_fold_in

    # ------------------------------------------------------------------ checks
    def check_rating(self, rating: float) -> None:
        """ConfigError (422) naming the value and the scale when `rating` is off the model's
        scale; NaN and Infinity are off every scale."""
        low, high = self.rating_range
        if not (math.isfinite(rating) and low <= rating <= high):
            raise ConfigError(f"rating {json.dumps(rating)} is outside the model's scale "
                              f"{low:g}..{high:g}")

    def require_fold_in(self) -> None:
        """ModelCannot (409) when the served preset cannot take new people's ratings."""
        if not self.folds_in:
            raise ModelCannot(
                f"this service's model (preset {self.rec.preset!r}) cannot fold in new "
                "people's ratings: it trains as a whole, so it takes no profiles; serve a "
                "preset that folds in (e.g. 'ease' or 'biased-mf') for profiles")

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
            rows, ratings = self.scorer.recommend(row, k, allowed)
            return self._movies(rows, ratings, ratings)
        found = self.lists.recommend(row, k, genre)
        if found is not None:
            return self._movies(*found)
        return await run_in_threadpool(self._recommend_locked, user_id, k, allowed)

    async def predict(self, user_id: int, movie_id: int) -> float:
        row, movie_row = self.user_row(user_id), self.catalog.row(movie_id)
        if self.rater is None:
            raise ModelCannot(f"this service's model (preset {self.rec.preset!r}) ranks "
                              "movies but predicts no ratings; serve a preset with a rater "
                              "for predicted ratings")
        if self.scorer is not None:
            return float(self.scorer.ratings(row, np.array([movie_row]))[0])
        return await run_in_threadpool(self._predict_locked, user_id, movie_id)

    async def similar_movies(self, movie_id: int, k: int) -> list[dict]:
        row = self.catalog.row(movie_id)
        if self.neighbours.blocks:
            return self._movies(*await run_in_threadpool(self.neighbours.similar, row, k))
        return self._movies(*self.neighbours.similar(row, k))

    def users_for_movie(self, movie_id: int, k: int) -> list[dict]:
        """Training users (never service profiles) the ranker scores highest for the movie."""
        self.catalog.require(movie_id)
        with self.lock:
            extra = len(self.rec.user_ids) - len(self._user_row)
            frame = self.rec.users_for_movie(movie_id, k + extra)
        frame = frame[frame["user_id"] < PROFILE_USER_BASE].head(k)
        return [{"user_id": int(u), "score": float(s)}
                for u, s in zip(frame["user_id"], frame["score"], strict=True)]

    def movie_scores(self, user_id: int) -> pd.Series | None:
        """The ranker's score of every movie for a model user; None when the model does
        not hold that user (a profile it could not fold in)."""
        with self.lock:
            if user_id not in self.rec.user_ids:
                return None
            return self.rec.movie_scores(user_id)

    def predicted_ratings(self, user_id: int, movie_ids: list[int]) -> list[float] | None:
        """The rater's predictions of these movies for a model user; None without a rater
        or when the model does not hold the user."""
        if self.rater is None or not movie_ids:
            return None
        pairs = pd.DataFrame({"user_id": [user_id] * len(movie_ids), "movie_id": movie_ids})
        with self.lock:
            if user_id not in self.rec.user_ids:
                return None
            return self.rec.predict(pairs, strict=True).tolist()

    def closest_rated(self, movie_ids: list[int], rated: list[int]) -> list[int]:
        """For each movie, the rated movie most similar to it (as the model sees it)."""
        rows = self.neighbours.closest([self.catalog.row(m) for m in movie_ids],
                                       [self.catalog.row(m) for m in rated])
        return [int(self.rec.movie_ids.ids[r]) for r in rows]

    def _recommend_locked(self, user_id: int, k: int, allowed: np.ndarray | None) -> list[dict]:
        candidates = self.rec.movie_ids.ids[allowed] if allowed is not None else None
        with self.lock:
            frame = self.rec.recommend(user_id, k, candidates=candidates)
        rows = self.rec.movie_ids.to_index(frame["movie_id"].to_numpy())
        ratings = self.predicted_ratings(user_id, frame["movie_id"].tolist())
        return self._movies(rows, frame["score"].to_numpy(),
                            None if ratings is None else np.array(ratings))

    def _predict_locked(self, user_id: int, movie_id: int) -> float:
        pair = pd.DataFrame({"user_id": [user_id], "movie_id": [movie_id]})
        with self.lock:
            return float(self.rec.predict(pair, strict=True)[0])

    # ------------------------------------------------------------------ writes
    def fold_in(self, ratings: dict[int, dict[int, float]], epochs: int) -> None:
        """Fold these profiles ({profile_id: {movie_id: rating}}) into the model, all else
        frozen (history rankers store the histories; factorisations train their rows)."""
        rows = [(profile_user_id(p), m, r) for p, rated in ratings.items()
                for m, r in rated.items()]
        if not rows:
            return
        self.require_fold_in()
        users, movies, values = zip(*rows, strict=True)
        frame = pd.DataFrame({"user_id": np.array(users, np.int64),
                              "movie_id": np.array(movies, np.int64),
                              "rating": np.array(values, np.float32),
                              "timestamp": np.zeros(len(rows), np.int64)})
        with self.lock:
            self.rec.fold_in(frame, epochs=epochs)

    def _movies(self, rows: np.ndarray, scores: np.ndarray,
                ratings: np.ndarray | None = None) -> list[dict]:
        """Movie answers; `predicted_rating` is the rater's (None without one)."""
        ids = self.rec.movie_ids.ids
        stars = [None] * len(rows) if ratings is None else ratings.tolist()
        return [{"movie_id": int(ids[r]), "title": self.catalog.title(int(ids[r])),
                 "score": float(s), "predicted_rating": rating}
                for r, s, rating in zip(rows.tolist(), scores.tolist(), stars, strict=True)]
