"""Options of the wrong kind are refused with a message naming the option and the value."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from movierec import Recommender
from movierec.cli.app import app
from movierec.errors import ConfigError
from movierec.models import build_model
from movierec.training import TrainConfig


@pytest.mark.parametrize(("preset", "options", "named"), [
    ("item-ridge", {"zero_diagonal": "no"}, "zero_diagonal='no' must be true or false"),
    ("ease", {"l2": "abc"}, "l2='abc' must be a number"),
    ("ease-window", {"window": 2.5}, "window=2.5 must be a whole number or null"),
    ("biased-mf", {"dim": True}, "dim=True must be a whole number"),
])
def test_model_options_of_the_wrong_kind_are_refused(preset: str, options: dict,
                                                     named: str) -> None:
    with pytest.raises(ConfigError, match=re.escape(f"preset '{preset}' option {named}")):
        build_model(preset, 3, 4, **options)


def test_numbers_of_any_width_are_accepted() -> None:
    model = build_model("ease", 3, 4, l2=np.float32(10.0), window=np.int64(3))
    assert model.l2 == 10.0 and model.window == 3
    assert build_model("ease", 3, 4, l2=50).l2 == 50.0  # a whole number is a number


def test_training_options_of_the_wrong_kind_are_refused() -> None:
    with pytest.raises(ConfigError, match="training option epochs='abc' must be a whole"):
        TrainConfig.from_dict({"epochs": "abc"})
    with pytest.raises(ConfigError, match=r"training option num_threads=1\.5 must be a "
                                          r"whole number or null"):
        TrainConfig.from_dict({"num_threads": 1.5})


def test_the_facade_and_the_cli_name_the_option(tmp_path) -> None:  # type: ignore[no-untyped-def]
    ratings = pd.DataFrame({"user_id": [1, 1, 2], "movie_id": [1, 2, 1],
                            "rating": [4.0, 3.0, 5.0]})
    with pytest.raises(ConfigError, match="lr='fast'"):
        Recommender("ease", progress=False, lr="fast").fit(ratings)
    path = tmp_path / "ratings.parquet"
    ratings.to_parquet(path)
    result = CliRunner().invoke(app, ["train", "--ratings", str(path), "--model", "item-ridge",
                                      "-o", "zero_diagonal=no", "--out", str(tmp_path / "m")])
    # the console entry point prints a MovieRecError as one line; the runner hands it back
    assert isinstance(result.exception, ConfigError)
    assert "zero_diagonal='no' must be true or false" in str(result.exception)
    assert not (tmp_path / "m").exists()


@pytest.mark.parametrize(("options", "named"), [
    ({"members": 5}, "members=5 must be a list (each text)"),
    ({"members": "ease"}, "members='ease' must be a list (each text)"),
    ({"member_options": [5, {}]}, "member_options=[5, {}] must be a list (each a mapping) or"),
    ({"weights": ("a", 1.0)}, "weights=('a', 1.0) must be a list (each a number) or null"),
])
def test_list_options_of_the_wrong_kind_are_refused_before_any_estimate(options: dict,
                                                                         named: str) -> None:
    ratings = pd.DataFrame({"user_id": [1, 1, 2], "movie_id": [1, 2, 1],
                            "rating": [4.0, 3.0, 5.0], "timestamp": [0, 1, 2]})
    with pytest.raises(ConfigError, match=re.escape(f"preset 'ranking-blend' option {named}")):
        Recommender("ranking-blend", progress=False, **options).fit(ratings)


def test_lists_of_the_right_kind_pass_as_tuples_lists_or_arrays() -> None:
    for weights in ((0.5, 0.5), [0.5, 0.5], np.array([0.5, 0.5])):
        assert build_model("ranking-blend", 3, 4, weights=weights).weights == (0.5, 0.5)
