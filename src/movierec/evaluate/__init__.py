"""Metrics, baselines and evaluation protocols."""

from movierec.evaluate.baselines import DampedBias, GlobalMean
from movierec.evaluate.cross_validation import (
    RatingEstimator,
    cross_validate,
    evaluate_fold,
    summarise,
)
from movierec.evaluate.metrics import mae, rmse

__all__ = [
    "DampedBias",
    "GlobalMean",
    "RatingEstimator",
    "cross_validate",
    "evaluate_fold",
    "mae",
    "rmse",
    "summarise",
]
