"""Train/test splits of canonical ratings; vectorised and reproducible."""

from __future__ import annotations

import numpy as np
import pandas as pd

from movierec.errors import ConfigError

Split = tuple[pd.DataFrame, pd.DataFrame]


def _by_mask(ratings: pd.DataFrame, test: np.ndarray) -> Split:
    return (ratings[~test].reset_index(drop=True), ratings[test].reset_index(drop=True))


def _check_fraction(test_fraction: float) -> None:
    if not 0.0 < test_fraction < 1.0:
        raise ConfigError(f"test_fraction must be in (0, 1), got {test_fraction}")


def random_split(ratings: pd.DataFrame, test_fraction: float = 0.2, seed: int = 0) -> Split:
    """A uniformly random `test_fraction` of the ratings (rounded) goes to test."""
    _check_fraction(test_fraction)
    n = len(ratings)
    test = np.zeros(n, dtype=bool)
    test[np.random.default_rng(seed).permutation(n)[: round(n * test_fraction)]] = True
    return _by_mask(ratings, test)


def kfold_splits(ratings: pd.DataFrame, k: int = 5, seed: int = 0) -> list[Split]:
    """k (train, test) pairs; each rating is in exactly one test fold (sizes differ by <= 1)."""
    if k < 2 or k > len(ratings):
        raise ConfigError(f"k must be in 2..{len(ratings)} (the number of ratings), got {k}")
    fold = np.empty(len(ratings), dtype=np.int64)
    fold[np.random.default_rng(seed).permutation(len(ratings))] = np.arange(len(ratings)) % k
    return [_by_mask(ratings, fold == i) for i in range(k)]


def _user_ranks(ratings: pd.DataFrame, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Per rating: its rank in its user's history by timestamp, and the count. Ratings of the
    same second are ordered at random (seeded): the data does not say which came first, and
    any fixed rule (say, by movie id) would hold out a systematically different movie (on
    ml-100k, 415 of 943 users rate several movies in their last second)."""
    users = ratings["user_id"].to_numpy()
    tie_break = np.random.default_rng(seed).permutation(len(users))
    order = np.lexsort((tie_break, ratings["timestamp"].to_numpy(), users))
    sorted_users = users[order]
    starts = np.r_[0, np.flatnonzero(sorted_users[1:] != sorted_users[:-1]) + 1]
    counts = np.diff(np.r_[starts, len(users)])
    rank = np.empty(len(users), dtype=np.int64)
    rank[order] = np.arange(len(users)) - np.repeat(starts, counts)
    count = np.empty(len(users), dtype=np.int64)
    count[order] = np.repeat(counts, counts)
    return rank, count


def temporal_holdout(ratings: pd.DataFrame, test_fraction: float = 0.2, seed: int = 0) -> Split:
    """Per user, the latest `test_fraction` (rounded, at most all but one) of ratings to test;
    same-second ties in random order (`seed`)."""
    _check_fraction(test_fraction)
    rank, count = _user_ranks(ratings, seed)
    n_test = np.minimum(np.floor(count * test_fraction + 0.5).astype(np.int64), count - 1)
    return _by_mask(ratings, rank >= count - n_test)


def leave_last_out(ratings: pd.DataFrame, n: int = 1, seed: int = 0) -> Split:
    """Per user, the n latest ratings to test (same-second ties in random order, `seed`);
    users with <= n ratings stay in train."""
    if n < 1:
        raise ConfigError(f"n must be >= 1, got {n}")
    rank, count = _user_ranks(ratings, seed)
    return _by_mask(ratings, (count > n) & (rank >= count - n))
