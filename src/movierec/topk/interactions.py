"""The implicit-feedback view of ratings: who interacted with what, as index pairs and CSR."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import scipy.sparse as sp

from movierec.data import IdMap


@dataclass(frozen=True)
class Interactions:
    """Train and test interactions on shared contiguous indices (users x movies)."""

    user_ids: IdMap
    movie_ids: IdMap
    train: sp.csr_matrix
    test_users: np.ndarray
    test_movies: np.ndarray

    @property
    def shape(self) -> tuple[int, int]:
        return self.train.shape


def interactions_from_ratings(train: pd.DataFrame, test: pd.DataFrame,
                              min_rating: float | None = None) -> Interactions:
    """Every rating (or every rating >= min_rating) is a positive. Ids come from the
    training frame; test rows with users or movies unseen in training are dropped, since no
    full-catalogue model can rank them."""
    if min_rating is not None:
        train = train[train["rating"] >= min_rating]
        test = test[test["rating"] >= min_rating]
    users = IdMap.from_ids(train["user_id"].to_numpy())
    movies = IdMap.from_ids(train["movie_id"].to_numpy())
    rows = users.to_index(train["user_id"].to_numpy())
    cols = movies.to_index(train["movie_id"].to_numpy())
    matrix = sp.csr_matrix((np.ones(len(rows), dtype=np.float32), (rows, cols)),
                           shape=(len(users), len(movies)))
    matrix.sum_duplicates()
    matrix.data[:] = 1.0
    test_users = users.to_index(test["user_id"].to_numpy(), missing="negative")
    test_movies = movies.to_index(test["movie_id"].to_numpy(), missing="negative")
    known = (test_users >= 0) & (test_movies >= 0)
    return Interactions(users, movies, matrix, test_users[known], test_movies[known])
