"""Two-tower retrieval: a user tower and a movie tower map ids to equal-size unit vectors;
their dot product (over a temperature) scores a pair. Trained with in-batch softmax."""

from __future__ import annotations

import torch
from torch import nn

from movierec.models.base import RatingModel


class Tower(nn.Module):
    """Id embedding -> dense layers -> L2-normalised vector."""

    def __init__(self, n: int, dim: int, hidden: tuple[int, ...], out_dim: int) -> None:
        super().__init__()
        self.embedding = nn.Embedding(n, dim)
        nn.init.normal_(self.embedding.weight, std=0.1)
        layers: list[nn.Module] = []
        width = dim
        for size in hidden:
            layers += [nn.Linear(width, size), nn.ReLU()]
            width = size
        layers.append(nn.Linear(width, out_dim))
        self.dense = nn.Sequential(*layers)

    def forward(self, index: torch.Tensor) -> torch.Tensor:
        return nn.functional.normalize(self.dense(self.embedding(index)), dim=-1)


class TwoTower(RatingModel):
    """TFRS retrieval tutorial shape, with the fixes it leaves out: L2-normalised towers,
    a temperature, and the sampling-bias (logQ) correction of Yi et al. (RecSys 2019).

    `forward(users, movies)` returns the [B, B] in-batch logit matrix that
    `InBatchSoftmaxTask` trains on; `predict` and `score_all_movies` return cosine scores
    (not ratings): this model ranks, it does not predict stars.
    """

    default_preset = "two-tower"
    loss_name = "in_batch_softmax"
    supports_fold_in = False

    def __init__(self, n_users: int, n_movies: int, rating_range: tuple[float, float] = (1.0, 5.0),
                 dim: int = 64, hidden: tuple[int, ...] = (128,), out_dim: int = 64,
                 temperature: float = 0.05) -> None:
        super().__init__(n_users, n_movies, rating_range)
        self.dim, self.hidden, self.out_dim = dim, tuple(hidden), out_dim
        self.temperature = float(temperature)
        self.user = Tower(n_users, dim, self.hidden, out_dim)
        self.movie = Tower(n_movies, dim, self.hidden, out_dim)
        self.register_buffer("log_q", torch.zeros(n_movies))

    def set_sampling_probabilities(self, movie_counts: torch.Tensor) -> None:
        """log Q(movie): how often a movie appears as an in-batch candidate (its share of
        training interactions); subtracted from logits so popular movies are not
        over-penalised as negatives."""
        share = movie_counts.float().clamp(min=1) / movie_counts.sum().clamp(min=1)
        self.log_q.copy_(share.log())

    def forward(self, users: torch.Tensor, movies: torch.Tensor) -> torch.Tensor:
        logits = self.user(users) @ self.movie(movies).T / self.temperature
        logits = logits - self.log_q[movies][None, :]
        same = movies[:, None] == movies[None, :]  # a duplicate is not a negative
        same.fill_diagonal_(False)
        return logits.masked_fill(same, -torch.inf)

    def ratings_from_output(self, output: torch.Tensor) -> torch.Tensor:
        return output

    def predict(self, users: torch.Tensor, movies: torch.Tensor) -> torch.Tensor:
        return (self.user(users) * self.movie(movies)).sum(dim=-1)

    def score_all_movies(self, users: torch.Tensor) -> torch.Tensor:
        return self.user(users) @ self.movie_vectors().T

    def parts(self) -> dict[str, nn.Module]:
        return {"user": self.user, "movie": self.movie}

    def user_vectors(self) -> torch.Tensor:
        return self.user(torch.arange(self.n_users))

    def movie_vectors(self) -> torch.Tensor:
        return self.movie(torch.arange(self.n_movies))

    def user_tables(self) -> list[nn.Embedding]:
        return [self.user.embedding]
