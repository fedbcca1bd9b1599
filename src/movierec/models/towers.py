"""Building blocks shared by all models: per-id embedding towers and the sigmoid output range."""

from __future__ import annotations

import torch
from torch import nn

from movierec.models.base import RatingModel


class IdTower(nn.Module):
    """Embedding (and optionally a scalar bias) for one id space: the users or the movies."""

    def __init__(self, n: int, dim: int, *, bias: bool = False, init_std: float = 0.01) -> None:
        super().__init__()
        self.embedding = nn.Embedding(n, dim)
        nn.init.normal_(self.embedding.weight, std=init_std)
        self.bias = nn.Embedding(n, 1) if bias else None
        if self.bias is not None:
            nn.init.zeros_(self.bias.weight)

    def forward(self, index: torch.Tensor) -> torch.Tensor:
        """Embedding rows [B, dim] of the given indices."""
        return self.embedding(index)

    def tables(self) -> list[nn.Embedding]:
        """Every table indexed by this id space."""
        return [self.embedding] if self.bias is None else [self.embedding, self.bias]


def sigmoid_range(x: torch.Tensor, low: float, high: float) -> torch.Tensor:
    """Squash logits into (low, high): the fastai `y_range` trick that bounds predictions."""
    return low + (high - low) * torch.sigmoid(x)


class IdTowerModel(RatingModel):
    """A rating model whose `user` and `movie` parts are `IdTower`s: their embedding tables
    are the user and movie vectors, and the user tower's tables are what fold-in trains."""

    user: IdTower
    movie: IdTower

    def user_vectors(self) -> torch.Tensor:
        return self.user.embedding.weight

    def movie_vectors(self) -> torch.Tensor:
        return self.movie.embedding.weight

    def user_tables(self) -> list[nn.Embedding]:
        return self.user.tables()
