"""item2vec over time-ordered ratings: pair counting by hand, neighbours in time win over
movies rated far apart, indices line up with the other rankers, bad input is refused."""

import numpy as np
import pandas as pd
import pytest
import torch

from movierec.errors import ConfigError
from movierec.topk import interactions_from_ratings
from movierec.topk.item2vec import Item2VecRanker, window_counts


def test_window_counts_pairs_within_the_window_of_one_user():
    users = np.array([0, 0, 0, 1, 1])
    movies = np.array([0, 1, 2, 2, 3])
    counts = window_counts(users, movies, 4, window=1).toarray()
    expected = np.zeros((4, 4))
    for a, b in [(0, 1), (1, 2), (2, 3)]:  # (2, 2) across users is not a pair; 0-2 too far
        expected[a, b] = expected[b, a] = 1
    np.testing.assert_array_equal(counts, expected)
    assert window_counts(users, movies, 4, window=2).toarray()[0, 2] == 1


def paired_sittings(n_users=30, seed=0):
    """Every user rates all 20 movies (so who rated what says nothing), pair (2k, 2k + 1)
    always back to back, the pairs in a random order; then one user rates only movie 4."""
    rng = np.random.default_rng(seed)
    rows = []
    for user in range(n_users):
        order = np.ravel([[2 * p, 2 * p + 1] for p in rng.permutation(10)])
        rows += [(user, int(movie), 4.0, step) for step, movie in enumerate(order)]
    rows.append((n_users, 4, 4.0, 0))
    return pd.DataFrame(rows, columns=["user_id", "movie_id", "rating", "timestamp"])


def test_a_movie_s_time_neighbour_is_recommended_first():
    ratings = paired_sittings()
    ranker = Item2VecRanker(window=1, dim=8, epochs=60, batch_size=8, lr=0.05,
                            progress=False).fit_ratings(ratings)
    scores = ranker.score(np.array([30]))[0]  # ids are indices here: 0..30, movies 0..19
    scores[4] = -np.inf
    assert int(scores.argmax()) == 5
    assert ranker.losses[-1] < ranker.losses[0]


def test_scores_line_up_with_the_interaction_indices():
    ratings = paired_sittings()
    ranker = Item2VecRanker(window=1, dim=8, epochs=2, progress=False).fit_ratings(ratings)
    view = interactions_from_ratings(ratings, ratings.iloc[:0])
    assert ranker.score(np.arange(3)).shape == (3, view.shape[1])
    np.testing.assert_array_equal(ranker.history.toarray(), view.train.toarray())


def test_fits_are_reproducible():
    fits = [Item2VecRanker(window=2, dim=8, epochs=3, progress=False)
            .fit_ratings(paired_sittings()) for _ in range(2)]
    torch.testing.assert_close(fits[0].score(np.arange(10)), fits[1].score(np.arange(10)))


def test_needs_timestamps():
    with pytest.raises(ConfigError, match="timestamp"):
        Item2VecRanker(progress=False).fit_ratings(paired_sittings().drop(columns="timestamp"))


@pytest.mark.parametrize("option, value", [("window", 0), ("dim", 0), ("epochs", 0),
                                           ("lr", 0.0)])
def test_bad_settings_name_the_value(option, value):
    with pytest.raises(ConfigError, match=f"{option} must .* got {value}"):
        Item2VecRanker(**{option: value})
