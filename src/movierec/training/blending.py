"""Ridge regression of true ratings on member predictions: an ensemble's blend weights."""

from __future__ import annotations

import torch


def ridge_blend(predictions: torch.Tensor, ratings: torch.Tensor,
                l2: float) -> tuple[torch.Tensor, float]:
    """(weights [M], intercept) minimising Σ(r − X w − b)² + l2 ‖w‖² (intercept unpenalised).

    `predictions` is [N, M], one column per member; solved in float64 in closed form.
    """
    x, y = predictions.double(), ratings.double()
    x_mean, y_mean = x.mean(dim=0), y.mean()
    centred = x - x_mean
    gram = centred.T @ centred + l2 * torch.eye(x.shape[1], dtype=torch.float64,
                                                device=x.device)
    weights = torch.linalg.solve(gram, centred.T @ (y - y_mean))
    return weights.float(), float(y_mean - x_mean @ weights)
