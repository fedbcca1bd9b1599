"""CLI smoke runs on a generated folder in the ml-100k file layout (no real data needed)."""

import subprocess
import sys

import numpy as np
import pytest
from typer.testing import CliRunner

from movierec.cli.app import app
from movierec.errors import ConfigError

GENRES = ["unknown", "Action", "Adventure", "Animation", "Children's", "Comedy", "Crime",
          "Documentary", "Drama", "Fantasy", "Film-Noir", "Horror", "Musical", "Mystery",
          "Romance", "Sci-Fi", "Thriller", "War", "Western"]


@pytest.fixture(scope="module")
def ml100k_like(tmp_path_factory, ratings_factory):
    """u.data, u.item, u.user and u1..u5 folds written from synthetic ratings."""
    folder = tmp_path_factory.mktemp("ml-100k")
    ratings = ratings_factory(n_users=50, n_movies=30, density=0.6, seed=3)
    ratings["movie_id"] = ratings["movie_id"] // 10 + 1  # ml-100k ids are 1..n
    columns = ["user_id", "movie_id", "rating", "timestamp"]
    as_text = ratings[columns].astype({"rating": int})
    as_text.to_csv(folder / "u.data", sep="\t", header=False, index=False)
    fold = np.random.default_rng(0).integers(0, 5, len(ratings))
    for k in range(5):
        as_text[fold != k].to_csv(folder / f"u{k + 1}.base", sep="\t", header=False, index=False)
        as_text[fold == k].to_csv(folder / f"u{k + 1}.test", sep="\t", header=False, index=False)
    with open(folder / "u.item", "w", encoding="latin-1") as item:
        for movie in range(1, 31):
            flags = "|".join("1" if g == movie % 19 else "0" for g in range(19))
            item.write(f"{movie}|Movie {movie} (1995)|01-Jan-1995||http://x|{flags}\n")
    with open(folder / "u.user", "w", encoding="latin-1") as users:
        for user in range(1, 51):
            users.write(f"{user}|{20 + user % 40}|{'MF'[user % 2]}|writer|0{user:04d}\n")
    (folder / "u.genre").write_text("".join(f"{g}|{i}\n" for i, g in enumerate(GENRES)))
    return folder


@pytest.fixture(scope="module")
def model_dir(ml100k_like, tmp_path_factory, monkeypatch_module):
    out = tmp_path_factory.mktemp("model") / "mf"
    result = CliRunner().invoke(app, ["train", "--path", str(ml100k_like), "--out", str(out),
                                      "-o", "epochs=5"])
    assert result.exit_code == 0, result.output
    return out


@pytest.fixture(scope="module")
def monkeypatch_module(tmp_path_factory):
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("MOVIEREC_HOME", str(tmp_path_factory.mktemp("home")))
        yield patch


def test_train_saves_model_and_reports_rmse(model_dir):
    assert (model_dir / "config.json").exists() and (model_dir / "loss_curve.png").exists()


def test_data_info(ml100k_like, monkeypatch_module):
    result = CliRunner().invoke(app, ["data", "info", "--path", str(ml100k_like)])
    assert result.exit_code == 0, result.output
    assert "u1..u5" in result.output and "50" in result.output


def test_recommend_and_similar(model_dir):
    runner = CliRunner()
    result = runner.invoke(app, ["recommend", str(model_dir), "--user", "1", "-k", "3"])
    assert result.exit_code == 0, result.output
    assert result.output.count("Movie ") == 3
    result = runner.invoke(app, ["similar", str(model_dir), "--movie", "movie 7", "-k", "2"])
    assert result.exit_code == 0, result.output
    assert "similar to Movie 7" in result.output


def test_evaluate_cv_uses_canonical_folds(ml100k_like, monkeypatch_module, tmp_path):
    out = tmp_path / "cv.json"
    result = CliRunner().invoke(app, ["evaluate", "--path", str(ml100k_like), "--cv",
                                      "-o", "epochs=2", "--json", str(out)])
    assert result.exit_code == 0, result.output
    assert "canonical folds u1..u5" in result.output
    assert "damped-bias" in result.output and "biased-mf" in result.output
    import json

    summary = json.loads(out.read_text())["summary"]
    assert [row["folds"] for row in summary] == [5, 5, 5]


def test_help_everywhere():
    runner = CliRunner()
    for command in ([], ["data"], ["data", "fetch"], ["presets"], ["train"], ["evaluate"],
                    ["recommend"], ["similar"], ["demo"]):
        result = runner.invoke(app, [*command, "--help"])
        assert result.exit_code == 0 and "Usage" in result.output, command


def test_errors_are_one_clear_line(model_dir):
    result = subprocess.run(
        [sys.executable, "-c", "from movierec.cli.app import main; main()", "recommend",
         str(model_dir), "--user", "999999"], capture_output=True, text=True, timeout=120)
    assert result.returncode == 2
    assert "user 999999 is not" in result.stdout
    assert "Traceback" not in result.stdout + result.stderr


def test_presets_lists_every_preset():
    from movierec.models import PRESETS

    result = CliRunner().invoke(app, ["presets"])
    assert result.exit_code == 0
    assert all(name in result.output for name in PRESETS)


def test_tune_scores_trials_on_validation_of_u1_training(ml100k_like, monkeypatch_module,
                                                         tmp_path):
    import json

    out = tmp_path / "tune.json"
    result = CliRunner().invoke(app, ["tune", "--path", str(ml100k_like), "--model", "biased-mf",
                                      "--trials", "2", "--json", str(out)])
    assert result.exit_code == 0, result.output
    saved = json.loads(out.read_text())
    assert saved["tuned_on"] == "training part of canonical fold u1"
    assert len(saved["all_trials"]) == 2
    assert saved["best_val_rmse"] == min(t["val_rmse"] for t in saved["all_trials"])


def test_evaluate_refuses_a_ranker_before_reading_data():
    result = CliRunner().invoke(app, ["evaluate", "--model", "ease", "--path", "/nonexistent"])
    assert isinstance(result.exception, ConfigError)  # main() prints it as one line, exit 2
    assert "ranks but predicts no ratings" in str(result.exception)
