"""Ranking composites: the weight grid, standardised blends, weights chosen on validation,
retrieve-then-rank, and the history every ranker reads."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch

from movierec import Recommender
from movierec.data import SeenMovies, top_k_unseen
from movierec.errors import ConfigError
from movierec.models import UserHistory, build_model
from movierec.models.ranking_blend import standardised, weight_grid


def two_clusters(n_users: int = 60, n_movies: int = 40, seed: int = 0) -> pd.DataFrame:
    """Users of each half rate only movies of their half; the second half's movies are
    rated by more users, so popularity recommends them to everyone."""
    rng = np.random.default_rng(seed)
    rows = []
    for user in range(n_users):
        first = user < n_users // 2
        pool = np.arange(n_movies // 2) if first else np.arange(n_movies // 2, n_movies)
        count = 8 if first else 14
        for movie in rng.choice(pool, count, replace=False):
            rows.append((1000 + user, 5000 + movie, 4.0, 10 * user + movie))
    return pd.DataFrame(rows, columns=["user_id", "movie_id", "rating", "timestamp"])


def test_weight_grid_is_the_simplex() -> None:
    assert weight_grid(2, 0.5) == [(0.0, 1.0), (0.5, 0.5), (1.0, 0.0)]
    grid = weight_grid(3, 0.25)
    assert len(grid) == 15 and all(abs(sum(w) - 1) < 1e-9 for w in grid)


def test_standardised_rows() -> None:
    scores = standardised(torch.tensor([[1.0, 2.0, 3.0], [10.0, 10.0, 40.0]]))
    assert torch.allclose(scores.mean(dim=1), torch.zeros(2), atol=1e-6)
    assert torch.allclose(scores.std(dim=1), torch.ones(2), atol=1e-6)


def test_fixed_weights_score_as_the_member() -> None:
    data = two_clusters()
    alone = Recommender("ease", progress=False).fit(data)
    blend = Recommender("ranking-blend", progress=False, members=("ease", "popularity"),
                        weights=(1.0, 0.0)).fit(data)
    users = torch.arange(10)
    with torch.no_grad():
        assert torch.allclose(blend.model.score(users), standardised(alone.model.score(users)),
                              atol=1e-5)


def test_weights_chosen_on_validation_favour_the_better_member() -> None:
    rec = Recommender("ranking-blend", progress=False, members=("ease", "popularity"),
                      weight_step=0.5).fit(two_clusters())
    ease_weight, popularity_weight = rec.model.blend_weights.tolist()
    assert ease_weight > popularity_weight  # popularity lists the other cluster's movies
    search = [r for r in rec.history.records if r.val_ndcg is not None]
    assert len(search) == 1 and 0.0 < search[0].val_ndcg <= 1.0
    listed = rec.recommend(1000, k=5)["movie_id"]
    assert (listed < 5020).all()  # a first-half user gets first-half movies


def test_blend_members_must_fold_in_from_history() -> None:
    with pytest.raises(ConfigError, match="biased-mf"):
        build_model("ranking-blend", 5, 5, members=("ease", "biased-mf"))
    with pytest.raises(ConfigError, match="weights"):
        build_model("ranking-blend", 5, 5, members=("ease", "popularity"), weights=(1.0,))


def test_retrieve_then_rank_scores_candidates_and_seen_movies_only() -> None:
    data = two_clusters()
    rec = Recommender("retrieve-rank", progress=False, members=("popularity", "ease"),
                      candidates=3).fit(data)
    with torch.no_grad():
        scores = rec.model.score(torch.tensor([0]))[0]
    seen = set(rec.seen.movies_of(0))
    finite = set(torch.isfinite(scores).nonzero().ravel().tolist())
    assert seen <= finite and len(finite - seen) == 3
    with torch.no_grad():
        popular = rec.model.member_models[0].score(torch.tensor([0]))[0]
    popular[list(seen)] = -torch.inf
    assert finite - seen == set(torch.topk(popular, 3).indices.tolist())
    listed = rec.recommend(1000, k=10)
    assert len(listed) == 3  # the candidates, ordered by EASE
    assert list(listed["score"]) == sorted(listed["score"], reverse=True)


def test_user_history_orders_by_time_and_replaces_rows() -> None:
    history = UserHistory(3)
    history.set(torch.tensor([0, 0, 1, 0]), torch.tensor([7, 8, 9, 6]),
                torch.tensor([1.0, 2.0, 3.0, 4.0]), torch.tensor([30, 10, 5, 20]))
    assert history.movies.tolist() == [8, 6, 7, 9]
    assert history.indptr.tolist() == [0, 3, 4, 4]
    history.add_users(1)
    history.replace_rows(torch.tensor([3, 0]), torch.tensor([1, 2]), torch.tensor([5.0, 5.0]))
    assert history.indptr.tolist() == [0, 1, 2, 2, 3]
    assert history.movies.tolist() == [2, 9, 1]
    reloaded = UserHistory(0)
    reloaded.load_state_dict(history.state_dict())
    assert torch.equal(reloaded.movies, history.movies)
    assert reloaded.csr(10).toarray()[1, 9] == 1.0


def test_top_k_unseen_masks_and_pads() -> None:
    seen = SeenMovies.from_indices(np.array([0, 0]), np.array([1, 2]), 1, 4)
    scores = torch.tensor([[0.1, 0.9, 0.8, float("nan")]])
    positions, values = top_k_unseen(scores, 10, seen=seen, users=np.array([0]))
    assert positions.tolist() == [[0, -1, -1, -1]]
    assert values[0, 0] == pytest.approx(0.1) and np.isneginf(values[0, 1:]).all()
    with pytest.raises(ValueError):
        top_k_unseen(scores, -1)


def test_a_member_weighted_zero_is_neither_refitted_nor_asked() -> None:
    rec = Recommender("ranking-blend", progress=False, members=("ease", "popularity"),
                      weight_step=1.0).fit(two_clusters())
    assert rec.model.blend_weights.tolist() == [1.0, 0.0]
    # two fits on the carved part, the weight search, then the refit of EASE alone
    assert len(rec.history.records) == 4

    def refuse(_: torch.Tensor) -> torch.Tensor:
        raise AssertionError("a member weighted 0 was asked for scores")

    rec.model.member_models[1].score = refuse
    rec.model.member_models[1].similar_movie_scores = refuse
    assert len(rec.recommend(1000, k=5)) == 5
    assert len(rec.similar_movies(5000, k=3)) == 3


def test_members_fitted_side_by_side_match_one_after_another() -> None:
    data = two_clusters()
    fits = [Recommender("ranking-blend", progress=False, members=("ease", "item2vec"),
                        member_options=({}, {"epochs": 2}), weight_step=0.5,
                        member_processes=processes).fit(data) for processes in (1, 2)]
    assert fits[0].model.blend_weights.tolist() == fits[1].model.blend_weights.tolist()
    users = torch.arange(10)
    with torch.no_grad():
        assert torch.allclose(fits[0].model.score(users), fits[1].model.score(users),
                              atol=1e-5)
    assert len(fits[1].history.records) == len(fits[0].history.records)


def test_the_facade_hands_weight_holdout_to_the_weight_search(monkeypatch) -> None:
    # the facade's own `validation_fraction` is for rating models; it must not swallow it
    from movierec.training import ranking_members

    shares = []
    original = ranking_members.holdout_mask

    def recording(users: np.ndarray, fraction: float, seed: int) -> np.ndarray:
        shares.append(fraction)
        return original(users, fraction, seed)

    monkeypatch.setattr(ranking_members, "holdout_mask", recording)
    rec = Recommender("ranking-blend", progress=False, members=("ease", "popularity"),
                      weight_step=0.5, weight_holdout=0.3).fit(two_clusters())
    assert shares == [0.3] and rec.model.weight_holdout == 0.3
    held = original(np.repeat(np.arange(100), 50), 0.3, seed=0)
    assert abs(held.mean() - 0.3) < 0.02
