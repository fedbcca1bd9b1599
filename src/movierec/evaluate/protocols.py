"""Which train/test folds a rating evaluation uses, and how to describe them."""

from __future__ import annotations

import pandas as pd

from movierec.data import MovieLensData, kfold_splits, random_split

Fold = tuple[pd.DataFrame, pd.DataFrame]


def rating_folds(data: MovieLensData, *, cv: bool, k: int = 5, seed: int = 0
                 ) -> tuple[str, list[Fold]]:
    """(description, folds): canonical u1..u5 when cross-validating with them present,
    else k seeded random folds; without cv one seeded random 80/20 holdout."""
    if not cv:
        return (f"random 80/20 holdout (seed {seed})",
                [random_split(data.ratings, test_fraction=0.2, seed=seed)])
    if data.has_canonical_folds:
        return "canonical folds u1..u5", data.canonical_folds("u")
    return (f"{k} random folds (seed {seed}; canonical folds unavailable from {data.source})",
            kfold_splits(data.ratings, k=k, seed=seed))
