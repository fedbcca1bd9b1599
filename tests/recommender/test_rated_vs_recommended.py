"""rated_vs_recommended: a user's highest-rated movies beside their list, in Python and CLI."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch

from movierec import Recommender


@pytest.fixture(scope="module")
def data(ratings_factory) -> tuple[pd.DataFrame, pd.DataFrame]:
    torch.set_num_threads(1)
    ratings = ratings_factory()
    ids = np.sort(ratings["movie_id"].unique())
    return ratings, pd.DataFrame({"movie_id": ids, "title": [f"Film {m}" for m in ids]})


def test_side_by_side_known_answer(data):
    ratings, movies = data
    rec = Recommender("biased-mf", progress=False, epochs=2, dim=4).fit(ratings, movies=movies)
    frame = rec.rated_vs_recommended(3, ratings, k=4)
    mine = ratings[ratings["user_id"] == 3].sort_values(["rating", "timestamp"],
                                                        ascending=False).head(4)
    assert list(frame.columns) == ["rated_movie_id", "rated_title", "rating", "movie_id",
                                   "title", "score"]
    assert list(frame.index) == [1, 2, 3, 4] and frame.index.name == "rank"
    assert frame["rated_movie_id"].tolist() == mine["movie_id"].tolist()
    assert frame["rating"].tolist() == mine["rating"].tolist()
    assert frame["rated_title"].tolist() == [f"Film {m}" for m in mine["movie_id"]]
    expected = rec.recommend(3, 4)
    assert frame["movie_id"].tolist() == expected["movie_id"].tolist()
    assert not set(frame["movie_id"]) & set(ratings.loc[ratings["user_id"] == 3, "movie_id"])


def test_fewer_ratings_than_k_pad_the_rated_side(data):
    ratings, _ = data
    few = pd.concat([ratings[ratings["user_id"] != 5], ratings[ratings["user_id"] == 5].head(2)])
    rec = Recommender("biased-mf", progress=False, epochs=1, dim=4).fit(few)
    frame = rec.rated_vs_recommended(5, few, k=5)
    assert len(frame) == 5 and "title" not in frame.columns
    assert frame["rated_movie_id"].isna().tolist() == [False, False, True, True, True]
    assert frame["movie_id"].notna().all()


def test_cli_recommend_compare(data, tmp_path, monkeypatch):
    from typer.testing import CliRunner

    from movierec.cli.app import app

    ratings, _ = data
    folder = tmp_path / "ml-100k"
    folder.mkdir()
    ratings = ratings.assign(movie_id=ratings["movie_id"] // 10 + 1)  # ml-100k ids: 1..n
    ratings[["user_id", "movie_id", "rating", "timestamp"]].astype({"rating": int}).to_csv(
        folder / "u.data", sep="\t", header=False, index=False)
    with open(folder / "u.item", "w", encoding="latin-1") as item:
        for movie in range(1, 41):
            item.write(f"{movie}|Film {movie} (1995)|01-Jan-1995||http://x|" + "0|" * 18 + "1\n")
    monkeypatch.setenv("MOVIEREC_HOME", str(tmp_path / "home"))
    from movierec.data import load_movielens

    data_100k = load_movielens("ml-100k", folder)
    model = Recommender("biased-mf", progress=False, epochs=1, dim=4).fit(
        data_100k.ratings, movies=data_100k.movies)
    model.save(tmp_path / "model")
    result = CliRunner().invoke(app, ["recommend", str(tmp_path / "model"), "--user", "3",
                                      "-k", "3", "--compare", "--path", str(folder)])
    assert result.exit_code == 0, result.output
    assert "rated highest" in result.output and "rated_title" in result.output
    top = model.rated_vs_recommended(3, data_100k.ratings, k=3)
    assert str(top["rated_title"].iloc[0]) in result.output
