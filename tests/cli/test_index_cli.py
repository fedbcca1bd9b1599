"""`movierec index build|query` on saved models (generated data, no real files needed)."""

from __future__ import annotations

import subprocess
import sys

import pytest
from typer.testing import CliRunner

from movierec import Recommender
from movierec.cli.app import app
from movierec.errors import ConfigError, UnknownIdError


@pytest.fixture(scope="module")
def saved(tmp_path_factory, ratings_factory):
    ratings = ratings_factory(n_users=40, n_movies=30, density=0.5, seed=4)
    folder = tmp_path_factory.mktemp("models")
    two_tower = Recommender("two-tower", progress=False, epochs=2).fit(ratings)
    mlp = Recommender("mlp", progress=False, epochs=1).fit(ratings)
    return ratings, two_tower.save(folder / "tt"), mlp.save(folder / "mlp")


def invoke(*args: str):
    return CliRunner().invoke(app, [str(a) for a in args])


@pytest.mark.parametrize("kind", ["exact", "hnsw", "ivf"])
def test_build_then_query_matches_exact_recommend(saved, kind, tmp_path):
    ratings, model_dir, _ = saved
    folder = Recommender.load(model_dir).save(tmp_path / "m")  # a copy to build into
    built = invoke("index", "build", folder, "--kind", kind, "--nlist", "2", "--nprobe", "2")
    assert built.exit_code == 0, built.output
    assert Recommender.load(folder).index.kind == kind
    result = invoke("index", "query", folder, "--user", 3, "--k", 5)
    assert result.exit_code == 0, result.output
    expected = Recommender.load(model_dir).recommend(3, 5)["movie_id"].tolist()
    shown = [int(line.split()[1]) for line in result.output.splitlines()
             if line.startswith("│") and line.split()[1].isdigit()]
    assert shown == expected
    rated = set(ratings.loc[ratings["user_id"] == 3, "movie_id"])
    assert not rated & set(shown)


def test_bad_kind_is_named(saved):
    result = invoke("index", "build", saved[1], "--kind", "annoy")
    assert isinstance(result.exception, ConfigError)
    assert "'annoy'" in str(result.exception) and "hnsw" in str(result.exception)


def test_model_without_dot_product_is_refused(saved):
    result = invoke("index", "build", saved[2])
    assert isinstance(result.exception, ConfigError)
    assert "dot product" in str(result.exception)


def test_query_unknown_user_is_named(saved, tmp_path):
    folder = Recommender.load(saved[1]).save(tmp_path / "m")
    assert invoke("index", "build", folder).exit_code == 0
    result = invoke("index", "query", folder, "--user", 99_999)
    assert isinstance(result.exception, UnknownIdError) and "99999" in str(result.exception)


def test_query_without_index_is_a_clear_error_exit_2(saved):
    result = subprocess.run(
        [sys.executable, "-c", "from movierec.cli.app import main; main()", "index", "query",
         str(saved[1]), "--user", "1"], capture_output=True, text=True, timeout=120)
    assert result.returncode == 2
    message = " ".join(result.stdout.split())  # Rich wraps long lines at the terminal width
    assert message.startswith("error:") and "has no index" in message
    assert "index build" in message
    assert "Traceback" not in result.stdout + result.stderr
