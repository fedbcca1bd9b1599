"""Concatenation MLPs: user and movie embeddings side by side, then dense layers.

Serves the "mlp", "mlp-tiny", "mlp-dropout" and "ranking" presets, which differ only in
sizes, dropout and whether the output goes through a sigmoid range.
"""

from __future__ import annotations

import torch
from torch import nn

from movierec.errors import ConfigError
from movierec.models.towers import IdTower, IdTowerModel, sigmoid_range


def dense_stack(in_dim: int, hidden: tuple[int, ...], dropout: float,
                batch_norm: bool = False) -> tuple[nn.Sequential, int]:
    """Linear [-> BatchNorm] -> ReLU [-> Dropout] per hidden size; returns (stack, out_dim)."""
    layers: list[nn.Module] = []
    for width in hidden:
        layers.append(nn.Linear(in_dim, width))
        if batch_norm:
            layers.append(nn.BatchNorm1d(width))
        layers.append(nn.ReLU())
        if dropout > 0:
            layers.append(nn.Dropout(dropout))
        in_dim = width
    return nn.Sequential(*layers), in_dim


class ConcatMLP(IdTowerModel):
    """concat(user emb, movie emb) -> [Dropout] -> dense stack -> Linear(1) [-> sigmoid range]."""

    default_preset = "mlp"

    def __init__(self, n_users: int, n_movies: int, rating_range: tuple[float, float] = (1.0, 5.0),
                 dim: int = 64, hidden: tuple[int, ...] = (128, 64), dropout: float = 0.2,
                 embedding_dropout: float = 0.0, sigmoid_range: bool = True,
                 range_margin: float = 0.5, init_std: float = 0.05) -> None:
        super().__init__(n_users, n_movies, rating_range)
        if dim < 1 or any(width < 1 for width in hidden):
            raise ConfigError(f"dim and hidden sizes must be >= 1; got dim={dim}, hidden={hidden}")
        if not (0.0 <= dropout < 1.0 and 0.0 <= embedding_dropout < 1.0):
            raise ConfigError(
                f"dropout rates must be in [0, 1); got {dropout}, {embedding_dropout}")
        self.dim, self.hidden = int(dim), tuple(int(width) for width in hidden)
        self.dropout, self.embedding_dropout = float(dropout), float(embedding_dropout)
        self.sigmoid_range, self.range_margin = bool(sigmoid_range), float(range_margin)
        self.init_std = float(init_std)
        self.user = IdTower(n_users, dim, init_std=init_std)
        self.movie = IdTower(n_movies, dim, init_std=init_std)
        self.head = self._build_head()

    def _build_head(self) -> nn.Sequential:
        stack, width = dense_stack(2 * self.dim, self.hidden, self.dropout)
        return nn.Sequential(nn.Dropout(self.embedding_dropout), *stack, nn.Linear(width, 1))

    def forward(self, users: torch.Tensor, movies: torch.Tensor) -> torch.Tensor:
        x = self.head(torch.cat([self.user(users), self.movie(movies)], dim=1)).squeeze(1)
        if not self.sigmoid_range:
            return x
        low, high = self.rating_range
        return sigmoid_range(x, low - self.range_margin, high + self.range_margin)

    def parts(self) -> dict[str, nn.Module]:
        return {"user": self.user, "movie": self.movie, "head": self.head}
