"""Split invariants: disjoint, complete, reproducible, per-user ordering."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pandas.testing as pdt
import pytest

from movierec.data import (
    kfold_splits,
    leave_last_out,
    make_synthetic_ratings,
    random_split,
    temporal_holdout,
)
from movierec.errors import ConfigError

KEY = ["user_id", "movie_id"]


@pytest.fixture
def ratings() -> pd.DataFrame:
    r = make_synthetic_ratings(50, 80, 1500, seed=2)
    r.loc[r.index[:40], "timestamp"] = 1_000_000_000  # ties, broken by movie_id
    return r


def keys(df: pd.DataFrame) -> set[tuple[int, int]]:
    return set(zip(df["user_id"], df["movie_id"], strict=True))


def assert_partition(r, train, test):
    assert not keys(train) & keys(test)
    assert keys(train) | keys(test) == keys(r)
    assert len(train) + len(test) == len(r)
    assert list(train.columns) == list(r.columns) and train["rating"].dtype == np.float32


def test_random_split(ratings):
    train, test = random_split(ratings, 0.2, seed=1)
    assert_partition(ratings, train, test)
    assert len(test) == 300
    again = random_split(ratings, 0.2, seed=1)
    pdt.assert_frame_equal(test, again[1])
    assert keys(random_split(ratings, 0.2, seed=2)[1]) != keys(test)
    with pytest.raises(ConfigError):
        random_split(ratings, 1.5)


def test_kfold(ratings):
    folds = kfold_splits(ratings, k=4, seed=0)
    assert len(folds) == 4
    for train, test in folds:
        assert_partition(ratings, train, test)
    tests = pd.concat([t for _, t in folds])
    assert len(tests) == len(ratings) and keys(tests) == keys(ratings)
    assert {len(t) for _, t in folds} == {375}
    pdt.assert_frame_equal(kfold_splits(ratings, 4, seed=0)[2][1], folds[2][1])


def order_key(df):
    return df["timestamp"].to_numpy()


def test_temporal_holdout(ratings):
    train, test = temporal_holdout(ratings, 0.25)
    assert_partition(ratings, train, test)
    counts = ratings.groupby("user_id").size()
    n_test = test.groupby("user_id").size().reindex(counts.index, fill_value=0)
    assert (n_test == np.minimum(np.floor(counts * 0.25 + 0.5), counts - 1)).all()
    for u, t in test.groupby("user_id"):
        tr = train[train["user_id"] == u]
        assert order_key(tr).max() <= order_key(t).min()


def test_temporal_single_rating_user_stays_in_train():
    r = pd.DataFrame({"user_id": [1, 2, 2], "movie_id": [1, 1, 2],
                      "rating": np.float32([3, 4, 5]), "timestamp": [5, 1, 2]})
    train, test = temporal_holdout(r, 0.5)
    assert keys(train) == {(1, 1), (2, 1)} and keys(test) == {(2, 2)}


@pytest.mark.parametrize("n", [1, 3])
def test_leave_last_out(ratings, n):
    train, test = leave_last_out(ratings, n)
    assert_partition(ratings, train, test)
    counts = ratings.groupby("user_id").size()
    per_user = test.groupby("user_id").size()
    assert (per_user == n).all() and set(per_user.index) == set(counts[counts > n].index)
    for u, t in test.groupby("user_id"):
        assert order_key(train[train["user_id"] == u]).max() <= order_key(t).min()


def test_leave_last_out_breaks_same_second_ties_at_random_by_seed():
    """300 users rate movies 1, 2, 3 in the same second after an older movie 0: the held-out
    movie is one of the tied three, each about a third of the time, reproducibly per seed."""
    users = np.repeat(np.arange(300), 4)
    r = pd.DataFrame({"user_id": users, "movie_id": np.tile([0, 1, 2, 3], 300),
                      "rating": np.float32(3), "timestamp": np.tile([1, 7, 7, 7], 300)})
    test = leave_last_out(r, 1, seed=5)[1]
    shares = test["movie_id"].value_counts(normalize=True)
    assert set(shares.index) == {1, 2, 3} and shares.between(0.25, 0.42).all()
    pdt.assert_frame_equal(test, leave_last_out(r, 1, seed=5)[1])
    assert not test.equals(leave_last_out(r, 1, seed=6)[1])


def test_synthetic_ratings():
    r = make_synthetic_ratings(200, 300, 5000, dim=4, seed=7)
    assert len(r) == 5000 and not r.duplicated(KEY).any()
    assert r.dtypes.astype(str).tolist() == ["int64", "int64", "float32", "int64"]
    assert r["rating"].between(1, 5).all() and r["user_id"].between(1, 200).all()
    pop = r["movie_id"].value_counts()
    assert pop.iloc[:30].sum() > 0.25 * len(r)  # long tail: a few movies get many ratings
    pdt.assert_frame_equal(r, make_synthetic_ratings(200, 300, 5000, dim=4, seed=7))
    dense = make_synthetic_ratings(10, 10, 100)
    assert len(dense) == 100 and not dense.duplicated(KEY).any()
    with pytest.raises(ConfigError):
        make_synthetic_ratings(3, 3, 10)
