"""Item neighbourhood model with baselines (KNNBaseline; Koren, TKDD 2010, section 2.2).

rating(u, i) = b_ui + Σ_j s_ij (r_uj − b_uj) / Σ_j s_ij over the `k` movies j most similar to
i among those u rated, where b_ui = μ + b_u + b_i are damped baseline estimates and s_ij is
the shrunk Pearson-baseline correlation of the two movies' residuals over the users who rated
both. Everything is fitted in closed form from the observed ratings, so it trains in seconds;
it is a different family from the factorisations and autoencoders, which is what an ensemble
member needs.
"""

from __future__ import annotations

import math
from typing import ClassVar

import torch
from torch import nn

from movierec.errors import ConfigError
from movierec.models.base import RatingModel

_SIMILARITY_BLOCK = 1024  # movies per block when computing similarities
_PREDICT_BLOCK = 1 << 13  # (user, movie) pairs per block when predicting


class _Buffers(nn.Module):
    """A named part that holds fitted tensors (no trainable parameters)."""

    def __init__(self, **tensors: torch.Tensor) -> None:
        super().__init__()
        for name, tensor in tensors.items():
            self.register_buffer(name, tensor)


class ItemNeighbourhood(RatingModel):
    """KNNBaseline over movies. Parts: "user" (biases, residual ratings), "movie" (biases,
    each movie's `neighbours` most similar movies and their similarities, negatives stored
    as 0 since only positive ones are used), "head" (the global mean). Fitted by
    `observe_ratings` (the Trainer's "closed_form" regime)."""

    default_preset = "item-knn"
    training_regime: ClassVar[str] = "closed_form"
    fold_in_regime: ClassVar[str] = "none"

    def __init__(self, n_users: int, n_movies: int, rating_range: tuple[float, float] = (1.0, 5.0),
                 k: int = 40, neighbours: int = 1000, shrink: float = 100.0,
                 user_reg: float = 10.0, movie_reg: float = 25.0) -> None:
        super().__init__(n_users, n_movies, rating_range)
        if k < 1 or neighbours < k:
            raise ConfigError(f"need 1 <= k <= neighbours; got k={k}, neighbours={neighbours}")
        if min(shrink, user_reg, movie_reg) < 0:
            raise ConfigError(f"shrink, user_reg and movie_reg must be >= 0; got {shrink}, "
                              f"{user_reg}, {movie_reg}")
        self.k, self.neighbours, self.shrink = int(k), int(neighbours), float(shrink)
        self.user_reg, self.movie_reg = float(user_reg), float(movie_reg)
        kept = min(self.neighbours, n_movies)
        self.user = _Buffers(bias=torch.zeros(n_users),
                             residuals=torch.zeros(n_users, n_movies),
                             rated=torch.zeros(n_users, n_movies, dtype=torch.bool))
        self.movie = _Buffers(bias=torch.zeros(n_movies),
                              neighbour_index=torch.zeros(n_movies, kept, dtype=torch.int32),
                              similarity=torch.zeros(n_movies, kept))
        self.head = _Buffers(mean=torch.zeros(()))

    # --- fitting ---------------------------------------------------------------------------
    @torch.no_grad()
    def observe_ratings(self, users: torch.Tensor, movies: torch.Tensor,
                        ratings: torch.Tensor, timestamps: torch.Tensor | None = None) -> None:
        """Fit baselines and similarities to these ratings (replacing any earlier fit)."""
        users, movies = users.to(self.user.bias.device), movies.to(self.user.bias.device)
        ratings = ratings.to(self.user.bias)
        mean = ratings.mean()
        movie_bias = _damped_mean(movies, ratings - mean, self.n_movies, self.movie_reg)
        user_bias = _damped_mean(users, ratings - mean - movie_bias[movies], self.n_users,
                                 self.user_reg)
        self.head.mean.copy_(mean)
        self.movie.bias.copy_(movie_bias)
        self.user.bias.copy_(user_bias)
        self.user.residuals.zero_()
        self.user.rated.zero_()
        self.user.residuals[users, movies] = ratings - mean - user_bias[users] - movie_bias[movies]
        self.user.rated[users, movies] = True
        self._fit_neighbours()

    def _fit_neighbours(self) -> None:
        residuals, rated = self.user.residuals, self.user.rated.to(self.user.residuals.dtype)
        squared = residuals.square()
        kept = self.movie.similarity.shape[1]
        for start in range(0, self.n_movies, _SIMILARITY_BLOCK):
            block = slice(start, min(start + _SIMILARITY_BLOCK, self.n_movies))
            products = residuals[:, block].T @ residuals              # Σ r_ui r_uj
            norms = (squared[:, block].T @ rated) * (rated[:, block].T @ squared)
            common = rated[:, block].T @ rated                        # users who rated both
            support = (common - 1.0).clamp(min=0.0)
            similarity = products / norms.sqrt().clamp(min=1e-12) * support / (support
                                                                               + self.shrink)
            rows = torch.arange(block.stop - block.start, device=residuals.device)
            similarity[rows, rows + start] = -math.inf  # a movie is not its own neighbour
            top = similarity.topk(kept, dim=1)
            self.movie.similarity[block] = top.values.clamp(min=0.0)  # only positives count
            self.movie.neighbour_index[block] = top.indices.to(torch.int32)

    # --- scoring ---------------------------------------------------------------------------
    def forward(self, users: torch.Tensor, movies: torch.Tensor) -> torch.Tensor:
        return torch.cat([self._predict_block(u, m) for u, m in
                          zip(users.split(_PREDICT_BLOCK), movies.split(_PREDICT_BLOCK),
                              strict=True)]) if len(users) else users.new_zeros(0).float()

    def _predict_block(self, users: torch.Tensor, movies: torch.Tensor) -> torch.Tensor:
        baseline = self.head.mean + self.user.bias[users] + self.movie.bias[movies]
        candidates = self.movie.neighbour_index[movies].long()         # [B, N]
        rows = users[:, None]
        weight = torch.where(self.user.rated[rows, candidates], self.movie.similarity[movies],
                             0.0)
        top = weight.topk(min(self.k, weight.shape[1]), dim=1)
        residual = self.user.residuals[rows, candidates.gather(1, top.indices)]
        total = top.values.sum(1)
        offset = (top.values * residual).sum(1) / total.clamp(min=1e-12)
        return baseline + torch.where(total > 0, offset, 0.0)

    # --- named views -----------------------------------------------------------------------
    def parts(self) -> dict[str, nn.Module]:
        return {"user": self.user, "movie": self.movie, "head": self.head}

    def user_vectors(self) -> torch.Tensor:
        return self.user.residuals

    def movie_vectors(self) -> torch.Tensor:
        return self.user.residuals.T

    def user_tables(self) -> list[nn.Embedding]:
        raise ConfigError("item-knn cannot fold in users (each user is a row of its fitted "
                          "residuals); refit on all ratings instead")

    def add_users(self, n: int) -> None:
        self.user_tables()


def _damped_mean(index: torch.Tensor, values: torch.Tensor, size: int,
                 damping: float) -> torch.Tensor:
    """Σ values / (count + damping) per index: a mean shrunk towards 0 for sparse rows."""
    totals = torch.zeros(size, dtype=values.dtype, device=values.device)
    totals.index_add_(0, index, values)
    counts = torch.bincount(index, minlength=size).to(values.dtype)
    return totals / (counts + damping)
