"""Rating-prediction error metrics."""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike


def _paired(predicted: ArrayLike, actual: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    p = np.asarray(predicted, dtype=np.float64)
    a = np.asarray(actual, dtype=np.float64)
    if p.shape != a.shape:
        raise ValueError(f"predicted has shape {p.shape} but actual has shape {a.shape}")
    if p.size == 0:
        raise ValueError("cannot score an empty set of predictions")
    return p, a


def rmse(predicted: ArrayLike, actual: ArrayLike) -> float:
    """Root mean squared error."""
    p, a = _paired(predicted, actual)
    return float(np.sqrt(np.mean((p - a) ** 2)))


def mae(predicted: ArrayLike, actual: ArrayLike) -> float:
    """Mean absolute error."""
    p, a = _paired(predicted, actual)
    return float(np.mean(np.abs(p - a)))
