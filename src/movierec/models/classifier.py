"""Rating classification: each rating value is a class; the prediction is the expected value."""

from __future__ import annotations

import torch
from torch import nn

from movierec.errors import ConfigError
from movierec.models.mlp import ConcatMLP, dense_stack


def default_rating_values(rating_range: tuple[float, float]) -> tuple[float, ...]:
    """The scale's steps, both ends included: whole stars (1, 2, ..., 5) for 1..5, half
    stars (0.5, 1, ..., 5) when an end is a half star, as in 0.5..5."""
    low, high = rating_range
    step = 1.0 if float(low).is_integer() and float(high).is_integer() else 0.5
    n = round((high - low) / step)
    return (*(float(low) + i * step for i in range(n)), float(high))


class RatingClassifier(ConcatMLP):
    """concat embeddings -> (Linear, BatchNorm, ReLU, Dropout) x len(hidden) -> class logits.

    `rating_values` are the classes (pass the half-star values for half-star data); `forward`
    returns logits [B, n_classes] and `predict` the softmax-weighted mean rating.
    """

    default_preset = "classifier"
    loss_name = "cross_entropy"

    def __init__(self, n_users: int, n_movies: int, rating_range: tuple[float, float] = (1.0, 5.0),
                 dim: int = 64, hidden: tuple[int, ...] = (128, 128, 128), dropout: float = 0.3,
                 rating_values: tuple[float, ...] | None = None, init_std: float = 0.05) -> None:
        values = tuple(float(v) for v in (rating_values or default_rating_values(rating_range)))
        if len(values) < 2 or list(values) != sorted(set(values)):
            raise ConfigError(
                f"rating_values must be >= 2 distinct increasing values; got {values}")
        self.rating_values = values
        super().__init__(n_users, n_movies, rating_range, dim=dim, hidden=hidden, dropout=dropout,
                         sigmoid_range=False, init_std=init_std)
        self.register_buffer("_values", torch.tensor(values), persistent=False)

    def _build_head(self) -> nn.Sequential:
        stack, width = dense_stack(2 * self.dim, self.hidden, self.dropout, batch_norm=True)
        return nn.Sequential(*stack, nn.Linear(width, len(self.rating_values)))

    def forward(self, users: torch.Tensor, movies: torch.Tensor) -> torch.Tensor:
        return self.head(torch.cat([self.user(users), self.movie(movies)], dim=1))

    def ratings_from_output(self, output: torch.Tensor) -> torch.Tensor:
        return torch.softmax(output, dim=1) @ self._values
