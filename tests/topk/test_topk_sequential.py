"""The causal self-attention ranker: it must learn an order-determined next movie, follow the
order it was given (a reversed history predicts the predecessor), and reject bad settings."""

import numpy as np
import pandas as pd
import pytest
import torch

from movierec.data import IdMap, SeenMovies, leave_last_out
from movierec.errors import ConfigError
from movierec.evaluate.ranking import top_k_indices
from movierec.topk import interactions_from_ratings
from movierec.topk.sequential import SequentialRanker, user_sequences

N_MOVIES, LENGTH = 40, 6
CYCLE = np.random.default_rng(1).permutation(N_MOVIES)
SUCCESSOR = np.empty(N_MOVIES, dtype=np.int64)  # movie m is followed by SUCCESSOR[m]: one cycle
SUCCESSOR[CYCLE] = np.roll(CYCLE, -1)


def chains(n_users=300, reverse=False, seed=0):
    """Each user rates a, s(a), s(s(a)), ... at increasing times; with `reverse` the training
    part's times run backwards while the latest (test) rating stays the chain's next movie."""
    rng = np.random.default_rng(seed)
    rows = []
    for user in range(n_users):
        movie = int(rng.integers(N_MOVIES))
        for step in range(LENGTH):
            time = LENGTH - 2 - step if reverse and step < LENGTH - 1 else step
            rows.append((user, movie, 4.0, time))
            movie = int(SUCCESSOR[movie])
    return pd.DataFrame(rows, columns=["user_id", "movie_id", "rating", "timestamp"])


def fit_and_predict(ratings):
    train, test = leave_last_out(ratings)
    ranker = SequentialRanker(dim=32, max_len=8, epochs=40, lr=0.01, dropout=0.0,
                              progress=False).fit_ratings(train)
    view = interactions_from_ratings(train, test)
    seen = SeenMovies.from_indices(*view.train.nonzero(), *view.shape)
    top = top_k_indices(ranker.score, view.test_users, 1, seen)[:, 0]
    return train, view, top, ranker


def test_learns_the_movie_that_follows_the_last_one():
    _, view, top, _ = fit_and_predict(chains())
    assert (top == view.test_movies).mean() > 0.9


def test_follows_the_given_order_not_the_set():
    train, view, top, _ = fit_and_predict(chains(reverse=True))
    # the latest training movie is the chain's start a; reversed histories teach s^-1
    first = train.sort_values("timestamp").groupby("user_id")["movie_id"].last()
    predecessor = np.argsort(SUCCESSOR)[first.loc[view.user_ids.ids[view.test_users]].to_numpy()]
    assert (top == view.test_movies).mean() < 0.1
    assert (view.movie_ids.ids[top] == predecessor).mean() > 0.9


def test_seen_movies_never_recommended_and_fits_are_reproducible():
    ratings = chains(n_users=60)
    scores = []
    for _ in range(2):
        ranker = SequentialRanker(dim=16, max_len=8, epochs=3, progress=False)
        scores.append(ranker.fit_ratings(ratings).score(np.arange(60)))
    torch.testing.assert_close(scores[0], scores[1])
    view = interactions_from_ratings(ratings, ratings.iloc[:0])
    seen = SeenMovies.from_indices(*view.train.nonzero(), *view.shape)
    top = top_k_indices(ranker.score, np.arange(60), 10, seen)
    assert not np.take_along_axis(view.train.toarray(), top, axis=1).any()


def test_sequences_are_time_ordered_right_aligned_and_truncated():
    ratings = pd.DataFrame({"user_id": [7, 7, 7, 7, 9], "movie_id": [30, 10, 20, 40, 10],
                            "rating": 1.0, "timestamp": [5, 1, 5, 9, 3]})
    users, movies = IdMap.from_ids(ratings["user_id"]), IdMap.from_ids(ratings["movie_id"])
    # user 7: 10 (t1), then 20 and 30 tied at t5 (by movie id), then 40; keep the latest 3
    assert user_sequences(ratings, users, movies, 3).tolist() == [[2, 3, 4], [0, 0, 1]]


@pytest.mark.parametrize("option, value", [("max_len", 0), ("epochs", 0), ("dropout", 1.0),
                                           ("lr", -1.0)])
def test_bad_settings_name_the_value(option, value):
    with pytest.raises(ConfigError, match=f"{option} must .* got {value}"):
        SequentialRanker(**{option: value})


def test_missing_timestamp_is_a_clear_error():
    ratings = chains(n_users=5).drop(columns="timestamp")
    with pytest.raises(ConfigError, match="timestamp"):
        SequentialRanker(progress=False).fit_ratings(ratings)
