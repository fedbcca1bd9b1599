"""EASE (Steck, WWW 2019): a closed-form item-item linear autoencoder for top-k."""

from __future__ import annotations

import scipy.sparse as sp
import torch
from torch import nn

from movierec.errors import ConfigError
from movierec.models.gram import item_gram, regularised_inverse
from movierec.models.history import HistoryRanker
from movierec.models.sparse_rows import SparseInputLinear, SparseRows


class EASE(HistoryRanker):
    """scores = X B with B = I - P / diag(P), P = (X'X + l2 I)^-1 and diag(B) = 0, X the
    users x movies 0/1 history. Fitted in closed form; a new user is scored from their
    history at once. Named parts: `movie` (B) and `user` (the histories)."""

    default_preset = "ease"

    def __init__(self, n_users: int, n_movies: int,
                 rating_range: tuple[float, float] = (1.0, 5.0), l2: float = 500.0) -> None:
        super().__init__(n_users, n_movies, rating_range)
        if not l2 > 0:
            raise ConfigError(f"l2 must be > 0, got {l2}")
        self.l2 = float(l2)
        self.item_item = SparseInputLinear(n_movies, n_movies, bias=False,
                                           weight=torch.zeros(n_movies, n_movies))
        self.item_item.requires_grad_(False)

    def fit_history(self) -> None:
        gram = item_gram(self.interactions())
        precision = regularised_inverse(gram, torch.full((self.n_movies,), self.l2,
                                                         dtype=torch.float64))
        weights = -precision / precision.diagonal()
        weights.diagonal().zero_()
        self.item_item.rows.weight.copy_(weights.float())

    def score_histories(self, rows: sp.csr_matrix, users: torch.Tensor | None = None
                        ) -> torch.Tensor:
        """The sum of B's rows for the movies each history holds (sparse: a user's scores
        read only the rows of the movies they rated)."""
        return self.item_item(SparseRows.from_csr(rows, self.item_item.rows.weight.device))

    def parts(self) -> dict[str, nn.Module]:
        return {"user": self.history, "movie": self.item_item}
