"""The `item2vec` preset: pair counting by hand, neighbours in time win over movies rated far
apart, time (not row) order decides, the score formula by hand, and fold-in, save and load
through the facade."""

import numpy as np
import pandas as pd
import pytest
import torch

from movierec import Recommender
from movierec.errors import ConfigError
from movierec.models import build_model
from movierec.models.gram import window_counts


def test_window_counts_pairs_within_the_window_of_one_user():
    users = np.array([0, 0, 0, 1, 1])
    movies = np.array([0, 1, 2, 2, 3])
    counts = window_counts(users, movies, 4, window=1).toarray()
    expected = np.zeros((4, 4))
    for a, b in [(0, 1), (1, 2), (2, 3)]:  # (2, 2) across users is not a pair; 0-2 too far
        expected[a, b] = expected[b, a] = 1
    np.testing.assert_array_equal(counts, expected)
    assert window_counts(users, movies, 4, window=2).toarray()[0, 2] == 1


def paired_sittings(n_users: int = 30, seed: int = 0) -> pd.DataFrame:
    """Every user rates all 20 movies (so who rated what says nothing), pair (2k, 2k + 1)
    always back to back, the pairs in a random order; then one user rates only movie 4.
    Raw ids: users 100.., movies 1000 + 10 m."""
    rng = np.random.default_rng(seed)
    rows = []
    for user in range(n_users):
        order = np.ravel([[2 * p, 2 * p + 1] for p in rng.permutation(10)])
        rows += [(100 + user, 1000 + 10 * int(movie), 4.0, step)
                 for step, movie in enumerate(order)]
    rows.append((100 + n_users, 1040, 4.0, 0))
    return pd.DataFrame(rows, columns=["user_id", "movie_id", "rating", "timestamp"])


def fitted(ratings: pd.DataFrame, **options: object) -> Recommender:
    options = {"window": 2, "dim": 8, "epochs": 3, **options}
    return Recommender("item2vec", progress=False, **options).fit(ratings)


def test_a_movie_s_time_neighbour_is_recommended_first():
    rec = fitted(paired_sittings(), window=1, epochs=60, batch_size=8, lr=0.05)
    assert list(rec.recommend(130, k=1).movie_id) == [1050]
    losses = [record.train_loss for record in rec.history.records]
    assert losses[-1] < losses[0]


def test_time_order_decides_not_row_order():
    ratings = paired_sittings()
    shuffled = ratings.sample(frac=1, random_state=0)
    same_second = ratings.assign(timestamp=ratings.timestamp // 2)  # pairs tie in time
    scores = [fitted(frame).movie_scores(100) for frame in (ratings, shuffled)]
    pd.testing.assert_series_equal(scores[0], scores[1], check_exact=True)
    pd.testing.assert_series_equal(fitted(same_second.sample(frac=1, random_state=1))
                                   .movie_scores(100), fitted(same_second).movie_scores(100),
                                   check_exact=True)


def test_scores_are_normalised_neighbour_probabilities():
    ratings = paired_sittings()
    rec = fitted(ratings)
    model = rec.model
    counts = model.pair_counts.toarray()
    degree = counts.sum(axis=1)
    with torch.no_grad():
        logits = (model.context.weight @ model.head.target.weight.T + model.head.bias).numpy()
    probabilities = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    rated = rec.movie_ids.to_index(ratings.movie_id[ratings.user_id == 101].to_numpy())
    expected = (np.sqrt(degree[rated]) @ probabilities[rated]) / np.sqrt(degree + 1.0)
    np.testing.assert_allclose(rec.movie_scores(101).to_numpy(), expected, rtol=1e-4)
    assert counts[4, 5] == 30  # back to back once in each of 30 histories
    np.testing.assert_array_equal(counts, counts.T)


def test_fits_are_reproducible():
    first, second = fitted(paired_sittings()), fitted(paired_sittings())
    pd.testing.assert_frame_equal(first.recommend_many([100, 110, 130], k=5),
                                  second.recommend_many([100, 110, 130], k=5), check_exact=True)


def test_facade_fold_in_save_and_load(tmp_path):
    ratings = paired_sittings()
    rec = fitted(ratings)
    copied = ratings[ratings.user_id == 130].assign(user_id=7, timestamp=99)
    assert rec.fold_in(copied) == [7]
    pd.testing.assert_frame_equal(rec.recommend(7, k=5), rec.recommend(130, k=5))
    loaded = Recommender.load(rec.save(tmp_path / "item2vec"))
    pd.testing.assert_frame_equal(loaded.recommend_many([7, 100, 130], k=5),
                                  rec.recommend_many([7, 100, 130], k=5), check_exact=True)
    assert loaded.embeddings("movie").shape == (20, 1 + 8)


def test_needs_timestamps():
    model = build_model("item2vec", 2, 3)
    with pytest.raises(ConfigError, match="timestamp"):
        model.observe_ratings(torch.tensor([0, 1]), torch.tensor([2, 0]), torch.ones(2))


@pytest.mark.parametrize("option, value", [("window", 0), ("dim", 0)])
def test_bad_settings_name_the_value(option, value):
    with pytest.raises(ConfigError, match=f"{option} must .* got {value}"):
        build_model("item2vec", 4, 5, **{option: value})


def test_the_dense_score_cache_matches_the_softmax_per_movie_and_follows_the_weights(
        monkeypatch):
    import pickle

    from movierec.models import item2vec

    rec = fitted(paired_sittings())
    users = torch.arange(len(rec.user_ids))
    with torch.no_grad():
        cached = rec.model.score(users)
        assert rec.model._dense is not None
        monkeypatch.setattr(item2vec, "DENSE_SCORES_UP_TO", 0)  # the per-movie softmax
        direct = rec.model.score(users)
        torch.testing.assert_close(cached, direct)
        rec.model.head.bias[3] += 2.0  # an in-place change, as an optimiser step makes
        moved = rec.model.score(users)
        monkeypatch.setattr(item2vec, "DENSE_SCORES_UP_TO", 20_000)
        torch.testing.assert_close(rec.model.score(users), moved)  # rebuilt, not stale
    assert not torch.allclose(moved, direct)
    assert pickle.loads(pickle.dumps(rec.model))._dense is None  # workers send no cache
