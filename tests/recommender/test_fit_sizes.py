"""One `fit` at every size: DataFrame, parquet and pyarrow inputs, the columnar path chosen
by size (forced here on small data), agreeing with the frame path on everything but the
trained weights, clear errors for bad input, and the CLI's `--ratings` sharing the code."""

import json

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
import torch

from movierec import Recommender
from movierec.cli.app import app
from movierec.errors import ConfigError, DataFormatError, DataSourceError
from movierec.recommender import at_scale

OPTIONS = {"epochs": 2, "num_threads": 1, "progress": False, "dim": 8}  # 1 thread: repeatable


@pytest.fixture(scope="module")
def ratings(ratings_factory):
    return ratings_factory(n_users=120, n_movies=80, density=0.4, seed=3)


@pytest.fixture(scope="module")
def parquet(ratings, tmp_path_factory):
    path = tmp_path_factory.mktemp("fit-sizes") / "ratings.parquet"
    ratings.to_parquet(path)
    return path


@pytest.fixture(scope="module")
def columnar(ratings):
    return Recommender("biased-mf", **OPTIONS).fit(ratings, engine="columnar")


def _weights(rec):
    return {k: v.clone() for k, v in rec.model.state_dict().items()}


def test_frame_parquet_and_arrow_inputs_give_one_model(ratings, parquet, columnar):
    for source in (str(parquet), parquet, pa.Table.from_pandas(ratings)):
        again = Recommender("biased-mf", **OPTIONS).fit(source, engine="columnar")
        for name, value in _weights(columnar).items():
            torch.testing.assert_close(again.model.state_dict()[name], value, rtol=0, atol=0)
        assert again.history.records[-1].val_rmse == columnar.history.records[-1].val_rmse


def test_small_parquet_and_arrow_inputs_take_the_frame_path(ratings, parquet):
    frame = Recommender("biased-mf", **OPTIONS).fit(ratings)
    for source in (parquet, pa.Table.from_pandas(ratings)):
        again = Recommender("biased-mf", **OPTIONS).fit(source)
        assert again.history.batch_losses == frame.history.batch_losses  # the Trainer's loop
        np.testing.assert_array_equal(again.predict(ratings), frame.predict(ratings))


def test_columnar_and_frame_paths_agree_on_ids_seen_fallback_and_carve(ratings, columnar):
    frame = Recommender("biased-mf", **OPTIONS).fit(ratings, engine="frame")
    assert columnar.user_ids == frame.user_ids and columnar.movie_ids == frame.movie_ids
    assert (columnar.seen.matrix != frame.seen.matrix).nnz == 0
    assert columnar.fallback.mean_ == pytest.approx(frame.fallback.mean_, rel=1e-7)
    for side in ("user_bias_", "movie_bias_"):
        pd.testing.assert_series_equal(getattr(columnar.fallback, side),
                                       getattr(frame.fallback, side), rtol=1e-7)
    assert columnar.history.n_train == frame.history.n_train  # the same validation carve
    unknown = pd.DataFrame({"user_id": [10_000], "movie_id": [ratings["movie_id"].iloc[0]]})
    np.testing.assert_allclose(columnar.predict(unknown), frame.predict(unknown), rtol=1e-6)


def test_columnar_fit_learns(ratings, columnar):
    mean = ratings["rating"].mean()
    base = np.sqrt(((ratings["rating"] - mean) ** 2).mean())
    assert columnar.history.records[-1].val_rmse < 0.95 * base
    assert len(columnar.history.records) == 2


def test_size_picks_the_path(ratings, monkeypatch):
    auto = Recommender("biased-mf", **OPTIONS)
    assert not at_scale.takes_columnar_path(auto, ratings, "auto", refit=False)
    monkeypatch.setattr(at_scale, "COLUMNAR_ROWS", len(ratings))
    assert at_scale.takes_columnar_path(auto, ratings, "auto", refit=False)
    assert not at_scale.takes_columnar_path(auto, ratings, "auto", refit=True)
    assert not at_scale.takes_columnar_path(auto, ratings, "frame", refit=False)
    ranker = Recommender("ease", progress=False)  # not trained on minibatches: frame path
    assert not at_scale.takes_columnar_path(ranker, ratings, "auto", refit=False)
    with pytest.raises(ConfigError, match="preset 'ease'"):
        ranker.fit(ratings, engine="columnar")
    with pytest.raises(ConfigError, match="engine must be one of"):
        auto.fit(ratings, engine="fast")


def test_bad_input_names_the_file_column_or_value(ratings, tmp_path):
    rec = Recommender("biased-mf", **OPTIONS)
    path = tmp_path / "no-movie.parquet"
    ratings.drop(columns="movie_id").to_parquet(path)
    for engine in ("columnar", "auto"):
        with pytest.raises(DataFormatError, match=r"no-movie\.parquet: missing column.*movie_id"):
            rec.fit(path, engine=engine)
    with pytest.raises(DataSourceError, match=r"absent\.parquet does not exist"):
        rec.fit(tmp_path / "absent.parquet")
    nan = ratings.assign(rating=ratings["rating"].where(ratings.index != 7))
    with pytest.raises(DataFormatError, match=r"fit\(\): row 7: rating is missing"):
        rec.fit(nan, engine="columnar")
    twice = pd.concat([ratings, ratings.iloc[[5]]])
    with pytest.raises(DataFormatError, match=r"rates movie \d+ more than once"):
        rec.fit(twice, engine="columnar")
    with pytest.raises(DataFormatError, match=r"row \d+: rating 5 is outside 1..4"):
        Recommender("biased-mf", rating_range=(1, 4), **OPTIONS).fit(ratings, engine="columnar")
    with pytest.raises(DataFormatError, match=r"user_id holds \w*string values; ids must be"):
        rec.fit(ratings.astype({"user_id": str}), engine="columnar")
    with pytest.raises(DataFormatError, match=r"a pyarrow Table or a parquet .*got list"):
        rec.fit([(1, 2, 4.0)])


def test_given_validation_drops_unknown_ids(ratings, caplog):
    validation = pd.concat([ratings.iloc[:30], ratings.iloc[:1].assign(user_id=99_999)])
    rec = Recommender("biased-mf", **OPTIONS).fit(ratings, validation, engine="columnar")
    assert "dropped 1 of 31 validation ratings" in caplog.text
    assert rec.history.n_train == len(ratings)  # nothing carved when validation is given


def test_save_and_load_a_columnar_model(ratings, columnar, tmp_path):
    loaded = Recommender.load(columnar.save(tmp_path / "model"))
    np.testing.assert_array_equal(loaded.predict(ratings), columnar.predict(ratings))
    user = int(ratings["user_id"].iloc[0])
    pd.testing.assert_frame_equal(loaded.recommend(user, 5), columnar.recommend(user, 5))


def test_cli_ratings_runs_the_facade_code(ratings, parquet, tmp_path):
    out = tmp_path / "cli-model"
    options = [a for k, v in {"epochs": 2, "num_threads": 1, "dim": 8,
                              "progress": "false"}.items() for a in ("-o", f"{k}={v}")]
    app(["train", "--out", str(out), "--ratings", str(parquet), "--model", "biased-mf",
         "--test-fraction", "0", "--no-plot", *options], standalone_mode=False)
    facade = Recommender("biased-mf", validation_fraction=0.0, **OPTIONS).fit(
        parquet, engine="columnar")
    cli = Recommender.load(out)
    np.testing.assert_array_equal(cli.predict(ratings), facade.predict(ratings))
    assert json.loads((out / "history.json").read_text())["n_train"] == len(ratings)
