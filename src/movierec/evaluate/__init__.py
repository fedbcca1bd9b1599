"""Metrics, baselines and evaluation protocols."""

from movierec.evaluate.baselines import DampedBias, GlobalMean
from movierec.evaluate.cross_validation import (
    RatingEstimator,
    cross_validate,
    evaluate_fold,
    summarise,
)
from movierec.evaluate.metrics import mae, rmse
from movierec.evaluate.protocols import PROTOCOLS, protocol_folds, rating_folds

__all__ = [
    "PROTOCOLS",
    "DampedBias",
    "GlobalMean",
    "RatingEstimator",
    "cross_validate",
    "evaluate_fold",
    "mae",
    "protocol_folds",
    "rating_folds",
    "rmse",
    "summarise",
]
