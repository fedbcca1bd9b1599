"""Ridge regression of true ratings on member predictions: an ensemble's blend weights."""

from __future__ import annotations

from collections.abc import Sequence

import torch

# Penalties tried when the ensemble leaves the choice to cross-validation.
L2_GRID = (0.1, 1.0, 10.0, 100.0, 1000.0)


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


def cross_validated_l2(predictions: torch.Tensor, ratings: torch.Tensor,
                       grid: Sequence[float] = L2_GRID, folds: int = 5, seed: int = 0) -> float:
    """The penalty in `grid` with the lowest k-fold cross-validated squared error."""
    order = torch.randperm(len(ratings), generator=torch.Generator().manual_seed(seed))
    parts = order.to(predictions.device).chunk(folds)
    errors = []
    for l2 in grid:
        squared = 0.0
        for held in parts:
            keep = torch.ones(len(ratings), dtype=torch.bool, device=predictions.device)
            keep[held] = False
            weights, bias = ridge_blend(predictions[keep], ratings[keep], l2)
            residual = predictions[held].double() @ weights.double() + bias - ratings[held]
            squared += float(residual.square().sum())
        errors.append(squared)
    return grid[min(range(len(grid)), key=errors.__getitem__)]
