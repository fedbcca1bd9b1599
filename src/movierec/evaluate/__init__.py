"""Metrics, baselines and evaluation protocols."""

from movierec.evaluate.baselines import DampedBias, GlobalMean
from movierec.evaluate.cross_validation import (
    RatingEstimator,
    cross_validate,
    evaluate_fold,
    summarise,
)
from movierec.evaluate.metrics import mae, rmse
from movierec.evaluate.protocols import rating_folds

__all__ = [
    "DampedBias",
    "GlobalMean",
    "RatingEstimator",
    "cross_validate",
    "evaluate_fold",
    "mae",
    "rating_folds",
    "rmse",
    "summarise",
]
