"""EASE (Steck, WWW 2019): a closed-form item-item linear autoencoder for top-k; optionally
over co-ratings made close together in time (`window`), or without its zero-diagonal
constraint (`zero_diagonal=False`: item-item ridge regression)."""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
import torch
from torch import nn

from movierec.errors import ConfigError
from movierec.models.gram import item_gram, regularised_inverse, window_counts
from movierec.models.history import HistoryRanker
from movierec.models.sparse_rows import SparseInputLinear, SparseRows


class EASE(HistoryRanker):
    """scores = X B with B = I - P / diag(P), P = (G + l2 I)^-1 and diag(B) = 0, X the
    users x movies 0/1 history and G = X'X. Fitted in closed form; a new user is scored from
    their history at once. Named parts: `movie` (B) and `user` (the histories).

    With `window` (needs timestamps), G counts only pairs rated at most `window` ratings
    apart in a user's time order, weighted 1 - gap / (window + 1), with each movie's rating
    count on the diagonal: B then predicts a movie from the movies rated around it, as a
    random split hides movies from the middle of a user's sittings.

    With `zero_diagonal=False`, B = I - l2 P, the plain ridge regression of every movie on
    all of them, with its diagonal dropped afterwards (seen movies are never listed). It
    lacks EASE's 1 / P_jj scaling of column j, which lifts popular movies. A user's unseen
    movies rank as the user-user ridge regression that leaves the user's own row out ranks
    them (by Sherman-Morrison, those scores are these times a positive number per user).
    """

    default_preset = "ease"
    # the Gram, its regularised copy, the Cholesky factor and the inverse (float32): 16.7
    # bytes a pair on ml-latest-small, peak memory of a whole fit (benchmarks/dense_memory.py)
    fit_bytes_per_movie_pair = 20.0

    def __init__(self, n_users: int, n_movies: int,
                 rating_range: tuple[float, float] = (1.0, 5.0), l2: float = 500.0,
                 window: int | None = None, zero_diagonal: bool = True) -> None:
        super().__init__(n_users, n_movies, rating_range)
        if not l2 > 0:
            raise ConfigError(f"l2 must be > 0, got {l2}")
        if window is not None and window < 1:
            raise ConfigError(f"window must be at least 1 (or None: every co-rating), "
                              f"got {window}")
        self.l2 = float(l2)
        self.window = None if window is None else int(window)
        self.zero_diagonal = bool(zero_diagonal)
        self.item_item = SparseInputLinear(n_movies, n_movies, bias=False,
                                           weight=torch.zeros(n_movies, n_movies))
        self.item_item.requires_grad_(False)

    def reads_time_order(self) -> bool:
        return self.window is not None

    def fit_history(self) -> None:
        precision = regularised_inverse(self._gram(), torch.full((self.n_movies,), self.l2))
        weights = (-precision / precision.diagonal() if self.zero_diagonal
                   else -self.l2 * precision)
        weights.diagonal().zero_()
        self.item_item.rows.weight.copy_(weights)

    def _gram(self) -> torch.Tensor:
        """X'X, or with `window` the time-window counts with the rating counts on the
        diagonal (float32, movies x movies)."""
        if self.window is None:
            return item_gram(self.interactions())
        history = self.history
        movies = history.movies.cpu().numpy()
        counts = window_counts(history.rating_users(), movies, self.n_movies, self.window,
                               closeness=True)
        gram = torch.from_numpy(counts.toarray())  # float32 counts
        gram.diagonal().add_(torch.from_numpy(np.bincount(movies, minlength=self.n_movies)
                                              .astype(np.float32)))
        return gram

    def score_histories(self, rows: sp.csr_matrix, users: torch.Tensor | None = None
                        ) -> torch.Tensor:
        """The sum of B's rows for the movies each history holds (sparse: a user's scores
        read only the rows of the movies they rated)."""
        return self.item_item(SparseRows.from_csr(rows, self.item_item.rows.weight.device))

    def parts(self) -> dict[str, nn.Module]:
        return {"user": self.history, "movie": self.item_item}
