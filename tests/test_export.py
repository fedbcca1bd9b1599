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
from movierec.errors import ConfigError, OverwriteRefusedError
from movierec.export import FORMATS, export_graphs, refusal
from movierec.models import PRESETS

# "best" with two of its members (one of them item-knn, which makes it refused): its seven
# default members take ~14 s to fit here and would test nothing more.
SMALLER = {"best": {"members": ("biased-mf", "item-knn")}}


@pytest.fixture(scope="module", params=sorted(PRESETS))
def fitted(request, ratings_factory) -> Recommender:
    """Every registered preset, so a new one is covered by being registered (ensembles fit
    their members in this process: worker start-up would cost more than the fits)."""
    return Recommender(request.param, progress=False, epochs=2, member_processes=1,
                       **SMALLER.get(request.param, {})).fit(ratings_factory())


def expected(rec: Recommender, users: np.ndarray, movies: np.ndarray) -> dict[str, np.ndarray]:
    model = rec.model.eval()
    with torch.no_grad():
        u, m = torch.from_numpy(users), torch.from_numpy(movies)
        return {"scoring": model.predict(u, m).numpy(),
                "user_tower": model.user_vectors()[u].numpy(),
                "movie_tower": model.movie_vectors()[m].numpy()}


def inputs_for(name: str, users: np.ndarray, movies: np.ndarray) -> list[np.ndarray]:
    return {"scoring": [users, movies], "user_tower": [users], "movie_tower": [movies]}[name]


def sample(rec: Recommender, size: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(size)
    return (rng.integers(0, len(rec.user_ids), size).astype(np.int64),
            rng.integers(0, len(rec.movie_ids), size).astype(np.int64))


@pytest.mark.parametrize("fmt", FORMATS)
def test_every_preset_exports_a_faithful_graph_or_is_refused_in_one_line(fitted, fmt, tmp_path):
    out = tmp_path / "out"
    reason = refusal(fitted.model)
    if reason is not None:
        with pytest.raises(ConfigError) as err:
            export_graphs(fitted, out, fmt)
        assert str(err.value) == f"cannot export preset {fitted.preset!r}: {reason}"
        assert "\n" not in str(err.value)
        assert not out.exists()
        return
    manifest = export_graphs(fitted, out, fmt)
    assert "scoring" in manifest["graphs"]
    # 2 is the trace's example size; 10,000 is more than any model's prediction block
    for size in (1, 37, 10_000):
        users, movies = sample(fitted, size)
        want = expected(fitted, users, movies)
        for name in manifest["graphs"]:
            got = run_graph(out, manifest, name, inputs_for(name, users, movies))
            np.testing.assert_allclose(got, want[name], atol=1e-5, rtol=0,
                                       err_msg=f"{fitted.preset} {fmt} {name} batch {size}")
    ids = json.loads((out / "ids.json").read_text())
    assert ids["movie_ids"] == fitted.movie_ids.to_list()


def test_rankers_and_item_knn_are_refused_and_rating_models_are_not(ratings_factory):
    refused = {name for name, preset in PRESETS.items()
               if not preset.model_class.predicts_ratings}
    assert {"ease", "two-tower", "top-k"} <= refused
    knn = Recommender("item-knn", progress=False).fit(ratings_factory())
    assert "blocks of 8192 pairs" in refusal(knn.model)
    mf = Recommender("biased-mf", progress=False, epochs=1).fit(ratings_factory())
    assert refusal(mf.model) is None


def test_a_graph_that_does_not_reproduce_the_model_is_refused_before_writing(
        ratings_factory, tmp_path, monkeypatch):
    pytest.importorskip("onnxruntime")
    # without its declared refusal, item-knn's ONNX trace fails on every batch: the probe
    # run catches it and nothing is written
    monkeypatch.setattr("movierec.export._UNTRACEABLE", {})
    knn = Recommender("item-knn", progress=False).fit(ratings_factory())
    with pytest.raises(ConfigError, match="the onnx scoring graph fails on a batch of 1"):
        export_graphs(knn, tmp_path / "out", "onnx")
    assert not (tmp_path / "out").exists()


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
    ease = Recommender("ease", progress=False).fit(ratings_factory())
    with pytest.raises(ConfigError, match="predicts no ratings"):
        export_graphs(ease, tmp_path / "out", "onnx")
    assert not (tmp_path / "out").exists()


def test_export_command_refuses_item_knn_in_one_line_and_writes_nothing(ratings_factory,
                                                                         tmp_path):
    knn = Recommender("item-knn", progress=False).fit(ratings_factory())
    model_dir = knn.save(tmp_path / "knn")
    result = movierec_cli("export", str(model_dir), "--out", str(tmp_path / "out"))
    assert result.returncode == 2
    lines = result.stdout.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: cannot export preset 'item-knn': ")
    assert "wrote" not in result.stdout and "Traceback" not in result.stderr
    assert not (tmp_path / "out").exists()


def test_export_writes_only_into_an_empty_folder_or_an_earlier_export(ratings_factory, tmp_path):
    rec = Recommender("biased-mf", progress=False, epochs=1).fit(ratings_factory())
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "manifest.json").write_text("my own notes")
    with pytest.raises(OverwriteRefusedError, match="not an export folder"):
        export_graphs(rec, mine, "torchscript")
    assert [p.name for p in mine.iterdir()] == ["manifest.json"]
    assert (mine / "manifest.json").read_text() == "my own notes"
    out = tmp_path / "out"
    first = export_graphs(rec, out, "torchscript")
    again = export_graphs(rec, out, "torchscript")  # an earlier export is replaced in place
    assert first == again
    assert sorted(p.name for p in out.iterdir()) == sorted(
        ["ids.json", "manifest.json", *(g["file"] for g in again["graphs"].values())])
