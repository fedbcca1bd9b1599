"""A weighted sum of several top-k rankers' scores, each standardised per user first, so that
rankers with different score scales (softmax logits, reconstructions) can be combined."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
import torch

from movierec.errors import ConfigError


def standardised(scores: torch.Tensor) -> torch.Tensor:
    """Each row shifted to mean 0 and scaled to standard deviation 1 over the catalogue."""
    scores = torch.as_tensor(scores, dtype=torch.float32)
    spread = scores.std(dim=1, keepdim=True).clamp_min(1e-12)
    return (scores - scores.mean(dim=1, keepdim=True)) / spread


class ScoreBlend:
    """score(users) = sum_i weights[i] * standardised(members[i].score(users)). Members are
    rankers with `fit_ratings` (all fitted on the same ratings, so they share indices)."""

    def __init__(self, members: Sequence[object], weights: Sequence[float]) -> None:
        if len(members) != len(weights) or not members:
            raise ConfigError(f"need one weight per member, got {len(weights)} weights for "
                              f"{len(members)} members")
        if any(w < 0 for w in weights) or sum(weights) <= 0:
            raise ConfigError(f"weights must be >= 0 with a positive sum, got {list(weights)}")
        self.members, self.weights = list(members), [float(w) for w in weights]
        self.name = "+".join(getattr(m, "name", type(m).__name__) for m in self.members)

    def fit_ratings(self, ratings: pd.DataFrame, movies: pd.DataFrame | None = None,
                    users: pd.DataFrame | None = None) -> ScoreBlend:
        for member in self.members:
            member.fit_ratings(ratings, movies, users)
        return self

    def score(self, users: np.ndarray) -> torch.Tensor:
        return sum(w * standardised(m.score(users))
                   for m, w in zip(self.members, self.weights, strict=True))
