"""`KnownUserScorer`: top-k and predicted ratings for the model's training users, lock-free.

Serving changes only profile rows (fold-in); training users' vectors, the movie vectors and
the training users' seen movies stay bit-identical. So for matrix-factorisation models a
numpy copy of those, taken at start-up, answers with one small matrix-vector product per
request: no model lock, no torch call overhead, no start-up work or memory beyond the
vectors. The copy is checked against the model's own `score` at start-up; any other model
gets no scorer (the service then answers from `KnownUserLists`, and predicted ratings from
the model under the lock).
"""

from __future__ import annotations

import logging
from collections.abc import Callable

import numpy as np
import torch

from movierec.devices import as_index, model_device, to_numpy
from movierec.errors import ConfigError
from movierec.index import movie_index_vectors, user_query_vectors
from movierec.models import MatrixFactorization
from movierec.recommender import Recommender
from movierec.service.neighbours import best_rows

log = logging.getLogger(__name__)
TOLERANCE = 1e-5  # largest rating difference from the model the copy may show
CHECKED_USERS = 64


class KnownUserScorer:
    """Rank and score movies for the first `n_users` model users (the training users)."""

    def __init__(self, rec: Recommender, n_users: int) -> None:
        model = rec.model
        if not isinstance(model, MatrixFactorization):
            raise ConfigError(f"no numpy copy for a {type(model).__name__}")
        every_user = torch.arange(n_users, device=model_device(model))
        self.queries = user_query_vectors(model, every_user).copy()
        self.items = movie_index_vectors(model).copy()
        self.to_ratings = rating_transform(model)
        seen = rec.seen.matrix
        self.seen_start = seen.indptr[:n_users + 1].copy()
        self.seen_movies = seen.indices[:seen.indptr[n_users]].copy()
        self._check(model, n_users)

    @classmethod
    def for_model(cls, rec: Recommender, n_users: int) -> KnownUserScorer | None:
        """A scorer, or None when this model needs its own scoring code."""
        try:
            return cls(rec, n_users)
        except ConfigError as err:
            log.info("known-user reads go through the model: %s", err)
            return None

    def recommend(self, user_row: int, k: int,
                  allowed: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """(movie rows, predicted ratings) of the user's k best unseen movies, best first;
        `allowed` (a boolean mask over movie rows) restricts the candidates."""
        logits = self.items @ self.queries[user_row]
        logits[self.seen_movies[self.seen_start[user_row]:self.seen_start[user_row + 1]]] = (
            -np.inf)
        if allowed is not None:
            logits[~allowed] = -np.inf
        top = best_rows(logits, k)
        return top, self.to_ratings(logits[top])

    def ratings(self, user_row: int, movie_rows: np.ndarray) -> np.ndarray:
        """Predicted ratings of these movies for the user."""
        return self.to_ratings(self.items[movie_rows] @ self.queries[user_row])

    def _check(self, model: MatrixFactorization, n_users: int) -> None:
        users = np.linspace(0, n_users - 1, min(n_users, CHECKED_USERS)).astype(np.int64)
        with torch.no_grad():
            want = to_numpy(model.score(as_index(users, model_device(model))))
        got = self.to_ratings(self.queries[users] @ self.items.T)
        worst = float(np.abs(got - want).max(initial=0.0))
        if worst > TOLERANCE:
            raise ConfigError(f"the numpy copy differs from the model by {worst:.2g}")


def rating_transform(model: MatrixFactorization) -> Callable[[np.ndarray], np.ndarray]:
    """Index-vector dot products (p.q + b_u + b_i) -> the model's predicted ratings.

    Adds the global bias, applies the model's output range (sigmoid for a sigmoid range or
    a BCE logit) and clips to the rating scale; `KnownUserScorer` verifies the result.
    """
    low, high = model.rating_range
    offset = float(model.head.value.detach()) if model.head is not None else 0.0
    if model.loss == "bce":
        bounds: tuple[float, float] | None = (low, high)
    elif model.sigmoid_range:
        bounds = (low - model.range_margin, high + model.range_margin)
    else:
        bounds = None

    def to_ratings(dots: np.ndarray) -> np.ndarray:
        x = dots + np.float32(offset)
        if bounds is not None:
            x = bounds[0] + (bounds[1] - bounds[0]) / (1.0 + np.exp(-x))
        return np.clip(x, low, high)

    return to_ratings
