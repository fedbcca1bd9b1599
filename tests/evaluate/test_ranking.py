"""Top-k metrics against hand-computed values on a fixed score matrix."""

import math

import numpy as np
import pytest
import torch

from movierec.data import SeenMovies
from movierec.evaluate.ranking import (
    factorized_top_k_accuracy,
    per_user_ranking_metrics,
    ranking_metrics,
    sample_negatives,
    sampled_metrics,
    top_k_indices,
)

# 2 users x 5 movies; higher is better.
SCORES = torch.tensor([[0.9, 0.8, 0.7, 0.6, 0.5],
                       [0.1, 0.2, 0.3, 0.4, 0.5]])


def scorer(users):
    return SCORES[torch.as_tensor(users)]


def test_top_k_excludes_seen():
    seen = SeenMovies.from_indices(np.array([0]), np.array([0]), 2, 5)
    top = top_k_indices(scorer, np.array([0, 1]), 2, seen)
    assert top.tolist() == [[1, 2], [4, 3]]


def test_ranking_metrics_hand_computed():
    # user 0 saw movie 0 in training; test movies: user 0 -> {2, 4}, user 1 -> {4}
    seen = SeenMovies.from_indices(np.array([0]), np.array([0]), 2, 5)
    m = ranking_metrics(scorer, np.array([0, 0, 1]), np.array([2, 4, 4]), 5, seen=seen,
                        ks=(2,))
    # user 0 top2 = [1, 2]: one hit at rank 2; user 1 top2 = [4, 3]: hit at rank 1
    assert m["recall@2"] == pytest.approx((1 / 2 + 1) / 2)
    assert m["precision@2"] == pytest.approx((1 / 2 + 1 / 2) / 2)
    ndcg_user0 = (1 / math.log2(3)) / (1 + 1 / math.log2(3))
    assert m["ndcg@2"] == pytest.approx((ndcg_user0 + 1.0) / 2)
    assert m["hit_rate@2"] == 1.0
    assert m["map@2"] == pytest.approx(((1 / 2) / 2 + 1.0) / 2)
    assert m["mrr@2"] == pytest.approx((1 / 2 + 1) / 2)
    assert m["coverage@2"] == pytest.approx(4 / 5)


def test_per_user_metrics_are_each_users_and_average_to_the_means():
    seen = SeenMovies.from_indices(np.array([0]), np.array([0]), 2, 5)
    args = (scorer, np.array([0, 0, 1]), np.array([2, 4, 4]), 5)
    table = per_user_ranking_metrics(*args, seen=seen, ks=(2,))
    assert table.index.tolist() == [0, 1]
    assert table["ndcg@2"].tolist() == pytest.approx([(1 / math.log2(3))
                                                      / (1 + 1 / math.log2(3)), 1.0])
    assert table["recall@2"].tolist() == [0.5, 1.0]
    means = ranking_metrics(*args, seen=seen, ks=(2,))
    assert table.mean().to_dict() == pytest.approx(
        {name: value for name, value in means.items() if not name.startswith("coverage")})


def test_excluding_seen_changes_the_answer():
    seen = SeenMovies.from_indices(np.array([0]), np.array([1]), 2, 5)
    kept = ranking_metrics(scorer, np.array([0]), np.array([2]), 5, seen=None, ks=(2,))
    excluded = ranking_metrics(scorer, np.array([0]), np.array([2]), 5, seen=seen, ks=(2,))
    assert kept["hit_rate@2"] == 0.0 and excluded["hit_rate@2"] == 1.0


def test_factorized_top_k_counts_pairs_without_exclusion():
    acc = factorized_top_k_accuracy(scorer, np.array([1, 0, 0]), np.array([4, 0, 3]),
                                    ks=(1, 4))
    # ranks: user1/movie4 -> 0, user0/movie0 -> 0, user0/movie3 -> 3
    assert acc["factorized_top_1"] == pytest.approx(2 / 3)
    assert acc["factorized_top_4"] == 1.0


def test_sampled_protocol_hand_computed():
    def pair_scorer(users, candidates):
        return SCORES[torch.as_tensor(users)[:, None], torch.as_tensor(candidates)].numpy()

    result = sampled_metrics(pair_scorer, np.array([0, 1]), np.array([2, 0]),
                             np.array([[0, 1, 3], [2, 3, 4]]), k=2)
    # user 0: positive 0.7 beaten by 0.9 and 0.8 -> rank 2 (miss at k=2); user 1: rank 3
    assert result["sampled_hr@2"] == 0.0
    result = sampled_metrics(pair_scorer, np.array([0]), np.array([1]),
                             np.array([[0, 3, 4]]), k=2)
    assert result["sampled_hr@2"] == 1.0
    assert result["sampled_ndcg@2"] == pytest.approx(1 / math.log2(3))


def test_sampled_protocol_ignores_the_positive_listed_as_a_negative():
    def pair_scorer(users, candidates):
        return SCORES[torch.as_tensor(users)[:, None], torch.as_tensor(candidates)].numpy()

    # user 1's positive (movie 3, score 0.4) is also among its "negatives"; only 4 beats it
    result = sampled_metrics(pair_scorer, np.array([1]), np.array([3]),
                             np.array([[3, 4, 0]]), k=2)
    assert result["sampled_hr@2"] == 1.0
    assert result["sampled_ndcg@2"] == pytest.approx(1 / math.log2(3))


def test_sample_negatives_avoids_rated_and_held_out_movies():
    seen = SeenMovies.from_indices(np.array([0, 0, 1]), np.array([0, 1, 5]), 2, 8)
    negatives = sample_negatives(seen, np.array([0, 1]), np.array([2, 6]), n=5, seed=1)
    assert negatives.shape == (2, 5)
    assert set(negatives[0]) == {3, 4, 5, 6, 7}  # all 5 movies user 0 has not touched
    assert not set(negatives[1]) & {5, 6} and len(set(negatives[1])) == 5
    assert np.array_equal(negatives, sample_negatives(seen, np.array([0, 1]),
                                                      np.array([2, 6]), n=5, seed=1))
    with pytest.raises(ValueError, match="cannot sample 6"):
        sample_negatives(seen, np.array([0]), np.array([2]), n=6)
