"""The blended ensemble ("best"): ridge blend weights, blend arithmetic, facade round trip."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch

from movierec import Recommender
from movierec.errors import ConfigError
from movierec.models import build_model
from movierec.training.blending import cross_validated_l2, ridge_blend


def test_ridge_blend_recovers_a_known_combination() -> None:
    x = torch.rand(200, 2, generator=torch.Generator().manual_seed(0)) * 4 + 1
    y = 0.3 * x[:, 0] + 0.7 * x[:, 1] + 0.1
    weights, bias = ridge_blend(x, y, l2=0.0)
    torch.testing.assert_close(weights, torch.tensor([0.3, 0.7]), atol=1e-5, rtol=0)
    assert bias == pytest.approx(0.1, abs=1e-5)


def test_blend_is_a_weighted_sum_of_members() -> None:
    model = build_model("best", 6, 5, members=("biased-mf", "dot"), blend_features=False,
                        seed=0).eval()
    users, movies = torch.tensor([0, 3, 5]), torch.tensor([1, 4, 0])
    model.set_blend(torch.tensor([0.25, 0.5]), 1.0)
    with torch.no_grad():
        inputs = model.member_predictions(users, movies)
        torch.testing.assert_close(model(users, movies), 0.25 * inputs[:, 0] + 0.5 * inputs[:, 1]
                                   + 1.0)


def test_best_fits_blend_on_validation_and_round_trips(synthetic_ratings: pd.DataFrame,
                                                       tmp_path) -> None:
    rec = Recommender("best", members=["autorec", "biased-mf"], validation_fraction=0.2,
                      progress=False)
    rec.fit(synthetic_ratings)
    assert len(rec.history.records) == 3  # two members, then the blend
    member_weights = rec.model.blend.weight.view(2, -1)[:, 0]  # not the initial equal blend
    assert not torch.allclose(member_weights, torch.full((2,), 0.5))
    before = rec.predict(synthetic_ratings)
    loaded = Recommender.load(rec.save(tmp_path / "best"))
    np.testing.assert_array_equal(loaded.predict(synthetic_ratings), before)
    with pytest.raises(ConfigError, match="refit"):
        rec.fold_in(synthetic_ratings.head(2))


@pytest.mark.parametrize("refit_epochs", [None, 3])  # from scratch; fine-tuned
def test_refit_keeps_the_blend_and_retrains_members_on_validation_too(
        synthetic_ratings: pd.DataFrame, refit_epochs: int | None) -> None:
    def fitted(refit: bool) -> Recommender:
        rec = Recommender("best", members=["biased-mf", "dot"], refit=refit,
                          refit_epochs=refit_epochs, validation_fraction=0.2, progress=False,
                          seed=3)
        return rec.fit(synthetic_ratings)

    plain, refitted = fitted(False), fitted(True)
    torch.testing.assert_close(refitted.model.blend.weight, plain.model.blend.weight)
    validation = synthetic_ratings[plain._validation_mask(plain._tensors(synthetic_ratings))]
    truth = validation["rating"].to_numpy()

    def val_rmse(rec: Recommender) -> float:
        return float(np.sqrt(np.mean((rec.predict(validation) - truth) ** 2)))

    assert val_rmse(refitted) < val_rmse(plain) - 0.01  # the members now trained on them


def test_feature_weighted_blend_matches_its_formula_and_the_grid() -> None:
    model = build_model("best", 6, 5, members=("biased-mf", "dot"), blend_features=True,
                        seed=0).eval()
    users, movies = torch.tensor([0, 0, 0, 1, 2, 5]), torch.tensor([1, 1, 2, 1, 4, 0])
    model.observe_ratings(users, movies, torch.tensor([4.0, 3.0, 5.0, 2.0, 1.0, 3.0]))
    assert model.user_support[0] > model.user_support[1]  # user 0 has more ratings
    weights = torch.tensor([0.4, 0.1, -0.2, 0.5, 0.0, 0.3])  # member-major, 3 features each
    model.set_blend(weights, 0.5)
    with torch.no_grad():
        inputs = model.member_predictions(users, movies)
        u, m = model.user_support[users], model.movie_support[movies]
        expected = (inputs[:, 0] * (0.4 + 0.1 * u - 0.2 * m)
                    + inputs[:, 1] * (0.5 + 0.0 * u + 0.3 * m) + 0.5)
        torch.testing.assert_close(model(users, movies), expected)
        grid = model.score(torch.arange(6))
        torch.testing.assert_close(grid[users, movies], model.predict(users, movies))


def test_cross_validated_l2_prefers_shrinkage_only_for_useless_members() -> None:
    generator = torch.Generator().manual_seed(0)
    truth = torch.rand(400, generator=generator) * 4 + 1
    noise = torch.randn(400, 3, generator=generator)
    informative = truth[:, None] + 0.1 * noise
    useless = torch.randn(400, 3, generator=generator)
    assert cross_validated_l2(informative, truth) <= 1.0
    assert cross_validated_l2(useless, truth) >= 100.0


def test_members_fitted_in_worker_processes_equal_those_fitted_in_turn(
        synthetic_ratings: pd.DataFrame) -> None:
    def fitted(processes: int) -> Recommender:
        rec = Recommender("best", members=["autorec", "biased-mf", "dot"], refit=True,
                          validation_fraction=0.2, progress=False, seed=1,
                          member_processes=processes)
        return rec.fit(synthetic_ratings)

    in_turn, side_by_side = fitted(1), fitted(2)
    for name, value in in_turn.model.state_dict().items():
        torch.testing.assert_close(side_by_side.model.state_dict()[name], value, atol=0, rtol=0,
                                   msg=name)
    assert [r.val_rmse for r in side_by_side.history.records] == [
        r.val_rmse for r in in_turn.history.records]


def test_bad_refit_settings_are_refused() -> None:
    with pytest.raises(ConfigError, match="member_processes must be >= 1"):
        Recommender("best", member_processes=0)
    with pytest.raises(ConfigError, match="refit_epochs must be >= 1"):
        build_model("best", 6, 5, refit=True, refit_epochs=0)
