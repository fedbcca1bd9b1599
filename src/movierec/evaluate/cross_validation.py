"""Fit estimators on each fold and summarise held-out RMSE/MAE as mean ± std."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Protocol

import numpy as np
import pandas as pd

from movierec.evaluate.metrics import mae, rmse

Fold = tuple[pd.DataFrame, pd.DataFrame]


class RatingEstimator(Protocol):
    """Anything with `fit(ratings)` and `predict(pairs) -> one rating per row`."""

    def fit(self, ratings: pd.DataFrame) -> object: ...

    def predict(self, pairs: pd.DataFrame) -> np.ndarray: ...


def evaluate_fold(estimator: RatingEstimator, train: pd.DataFrame, test: pd.DataFrame) -> dict:
    """Fit on `train`, score on `test`; returns rmse, mae, train seconds and ratings/s."""
    start = time.perf_counter()
    estimator.fit(train)
    seconds = time.perf_counter() - start
    predicted = np.asarray(estimator.predict(test[["user_id", "movie_id"]]))
    actual = test["rating"].to_numpy()
    row = {"rmse": rmse(predicted, actual), "mae": mae(predicted, actual), "train_s": seconds}
    ratings_per_s = getattr(estimator, "ratings_per_second", None)
    if ratings_per_s is not None:
        row["ratings_per_s"] = float(ratings_per_s)
    return row


def cross_validate(
    estimators: Mapping[str, Callable[[], RatingEstimator]],
    folds: Sequence[Fold],
    *,
    on_fold: Callable[[str, int, dict], None] | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Evaluate a fresh estimator per fold for each named factory.

    Returns (per_fold, summary): per_fold has one row per (model, fold); summary has one
    row per model with mean and std of every metric across folds.
    """
    rows = []
    for name, make in estimators.items():
        for number, (train, test) in enumerate(folds, start=1):
            row = {"model": name, "fold": number, **evaluate_fold(make(), train, test)}
            rows.append(row)
            if on_fold is not None:
                on_fold(name, number, row)
    per_fold = pd.DataFrame(rows)
    return per_fold, summarise(per_fold)


def summarise(per_fold: pd.DataFrame, metrics: Iterable[str] | None = None) -> pd.DataFrame:
    """Mean and (sample) std per model of every numeric metric column."""
    columns = list(metrics or [c for c in per_fold.columns if c not in ("model", "fold")])
    grouped = per_fold.groupby("model", sort=False)[columns]
    spread = grouped.std(ddof=1).fillna(0.0).add_suffix("_std")
    summary = grouped.mean().add_suffix("_mean").join(spread)
    summary["folds"] = grouped.size()
    return summary.reset_index()
