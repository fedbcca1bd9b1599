"""`KnownUserLists`: every training user's best unseen movies, overall and per genre,
computed once at start-up.

Serving changes only profile rows (fold-in), so a training user's ranking never moves while
the service runs: lists scored in blocks at start-up answer a known user's recommendations
(any k up to the list's length, with or without a genre) by a slice, lock-free and for any
model. They follow the facade's own rule (the model's `score`, then `top_k_unseen` without
the user's rated movies), so they equal `Recommender.recommend`. The rater's predicted
ratings of the listed movies are computed with them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd
import torch

from movierec.data import top_k_unseen
from movierec.devices import as_index, model_device
from movierec.recommender import Recommender

TOP_N = 200  # movies kept per user overall
TOP_PER_GENRE = 50  # and per genre (a genre's best are often not among the overall 200)
BLOCK = 1024  # users scored at once


@dataclass
class Lists:
    """[n_users, length] movie rows (-1 past the end), scores and predicted ratings (None
    without a rater), best first; `complete` marks users whose list holds every candidate."""

    rows: np.ndarray
    scores: np.ndarray
    ratings: np.ndarray | None
    lengths: np.ndarray
    complete: np.ndarray

    @classmethod
    def from_blocks(cls, rows: list[np.ndarray], scores: list[np.ndarray]) -> Lists:
        found = np.concatenate(rows)
        lengths = (found >= 0).sum(axis=1)
        return cls(found.astype(np.int32), np.concatenate(scores), None, lengths,
                   lengths < found.shape[1])


class KnownUserLists:
    """Each of the first `n_users` model users' top-N movies overall and top-M movies of
    each genre in `genres` (name -> boolean mask over movie rows)."""

    def __init__(self, rec: Recommender, n_users: int,
                 genres: Mapping[str, np.ndarray] | None = None,
                 top_n: int = TOP_N, top_per_genre: int = TOP_PER_GENRE) -> None:
        genres = dict(genres or {})
        masks: dict[str | None, torch.Tensor | None] = {None: None}
        masks.update({g: torch.from_numpy(np.asarray(m, dtype=bool)) for g, m in genres.items()})
        sizes = {g: top_n if g is None else top_per_genre for g in masks}
        found: dict[str | None, tuple[list, list]] = {g: ([], []) for g in masks}
        model = rec.model
        with torch.no_grad():
            model.eval()
            for start in range(0, n_users, BLOCK):
                users = np.arange(start, min(start + BLOCK, n_users))
                scores = model.score(as_index(users, model_device(model)))
                for genre, mask in masks.items():
                    rows, values = top_k_unseen(scores, sizes[genre], seen=rec.seen,
                                                users=users, allowed=mask)
                    found[genre][0].append(rows)
                    found[genre][1].append(values)
        self.lists = {g: Lists.from_blocks(*blocks) for g, blocks in found.items()}
        if rec.predicts_ratings:
            for lists in self.lists.values():
                lists.ratings = _predicted(rec, lists.rows)

    def recommend(self, user_row: int, k: int, genre: str | None = None
                  ) -> tuple[np.ndarray, np.ndarray, np.ndarray | None] | None:
        """(movie rows, scores, predicted ratings or None) of the user's k best unseen
        movies (of one genre), or None when the list cannot tell: it is shorter than k and
        the user has more candidates beyond it."""
        lists = self.lists[genre]
        length = lists.lengths[user_row]
        if k > length and not lists.complete[user_row]:
            return None
        n = min(k, length)
        ratings = None if lists.ratings is None else lists.ratings[user_row, :n]
        return lists.rows[user_row, :n], lists.scores[user_row, :n], ratings


def _predicted(rec: Recommender, rows: np.ndarray) -> np.ndarray:
    """The rater's predictions for every listed (user row, movie row); NaN past the ends."""
    users, ranks = np.nonzero(rows >= 0)
    ratings = np.full(rows.shape, np.nan, dtype=np.float32)
    pairs = pd.DataFrame({"user_id": rec.user_ids.ids[users],
                          "movie_id": rec.movie_ids.ids[rows[users, ranks]]})
    ratings[users, ranks] = rec.predict(pairs)
    return ratings
