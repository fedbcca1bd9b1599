"""ONNX (onnxruntime) and TorchScript exports give the PyTorch model's outputs within 1e-5,
through the library and through `movierec export`."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
from typer.testing import CliRunner

from movierec import Recommender
from movierec.cli.app import app
from movierec.export import export_graphs


@pytest.fixture(scope="module", params=["biased-mf", "mlp"])
def rec(request, ratings_factory) -> Recommender:
    return Recommender(request.param, progress=False, epochs=2).fit(ratings_factory())


def expected(rec: Recommender, users: np.ndarray, movies: np.ndarray) -> dict[str, np.ndarray]:
    model = rec.model.eval()
    with torch.no_grad():
        u, m = torch.from_numpy(users), torch.from_numpy(movies)
        return {"scoring": model.predict(u, m).numpy(),
                "user_tower": model.user_vectors()[u].numpy(),
                "movie_tower": model.movie_vectors()[m].numpy()}


def inputs_for(name: str, users: np.ndarray, movies: np.ndarray) -> list[np.ndarray]:
    return {"scoring": [users, movies], "user_tower": [users], "movie_tower": [movies]}[name]


def sample(rec: Recommender) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(1)
    return (rng.integers(0, len(rec.user_ids), 37).astype(np.int64),
            rng.integers(0, len(rec.movie_ids), 37).astype(np.int64))


def test_onnx_matches_pytorch(rec, tmp_path):
    ort = pytest.importorskip("onnxruntime")
    manifest = export_graphs(rec, tmp_path, "onnx")
    assert set(manifest["graphs"]) == {"scoring", "user_tower", "movie_tower"}
    users, movies = sample(rec)
    want = expected(rec, users, movies)
    for name, graph in manifest["graphs"].items():
        session = ort.InferenceSession(str(tmp_path / graph["file"]))
        feed = dict(zip(graph["inputs"], inputs_for(name, users, movies), strict=True))
        np.testing.assert_allclose(session.run(None, feed)[0], want[name], atol=1e-5, rtol=0)
    ids = json.loads((tmp_path / "ids.json").read_text())
    assert ids["movie_ids"] == rec.movie_ids.to_list()


def test_torchscript_matches_pytorch(rec, tmp_path):
    manifest = export_graphs(rec, tmp_path, "torchscript")
    users, movies = sample(rec)
    want = expected(rec, users, movies)
    for name, graph in manifest["graphs"].items():
        with warnings.catch_warnings():  # torch.jit.load warns that it is deprecated
            warnings.simplefilter("ignore", DeprecationWarning)
            loaded = torch.jit.load(str(tmp_path / graph["file"]))
        args = [torch.from_numpy(a) for a in inputs_for(name, users, movies)]
        np.testing.assert_allclose(loaded(*args).detach().numpy(), want[name], atol=1e-5, rtol=0)


# ---------------------------------------------------------------- the `movierec export` command
def movierec_cli(*args: str) -> subprocess.CompletedProcess[str]:
    """The console entry point in a child process (one-line errors, exit status)."""
    code = "from movierec.cli.app import main; main()"
    return subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True,
                          env={**os.environ, "COLUMNS": "200"}, timeout=300)


@pytest.fixture(scope="module")
def saved_rec(ratings_factory, tmp_path_factory) -> tuple[Recommender, Path]:
    rec = Recommender("biased-mf", progress=False, epochs=2).fit(ratings_factory(seed=4))
    return rec, rec.save(tmp_path_factory.mktemp("cli-export") / "model")


@pytest.mark.parametrize("fmt", ["onnx", "torchscript"])
def test_export_command_writes_graphs_equal_to_pytorch(saved_rec, tmp_path, fmt):
    rec, model_dir = saved_rec
    out = tmp_path / f"model.{fmt}"
    result = CliRunner().invoke(app, ["export", str(model_dir), "--format", fmt,
                                      "--out", str(out)])
    assert result.exit_code == 0, result.output
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["format"] == fmt
    assert set(manifest["graphs"]) == {"scoring", "user_tower", "movie_tower"}
    ids = json.loads((out / "ids.json").read_text())
    raw_users, raw_movies = [7, 23, 60], [17, 117, 397]  # graphs take indices: map raw ids
    users = np.array([ids["user_ids"].index(u) for u in raw_users], dtype=np.int64)
    movies = np.array([ids["movie_ids"].index(m) for m in raw_movies], dtype=np.int64)
    pairs = pd.DataFrame({"user_id": raw_users, "movie_id": raw_movies})
    np.testing.assert_allclose(run_graph(out, manifest, "scoring", [users, movies]),
                               rec.predict(pairs), atol=1e-5, rtol=0)
    want = expected(rec, users, movies)
    for name in ("user_tower", "movie_tower"):
        got = run_graph(out, manifest, name, inputs_for(name, users, movies))
        np.testing.assert_allclose(got, want[name], atol=1e-5, rtol=0)


def run_graph(out: Path, manifest: dict, name: str, inputs: list[np.ndarray]) -> np.ndarray:
    """Outputs of one exported graph, run by onnxruntime or TorchScript."""
    graph = manifest["graphs"][name]
    if manifest["format"] == "onnx":
        ort = pytest.importorskip("onnxruntime")
        session = ort.InferenceSession(str(out / graph["file"]))
        return session.run(None, dict(zip(graph["inputs"], inputs, strict=True)))[0]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        loaded = torch.jit.load(str(out / graph["file"]))
    return loaded(*[torch.from_numpy(a) for a in inputs]).detach().numpy()


def test_export_command_rejects_an_unknown_format_in_one_line(saved_rec, tmp_path):
    _, model_dir = saved_rec
    result = movierec_cli("export", str(model_dir), "--format", "pdf", "--out",
                          str(tmp_path / "out"))
    assert result.returncode == 2
    assert result.stdout.strip().splitlines() == [
        "error: format must be one of onnx, torchscript, got 'pdf'"]
    assert not (tmp_path / "out").exists()


def test_export_command_names_a_folder_that_is_not_a_model(tmp_path):
    (tmp_path / "empty").mkdir()
    result = movierec_cli("export", str(tmp_path / "empty"))
    assert result.returncode == 2
    assert "is not a saved movierec model" in result.stdout and "Traceback" not in result.stderr


def test_rankers_are_refused_before_anything_is_written(ratings_factory, tmp_path):
    from movierec.errors import ConfigError

    ease = Recommender("ease", progress=False).fit(ratings_factory())
    with pytest.raises(ConfigError, match="predicts no ratings"):
        export_graphs(ease, tmp_path / "out", "onnx")
    assert not (tmp_path / "out").exists()
