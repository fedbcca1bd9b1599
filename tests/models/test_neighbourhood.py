"""Item neighbourhood (KNNBaseline): equals a loop-by-loop reference, prunes, trains in one go."""

from __future__ import annotations

import math

import pandas as pd
import pytest
import torch

from movierec import Recommender
from movierec.errors import ConfigError
from movierec.models import ItemNeighbourhood, build_model
from movierec.training import RatingTensors, TrainConfig, Trainer


def random_ratings(n_users: int = 25, n_movies: int = 15, n: int = 160, seed: int = 0
                   ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    generator = torch.Generator().manual_seed(seed)
    cells = torch.randperm(n_users * n_movies, generator=generator)[:n]
    ratings = torch.randint(1, 6, (n,), generator=generator).float()
    return cells // n_movies, cells % n_movies, ratings


def reference_prediction(users, movies, ratings, user, movie, k, shrink, user_reg, movie_reg):
    """KNNBaseline written out with plain loops over the ratings (the textbook definition)."""
    rows = list(zip(users.tolist(), movies.tolist(), ratings.tolist(), strict=True))
    mean = sum(r for _, _, r in rows) / len(rows)
    movie_bias = {i: sum(r - mean for _, j, r in rows if j == i)
                  / (sum(1 for _, j, _ in rows if j == i) + movie_reg)
                  for i in set(movies.tolist())}
    user_bias = {u: sum(r - mean - movie_bias[j] for v, j, r in rows if v == u)
                 / (sum(1 for v, _, _ in rows if v == u) + user_reg)
                 for u in set(users.tolist())}
    residual = {(u, j): r - mean - user_bias[u] - movie_bias[j] for u, j, r in rows}

    def similarity(i: int, j: int) -> float:
        both = [u for u in user_bias if (u, i) in residual and (u, j) in residual]
        num = sum(residual[u, i] * residual[u, j] for u in both)
        den = math.sqrt(sum(residual[u, i] ** 2 for u in both)
                        * sum(residual[u, j] ** 2 for u in both))
        support = max(len(both) - 1, 0)
        return 0.0 if den == 0 else num / den * support / (support + shrink)

    neighbours = sorted(((similarity(movie, j), j) for (u, j) in residual
                         if u == user and j != movie), reverse=True)[:k]
    positive = [(s, j) for s, j in neighbours if s > 0]
    baseline = mean + user_bias.get(user, 0.0) + movie_bias.get(movie, 0.0)
    if not positive:
        return baseline
    return baseline + (sum(s * residual[user, j] for s, j in positive)
                       / sum(s for s, _ in positive))


def test_matches_the_loop_reference_when_nothing_is_pruned() -> None:
    users, movies, ratings = random_ratings()
    model = ItemNeighbourhood(25, 15, k=3, neighbours=15, shrink=2.0, user_reg=1.0,
                              movie_reg=2.0)
    model.observe_ratings(users, movies, ratings)
    query_users, query_movies = torch.arange(25).repeat(15), torch.arange(15).repeat_interleave(25)
    got = model(query_users, query_movies)
    expected = torch.tensor([reference_prediction(users, movies, ratings, u, i, 3, 2.0, 1.0, 2.0)
                             for u, i in zip(query_users.tolist(), query_movies.tolist(),
                                             strict=True)])
    torch.testing.assert_close(got, expected, rtol=1e-4, atol=1e-4)


def test_pruning_keeps_each_movies_most_similar_neighbours() -> None:
    users, movies, ratings = random_ratings()
    full = ItemNeighbourhood(25, 15, k=3, neighbours=15, shrink=2.0)
    pruned = ItemNeighbourhood(25, 15, k=3, neighbours=4, shrink=2.0)
    for model in (full, pruned):
        model.observe_ratings(users, movies, ratings)
    torch.testing.assert_close(pruned.movie.similarity, full.movie.similarity[:, :4])
    assert torch.equal(full.movie.neighbour_index[:, -1], torch.arange(15, dtype=torch.int32))
    assert (pruned.movie.similarity >= 0).all()  # negative similarities are never used


def test_trainer_fits_in_one_record_and_refits_on_new_ratings() -> None:
    users, movies, ratings = random_ratings(n=200, seed=1)
    data = RatingTensors(users, movies, ratings)
    train, validation = data.take(torch.arange(200) >= 20), data.take(torch.arange(200) < 20)
    model = build_model("item-knn", 25, 15)
    history = Trainer(model, TrainConfig.for_preset("item-knn", progress=False)).fit(
        train, validation)
    assert len(history.records) == 1 and history.best_epoch == 1
    record = history.records[0]
    assert record.train_loss ** 0.5 < record.val_rmse  # it fits what it saw better
    before = model.user.bias.clone()
    Trainer(model, TrainConfig.for_preset("item-knn", progress=False)).fit(data)
    assert not torch.equal(before, model.user.bias)  # a second fit replaces the first


def test_recommender_round_trip(tmp_path, synthetic_ratings: pd.DataFrame) -> None:
    rec = Recommender("item-knn", seed=0, progress=False).fit(synthetic_ratings)
    rec.save(tmp_path / "knn")
    loaded = Recommender.load(tmp_path / "knn")
    pairs = synthetic_ratings.head(50)[["user_id", "movie_id"]]
    assert (rec.predict(pairs) == loaded.predict(pairs)).all()


@pytest.mark.parametrize("options", [{"k": 0}, {"k": 50, "neighbours": 10}, {"shrink": -1.0}])
def test_bad_settings_name_the_value(options: dict) -> None:
    with pytest.raises(ConfigError, match=r"k=|shrink"):
        ItemNeighbourhood(5, 5, **options)


def test_tune_searches_its_settings_on_validation(synthetic_ratings: pd.DataFrame) -> None:
    from movierec.tuning.search import tune_preset

    study = tune_preset("item-knn", synthetic_ratings, trials=3, seed=0)
    assert len(study.trials) == 3
    assert {"k", "shrink", "user_reg", "movie_reg"} == set(study.best_params)
    assert 0.0 < study.best_value < 2.0
