"""Hyperparameter search (Optuna) on a validation split carved from training data only."""

from movierec.tuning.search import SEARCH_SPACES, tune_preset

__all__ = ["SEARCH_SPACES", "tune_preset"]
