"""The rating-model layer's conformance suite: every preset whose model is a `RatingModel`
(forward on (user, movie) pairs). The facade suite (tests/recommender) covers every preset."""

from __future__ import annotations

import json

import pandas as pd
import pytest
import torch

from movierec.errors import ConfigError
from movierec.models import PRESETS, RatingModel, build_model, model_from_config
from movierec.training import RatingTensors, TrainConfig, Trainer, rating_errors

N_USERS, N_MOVIES = 60, 40


def as_tensors(frame: pd.DataFrame) -> RatingTensors:
    return RatingTensors(torch.as_tensor(pd.factorize(frame.user_id, sort=True)[0]),
                         torch.as_tensor(pd.factorize(frame.movie_id, sort=True)[0]),
                         torch.as_tensor(frame.rating.to_numpy(copy=True)))


RATING_PRESETS = sorted(n for n, p in PRESETS.items() if issubclass(p.model_class, RatingModel))


@pytest.fixture(params=RATING_PRESETS)
def model(request: pytest.FixtureRequest) -> RatingModel:
    built = build_model(request.param, N_USERS, N_MOVIES, seed=0)
    return built.eval()


def some_pairs(n: int = 50) -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(1)
    return (torch.randint(0, N_USERS, (n,), generator=g),
            torch.randint(0, N_MOVIES, (n,), generator=g))


def test_output_shapes_and_range(model: RatingModel) -> None:
    users, movies = some_pairs()
    output = model(users, movies)
    expected = {"cross_entropy": (50, len(getattr(model, "rating_values", ()))),
                "in_batch_softmax": (50, 50)}.get(model.loss_name, (50,))
    assert output.shape == expected
    predicted = model.predict(users, movies)
    assert predicted.shape == (50,)
    low, high = (1.0, 5.0) if model.predicts_ratings else (-1.0, 1.0)  # retrieval: cosine
    assert ((predicted >= low - 1e-6) & (predicted <= high + 1e-6)).all()


def test_score_matches_predict(model: RatingModel) -> None:
    users = torch.tensor([0, 5, 59])
    with torch.no_grad():
        grid = model.score(users)
        expected = model.predict(users.repeat_interleave(N_MOVIES),
                                 torch.arange(N_MOVIES).repeat(3)).view(3, N_MOVIES)
    assert grid.shape == (3, N_MOVIES)
    torch.testing.assert_close(grid, expected, rtol=1e-5, atol=1e-5)


def test_parts_cover_every_parameter(model: RatingModel) -> None:
    parts = model.parts()
    assert {"user", "movie"} <= set(parts)
    in_parts = {id(p) for part in parts.values() for p in part.parameters()}
    assert in_parts == {id(p) for p in model.parameters()}
    assert model.user_vectors().shape[0] == N_USERS
    assert model.movie_vectors().shape[0] == N_MOVIES


def test_config_round_trip_gives_identical_predictions(model: RatingModel) -> None:
    config = json.loads(json.dumps(model.config()))
    rebuilt = model_from_config(config)
    assert type(rebuilt) is type(model)
    assert rebuilt.config() == model.config()
    rebuilt.load_state_dict(model.state_dict())
    rebuilt.eval()
    users, movies = some_pairs()
    assert torch.equal(rebuilt.predict(users, movies), model.predict(users, movies))


def test_add_users_keeps_old_rows(model: RatingModel) -> None:
    if not model.supports_fold_in:
        with pytest.raises(ConfigError, match="refit"):
            model.add_users(3)
        return
    before = [table.weight.detach().clone() for table in model.user_tables()]
    model.add_users(3)
    assert model.n_users == N_USERS + 3
    assert model.config()["n_users"] == N_USERS + 3
    for old, table in zip(before, model.user_tables(), strict=True):
        assert table.weight.shape[0] == N_USERS + 3
        assert torch.equal(table.weight[:N_USERS], old)
    new_users = torch.tensor([N_USERS, N_USERS + 2])
    assert torch.isfinite(model.predict(new_users, torch.tensor([0, 1]))).all()


def test_training_beats_global_mean(model: RatingModel, synthetic_ratings: pd.DataFrame) -> None:
    data = as_tensors(synthetic_ratings)
    if model.training_regime == "full_batch":
        # their l2 is a sum-penalty sized for ~80k ratings; 1.2k synthetic ones need less
        model = build_model(model.preset, N_USERS, N_MOVIES, seed=0, l2=1.0,
                            hidden=tuple(32 for _ in model.hidden))
    elif model.training_regime == "members":  # fast members: the blend machinery is the point
        model = build_model(model.preset, N_USERS, N_MOVIES, seed=0, members=("biased-mf", "dot"))
    if not model.predicts_ratings:  # retrieval: its own (softmax) loss must fall instead
        history = Trainer(model, TrainConfig.for_preset(model.preset, epochs=20, batch_size=128,
                                                        progress=False)).fit(data)
        assert history.records[-1].train_loss < 0.9 * history.records[0].train_loss
        return
    baseline = (data.ratings - data.ratings.mean()).square().mean().sqrt().item()
    config = TrainConfig.for_preset(model.preset, epochs=60, batch_size=128, progress=False,
                                    patience=None, lr_schedule="none")
    config = config.replace(lr=max(config.lr, 0.01))  # small data: few steps, so a brisk rate
    Trainer(model, config).fit(data)
    rmse, _ = rating_errors(model, data)
    assert rmse < 0.9 * baseline
