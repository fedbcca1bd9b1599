"""ONNX (onnxruntime) and TorchScript exports give the PyTorch model's outputs within 1e-5."""

from __future__ import annotations

import json
import warnings

import numpy as np
import pytest
import torch

from movierec import Recommender
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
