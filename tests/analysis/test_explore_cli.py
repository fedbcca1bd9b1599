"""`movierec explore` end to end on a generated folder in the ml-100k file layout."""

import pytest
from typer.testing import CliRunner

from movierec import Recommender
from movierec.cli.app import app

GENRES = ["unknown", "Action", "Adventure", "Animation", "Children's", "Comedy", "Crime",
          "Documentary", "Drama", "Fantasy", "Film-Noir", "Horror", "Musical", "Mystery",
          "Romance", "Sci-Fi", "Thriller", "War", "Western"]


@pytest.fixture
def ml100k_folder(tmp_path, ratings_factory, monkeypatch):
    """u.data, u.item (two genres per movie), u.user, u.genre; the cache goes to tmp_path."""
    monkeypatch.setenv("MOVIEREC_HOME", str(tmp_path / "home"))
    folder = tmp_path / "ml-100k"
    folder.mkdir()
    ratings = ratings_factory(n_users=30, n_movies=20, density=0.7, seed=7)
    ratings["movie_id"] = ratings["movie_id"] // 10 + 1
    lines = ratings[["user_id", "movie_id", "rating", "timestamp"]].astype({"rating": int})
    lines.to_csv(folder / "u.data", sep="\t", header=False, index=False)
    with open(folder / "u.item", "w", encoding="latin-1") as item:
        for movie in range(1, 21):
            flags = "|".join("1" if g in (1 + movie % 4, 8) else "0" for g in range(19))
            item.write(f"{movie}|Movie {movie} (1995)|01-Jan-1995||http://x|{flags}\n")
    with open(folder / "u.user", "w", encoding="latin-1") as users:
        users.writelines(f"{u}|{20 + u}|{'MF'[u % 2]}|writer|0{u:04d}\n" for u in range(1, 31))
    (folder / "u.genre").write_text("".join(f"{g}|{i}\n" for i, g in enumerate(GENRES)))
    return folder, ratings


def test_explore_writes_a_report(ml100k_folder, tmp_path):
    folder, ratings = ml100k_folder
    Recommender("biased-mf", progress=False, epochs=3).fit(ratings).save(tmp_path / "model")
    out = tmp_path / "report"
    result = CliRunner().invoke(app, ["explore", str(tmp_path / "model"), "--out", str(out),
                                      "--path", str(folder), "--min-ratings", "1",
                                      "--map-min-ratings", "1"])
    assert result.exit_code == 0, result.output
    text = (out / "report.html").read_text(encoding="utf-8")
    assert text.count("data:image/png;base64,") >= 6
    assert "Movie 1" in text and "validation RMSE" in text
    assert "Movie bias ranking" in result.output and "wrote" in result.output


def test_explore_help():
    result = CliRunner().invoke(app, ["explore", "--help"])
    assert result.exit_code == 0 and "--map-min-ratings" in result.output
