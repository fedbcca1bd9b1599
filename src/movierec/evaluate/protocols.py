"""Which train/test folds a rating evaluation uses, and how to describe them."""

from __future__ import annotations

import pandas as pd

from movierec.data import MovieLensData, kfold_splits, random_split
from movierec.errors import ConfigError

Fold = tuple[pd.DataFrame, pd.DataFrame]

# name -> what it is; `protocol_folds` builds them
PROTOCOLS = {
    "canonical": "ml-100k canonical folds u1..u5",
    "u1": "ml-100k canonical fold u1 alone",
    "kfold": "k seeded random folds",
    "holdout-90": "seeded random 90/10 splits, repeated (seed, seed+1, ...)",
    "holdout-80": "one seeded random 80/20 split",
}


def protocol_folds(data: MovieLensData, protocol: str, *, k: int = 5, seed: int = 0
                   ) -> tuple[str, list[Fold]]:
    """(description, folds) of a named protocol; `k` is the fold or repeat count."""
    if protocol == "canonical":
        return "canonical folds u1..u5", data.canonical_folds("u")
    if protocol == "u1":
        return "canonical fold u1", data.canonical_folds("u")[:1]
    if protocol == "kfold":
        return f"{k} random folds (seed {seed})", kfold_splits(data.ratings, k=k, seed=seed)
    if protocol == "holdout-90":
        return (f"random 90/10 split x {k} (seeds {seed}..{seed + k - 1})",
                [random_split(data.ratings, test_fraction=0.1, seed=seed + r) for r in range(k)])
    if protocol == "holdout-80":
        return (f"random 80/20 holdout (seed {seed})",
                [random_split(data.ratings, test_fraction=0.2, seed=seed)])
    raise ConfigError(f"unknown protocol {protocol!r}; known: {', '.join(PROTOCOLS)}")


def rating_folds(data: MovieLensData, *, cv: bool, k: int = 5, seed: int = 0
                 ) -> tuple[str, list[Fold]]:
    """(description, folds): canonical u1..u5 when cross-validating with them present,
    else k seeded random folds; without cv one seeded random 80/20 holdout."""
    if not cv:
        return protocol_folds(data, "holdout-80", seed=seed)
    if data.has_canonical_folds:
        return protocol_folds(data, "canonical")
    description, folds = protocol_folds(data, "kfold", k=k, seed=seed)
    return f"{description}; canonical folds unavailable from {data.source}", folds
