"""Sparse-gradient optimisers: only the rows a batch touches move, and training still learns."""

import pytest
import torch

from movierec.errors import ConfigError
from movierec.models import build_model
from movierec.training import RatingTensors, TrainConfig, Trainer, rating_errors


def data(ratings):
    return RatingTensors(torch.as_tensor(ratings["user_id"].to_numpy() - 1),
                         torch.as_tensor(ratings["movie_id"].to_numpy() // 10),
                         torch.tensor(ratings["rating"].to_numpy()))


@pytest.mark.parametrize("optimizer", ["sparse_adam", "sparse_sgd"])
def test_sparse_optimizer_moves_only_touched_rows(synthetic_ratings, optimizer):
    train = data(synthetic_ratings)
    model = build_model("biased-mf", 60, 40, seed=0)
    untouched = 39  # no rating of movie index 39 in this batch set
    keep = (train.movies != untouched)
    train = RatingTensors(train.users[keep], train.movies[keep], train.ratings[keep])
    before = model.movie.embedding.weight[untouched].clone()
    config = TrainConfig(epochs=2, batch_size=64, lr=0.05, optimizer=optimizer, progress=False)
    Trainer(model, config).fit(train)
    assert torch.equal(model.movie.embedding.weight[untouched], before)
    assert not model.movie.embedding.sparse  # the sparse flag is only set during fit


def test_sparse_adam_learns(synthetic_ratings):
    train = data(synthetic_ratings)
    model = build_model("biased-mf", 60, 40, seed=0)
    start, _ = rating_errors(model, train)
    config = TrainConfig(epochs=15, batch_size=128, lr=0.03, optimizer="sparse_adam",
                         progress=False)
    Trainer(model, config).fit(train)
    assert rating_errors(model, train)[0] < 0.8 * start


def test_sparse_optimizer_refuses_fold_in(synthetic_ratings):
    model = build_model("biased-mf", 60, 40, seed=0)
    config = TrainConfig(epochs=1, optimizer="sparse_adam", progress=False)
    with pytest.raises(ConfigError, match="fold in"):
        Trainer(model, config).fit(data(synthetic_ratings), trainable_user_rows=torch.tensor([0]))
