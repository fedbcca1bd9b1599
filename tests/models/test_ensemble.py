"""The blended ensemble ("best"): ridge blend weights, blend arithmetic, facade round trip."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch

from movierec import Recommender
from movierec.errors import ConfigError
from movierec.models import build_model
from movierec.training.blending import ridge_blend


def test_ridge_blend_recovers_a_known_combination() -> None:
    x = torch.rand(200, 2, generator=torch.Generator().manual_seed(0)) * 4 + 1
    y = 0.3 * x[:, 0] + 0.7 * x[:, 1] + 0.1
    weights, bias = ridge_blend(x, y, l2=0.0)
    torch.testing.assert_close(weights, torch.tensor([0.3, 0.7]), atol=1e-5, rtol=0)
    assert bias == pytest.approx(0.1, abs=1e-5)


def test_blend_is_a_weighted_sum_of_members() -> None:
    model = build_model("best", 6, 5, members=("biased-mf", "dot"), seed=0).eval()
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
    assert not torch.allclose(rec.model.blend.weight, torch.full((1, 2), 0.5))
    before = rec.predict(synthetic_ratings)
    loaded = Recommender.load(rec.save(tmp_path / "best"))
    np.testing.assert_array_equal(loaded.predict(synthetic_ratings), before)
    with pytest.raises(ConfigError, match="refit"):
        rec.fold_in(synthetic_ratings.head(2))


def test_refit_keeps_the_blend_and_retrains_members_on_validation_too(
        synthetic_ratings: pd.DataFrame) -> None:
    def fitted(refit: bool) -> Recommender:
        rec = Recommender("best", members=["biased-mf", "dot"], refit=refit,
                          validation_fraction=0.2, progress=False, seed=3)
        return rec.fit(synthetic_ratings)

    plain, refitted = fitted(False), fitted(True)
    torch.testing.assert_close(refitted.model.blend.weight, plain.model.blend.weight)
    _, validation = plain._carve_validation(synthetic_ratings)
    truth = validation["rating"].to_numpy()

    def val_rmse(rec: Recommender) -> float:
        return float(np.sqrt(np.mean((rec.predict(validation) - truth) ** 2)))

    assert val_rmse(refitted) < val_rmse(plain) - 0.01  # the members now trained on them
