"""Query and catalogue vectors whose inner product ranks movies as a dot model scores them."""

from __future__ import annotations

import numpy as np
import torch

from movierec.devices import to_numpy
from movierec.errors import ConfigError
from movierec.models import ImplicitFactors, MatrixFactorization, Scorer, TwoTower

DotModel = MatrixFactorization | TwoTower | ImplicitFactors


def _require_dot_model(model: Scorer) -> DotModel:
    if not isinstance(model, DotModel):
        raise ConfigError(f"a {type(model).__name__} does not score by a dot product, so it "
                          "cannot use a vector index; recommend() scores it exactly instead")
    return model


@torch.no_grad()
def movie_index_vectors(model: Scorer) -> np.ndarray:
    """Two-tower: the movie tower's unit vectors; iALS/BPR: the movie factors. MF:
    [n_movies, d + 2], the movie embedding, then its bias, then 1."""
    dot = _require_dot_model(model)
    if isinstance(dot, TwoTower | ImplicitFactors):
        return to_numpy(dot.movie_vectors())
    q = dot.movie.embedding.weight
    bias = dot.movie.bias.weight if dot.movie.bias is not None else q.new_zeros((len(q), 1))
    return to_numpy(torch.cat([q, bias, q.new_ones((len(q), 1))], dim=1))


@torch.no_grad()
def user_query_vectors(model: Scorer, users: torch.Tensor) -> np.ndarray:
    """Two-tower: the user tower's unit vectors. MF: [len(users), d + 2], the user
    embedding, then 1, then the user's bias, so that query . movie = p_u . q_i + b_i + b_u
    (the global bias and the monotone output transform do not change the ranking).
    iALS/BPR: the user factors."""
    dot = _require_dot_model(model)
    if isinstance(dot, TwoTower):
        return to_numpy(dot.user(users))
    if isinstance(dot, ImplicitFactors):
        return to_numpy(dot.user.weight[users])
    p = dot.user.embedding.weight[users]
    bias = dot.user.bias.weight[users] if dot.user.bias is not None else p.new_zeros((len(p), 1))
    return to_numpy(torch.cat([p, p.new_ones((len(p), 1)), bias], dim=1))
