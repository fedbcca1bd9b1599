"""Popularity: every user gets the movies most users rated (the baseline every ranker must
beat, and the answer for a user with no history)."""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
import torch
from torch import nn

from movierec.models.history import HistoryRanker


class Popularity(HistoryRanker):
    """score(user, movie) = number of training users who rated the movie. Named parts:
    `movie` (the counts) and `user` (the histories, used only to exclude seen movies)."""

    default_preset = "popularity"

    def __init__(self, n_users: int, n_movies: int,
                 rating_range: tuple[float, float] = (1.0, 5.0)) -> None:
        super().__init__(n_users, n_movies, rating_range)
        self.counts = nn.Module()
        self.counts.register_buffer("value", torch.zeros(n_movies))

    def fit_history(self) -> None:
        counts = np.asarray(self.interactions().sum(axis=0), dtype=np.float32).ravel()
        self.counts.value = torch.from_numpy(counts).to(self.counts.value.device)

    def score_histories(self, rows: sp.csr_matrix, users: torch.Tensor | None = None
                        ) -> torch.Tensor:
        return self.counts.value.expand(rows.shape[0], -1).clone()

    def similar_movie_scores(self, movies: torch.Tensor) -> torch.Tensor:
        """Co-occurrence: how many users rated both movies."""
        x = self.interactions()
        columns = x[:, movies.cpu().numpy()]
        counts = np.asarray((columns.T @ x).todense(), dtype=np.float32)
        return torch.from_numpy(counts).to(self.counts.value.device)

    def parts(self) -> dict[str, nn.Module]:
        return {"user": self.history, "movie": self.counts}
