import numpy as np
import pandas as pd
import pytest

from movierec.evaluate import DampedBias, GlobalMean, cross_validate, mae, rmse, summarise


def test_rmse_and_mae_known_values():
    assert rmse([1, 2, 3], [1, 2, 5]) == pytest.approx(np.sqrt(4 / 3))
    assert mae([1, 2, 3], [2, 2, 5]) == pytest.approx(1.0)


def test_metrics_reject_mismatched_or_empty_input():
    with pytest.raises(ValueError, match="shape"):
        rmse([1, 2], [1, 2, 3])
    with pytest.raises(ValueError, match="empty"):
        mae([], [])


def frame(rows):
    return pd.DataFrame(rows, columns=["user_id", "movie_id", "rating"])


def test_damped_bias_hand_computed():
    train = frame([(1, 10, 5.0), (1, 20, 3.0), (2, 10, 4.0)])
    model = DampedBias(user_damping=1.0, movie_damping=1.0).fit(train)
    mean = 4.0
    movie10 = ((5 - mean) + (4 - mean)) / (2 + 1)  # = 1/3
    movie20 = (3 - mean) / (1 + 1)  # = -1/2
    user1 = ((5 - mean - movie10) + (3 - mean - movie20)) / (2 + 1)
    predicted = model.predict(frame([(1, 20, 0), (2, 10, 0), (99, 10, 0), (1, 99, 0)]))
    np.testing.assert_allclose(predicted, [
        mean + movie20 + user1,
        mean + movie10 + ((4 - mean - movie10) / 2),
        mean + movie10,  # unknown user: bias 0
        mean + user1,  # unknown movie: bias 0
    ], rtol=1e-6)


def test_global_mean_predicts_training_mean():
    model = GlobalMean().fit(frame([(1, 1, 2.0), (2, 2, 4.0)]))
    assert model.predict(frame([(5, 5, 0)] * 3)).tolist() == [3.0, 3.0, 3.0]


def test_cross_validate_fits_fresh_estimator_per_fold_and_summarises():
    data = frame([(u, m, float(u % 5 + 1)) for u in range(20) for m in range(10)])
    folds = [(data.iloc[i::2], data.iloc[1 - i::2]) for i in range(2)]
    seen = []
    per_fold, summary = cross_validate({"mean": GlobalMean, "bias": DampedBias}, folds,
                                       on_fold=lambda name, fold, row: seen.append((name, fold)))
    assert seen == [("mean", 1), ("mean", 2), ("bias", 1), ("bias", 2)]
    assert list(summary["model"]) == ["mean", "bias"]
    expected = per_fold[per_fold["model"] == "bias"]["rmse"]
    assert summary.loc[1, "rmse_mean"] == pytest.approx(expected.mean())
    assert summary.loc[1, "rmse_std"] == pytest.approx(expected.std(ddof=1))
    assert (summary["folds"] == 2).all()
    assert summary.loc[1, "rmse_mean"] < summary.loc[0, "rmse_mean"]


def test_summarise_single_fold_has_zero_std():
    per_fold = pd.DataFrame({"model": ["a"], "fold": [1], "rmse": [0.9]})
    assert summarise(per_fold).loc[0, "rmse_std"] == 0.0
