"""Saving never replaces what it did not write, re-saving keeps the files beside a model, and
every kind of damage to a model folder loads as one ModelFormatError naming the file."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
from safetensors.numpy import load_file as load_arrays
from safetensors.numpy import save_file as save_arrays
from safetensors.torch import load_file as load_tensors
from safetensors.torch import save_file as save_tensors

from movierec import Recommender
from movierec.errors import ConfigError, ModelFormatError, OverwriteRefusedError

pytestmark = pytest.mark.usefixtures("one_torch_thread")


@pytest.fixture(scope="module")
def ratings(ratings_factory) -> pd.DataFrame:
    return ratings_factory(n_users=30, n_movies=20, density=0.5, seed=1)


@pytest.fixture(scope="module")
def movies(ratings) -> pd.DataFrame:
    ids = np.unique(ratings["movie_id"])
    return pd.DataFrame({"movie_id": ids, "title": [f"Movie {i}" for i in ids]})


@pytest.fixture(scope="module")
def saved(ratings, movies, tmp_path_factory) -> dict[str, Path]:
    """Model folders to copy: biased-mf with an exact or an HNSW index, and a ranker with
    a rater (its own model folder, rater/, inside)."""
    root = tmp_path_factory.mktemp("saved")
    mf = Recommender("biased-mf", epochs=2, progress=False).fit(ratings, movies=movies)
    mf.build_index("exact")
    mf.save(root / "mf")
    mf.build_index("hnsw")
    mf.save(root / "hnsw")
    blend = Recommender("ranking-blend", members=("ease", "popularity"), rater="biased-mf",
                        epochs=2, progress=False).fit(ratings, movies=movies)
    blend.save(root / "blend")
    return {"mf": root / "mf", "hnsw": root / "hnsw", "blend": root / "blend"}


def copy_of(saved: dict[str, Path], name: str, tmp_path: Path) -> Path:
    return Path(shutil.copytree(saved[name], tmp_path / name))


def snapshot(folder: Path) -> dict[str, bytes | None]:
    """Every path under `folder` with its bytes (None for folders)."""
    return {str(p.relative_to(folder)): p.read_bytes() if p.is_file() else None
            for p in sorted(folder.rglob("*"))}


# ----------------------------------------------------------------------------- saving
def _project_folder(path: Path) -> None:  # someone's project that happens to hold a config.json
    path.mkdir()
    (path / "config.json").write_text(json.dumps({"name": "my project"}))
    (path / "src").mkdir()
    (path / "src" / "main.py").write_text("print('mine')\n")


def _half_model(path: Path) -> None:  # a movierec config but none of the weights beside it
    path.mkdir()
    (path / "config.json").write_text(json.dumps({"format_version": 1}))
    (path / "notes.txt").write_text("keep me")


@pytest.mark.parametrize("make", [_project_folder, _half_model,
                                  lambda p: p.write_text("a file, not a folder")],
                         ids=["project folder", "half a model", "a file"])
def test_save_refuses_what_it_did_not_write_and_leaves_it_byte_identical(
        saved, tmp_path, make: Callable[[Path], None]):
    target = tmp_path / "target"
    make(target)
    before, siblings = snapshot(tmp_path), sorted(tmp_path.iterdir())
    rec = Recommender.load(saved["mf"])
    with pytest.raises(OverwriteRefusedError, match="refusing to replace") as info:
        rec.save(target)
    assert str(target) in str(info.value) and "\n" not in str(info.value)
    assert snapshot(tmp_path) == before and sorted(tmp_path.iterdir()) == siblings


def test_save_into_a_new_path_or_an_empty_folder(saved, tmp_path):
    rec = Recommender.load(saved["mf"])
    (tmp_path / "empty").mkdir()
    for target in (tmp_path / "new" / "deeper", tmp_path / "empty"):
        rec.save(target)
        pd.testing.assert_frame_equal(Recommender.load(target).recommend(1, k=5),
                                      rec.recommend(1, k=5))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["empty", "new"]  # no staging left


def test_resave_keeps_what_it_does_not_own_and_replaces_what_it_does(saved, tmp_path):
    folder = copy_of(saved, "mf", tmp_path)
    (folder / "report").mkdir()
    (folder / "report" / "report.html").write_text("<html>the report</html>")
    (folder / "loss_curve.png").write_bytes(b"\x89PNG not really")
    theirs = {name: snapshot(folder)[name]
              for name in ("report", "report/report.html", "loss_curve.png")}
    rec = Recommender.load(folder)
    rec.build_index("hnsw")
    rec.save(folder)  # onto its own folder: the index is replaced, the rest kept
    after = snapshot(folder)
    assert all(after[name] == data for name, data in theirs.items())
    assert Recommender.load(folder).index.kind == "hnsw"
    rec.index = None
    rec.save(folder)  # an owned entry the save no longer writes goes away
    assert not (folder / "index").exists()
    assert sorted(p.name for p in folder.iterdir()) == [
        "config.json", "history.json", "loss_curve.png", "movies.parquet", "report",
        "state.safetensors", "weights.safetensors"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["mf"]


def test_resave_of_a_ranker_with_a_rater_keeps_both_and_its_neighbours(saved, ratings,
                                                                       tmp_path):
    folder = copy_of(saved, "blend", tmp_path)
    (folder / "report").mkdir()
    (folder / "report" / "report.html").write_text("kept")
    rec = Recommender.load(folder)
    rec.save(folder)
    again = Recommender.load(folder)
    assert (folder / "report" / "report.html").read_text() == "kept"
    assert sorted(p.name for p in (folder / "rater").iterdir()) == [
        "config.json", "history.json", "movies.parquet", "state.safetensors",
        "weights.safetensors"]
    pd.testing.assert_frame_equal(again.recommend(3, k=5), rec.recommend(3, k=5))
    np.testing.assert_array_equal(again.predict(ratings.head(5)), rec.predict(ratings.head(5)))


# ----------------------------------------------------------------------------- damage
def _edit_json(name: str, edit: Callable[[dict], object]) -> Callable[[Path], None]:
    def damage(folder: Path) -> None:
        data = json.loads((folder / name).read_text())
        edit(data)
        (folder / name).write_text(json.dumps(data))
    return damage


def _edit_arrays(name: str, edit: Callable[[dict], object], torch_: bool = False
                 ) -> Callable[[Path], None]:
    load, save = (load_tensors, save_tensors) if torch_ else (load_arrays, save_arrays)

    def damage(folder: Path) -> None:
        arrays = load(str(folder / name))
        edit(arrays)
        save(arrays, str(folder / name))
    return damage


def _truncate(name: str) -> Callable[[Path], None]:
    def damage(folder: Path) -> None:
        data = (folder / name).read_bytes()
        (folder / name).write_bytes(data[: len(data) // 2])
    return damage


def _write(name: str, text: str) -> Callable[[Path], None]:
    return lambda folder: (folder / name).write_text(text)


def _first(arrays: dict, ndim: int) -> str:
    return next(k for k, v in sorted(arrays.items()) if v.is_floating_point() and v.ndim == ndim)


def _grow(arrays: dict) -> None:
    key = _first(arrays, 2)
    arrays[key] = torch.zeros(len(arrays[key]) + 1, arrays[key].shape[1])


def _nan(arrays: dict) -> None:
    arrays[_first(arrays, 2)][0, 0] = float("nan")


def _duplicate_movie(folder: Path) -> None:
    movies = pd.read_parquet(folder / "movies.parquet")
    movies.loc[1, "movie_id"] = movies.loc[0, "movie_id"]
    movies.to_parquet(folder / "movies.parquet")


def _unlink(name: str) -> Callable[[Path], None]:
    return lambda folder: (folder / name).unlink()


def _float_id(config: dict) -> None:
    config["user_ids"][0] = 1.5


def _duplicate_id(config: dict) -> None:
    config["user_ids"][1] = config["user_ids"][0]


def _infinite_bias(arrays: dict) -> None:
    arrays["fallback_user_bias"][0] = np.inf


DAMAGE = {  # case: (base folder, damage, what the one line must say)
    "config missing": ("mf", _unlink("config.json"), r"config\.json not found"),
    "config not json": ("mf", _write("config.json", "{"), r"config\.json is not valid JSON"),
    "config is a list": ("mf", _write("config.json", "[1]"), r"config\.json holds a JSON list"),
    "config key missing": ("mf", _edit_json("config.json", lambda c: c.pop("movie_ids")),
                           r"config\.json lacks the key movie_ids"),
    "config type": ("mf", _edit_json("config.json", lambda c: c.update(seed="zero")),
                    r"config\.json: seed must be int, got str"),
    "model key missing": ("mf", _edit_json("config.json", lambda c: c["model"].pop("n_users")),
                          r"config\.json lacks the key model\.n_users"),
    "ids of a float": ("mf", _edit_json("config.json", _float_id),
                       r"config\.json: user_ids must be a list of whole numbers"),
    "count mismatch": ("mf", _edit_json("config.json", lambda c: c["movie_ids"].pop()),
                       r"config\.json: model\.n_movies is 20 but movie_ids lists 19"),
    "duplicate ids": ("mf", _edit_json("config.json", _duplicate_id),
                      r"config\.json: user ids must be unique"),
    "nan mean": ("mf", _edit_json("config.json", lambda c: c.update(global_mean=float("nan"))),
                 r"config\.json: global_mean must be a finite number"),
    "bad option": ("mf", _edit_json("config.json", lambda c: c["model_options"].update(
        bogus=1)), r"config\.json: the saved options do not rebuild preset 'biased-mf'"),
    "unknown model": ("mf", _edit_json("config.json", lambda c: c["model"].update(
        preset="nope")), r"config\.json: 'model' does not describe a model"),
    "format version": ("mf", _edit_json("config.json", lambda c: c.update(format_version=99)),
                       r"config\.json has format_version 99"),
    "weights missing": ("mf", _unlink("weights.safetensors"), r"weights\.safetensors is missing"),
    "weights truncated": ("mf", _truncate("weights.safetensors"),
                          r"weights\.safetensors is damaged or truncated"),
    "weights shape": ("mf", _edit_arrays("weights.safetensors", _grow, torch_=True),
                      r"weights\.safetensors does not fit the model in config\.json: size"),
    "weights key": ("mf", _edit_arrays("weights.safetensors", lambda a: a.pop(_first(a, 2)),
                                       torch_=True), r"weights\.safetensors does not fit.*Missing"),
    "weights nan": ("mf", _edit_arrays("weights.safetensors", _nan, torch_=True),
                    r"weights\.safetensors: \S+ holds NaN or infinite values"),
    "state truncated": ("mf", _truncate("state.safetensors"),
                        r"state\.safetensors is damaged or truncated"),
    "state key": ("mf", _edit_arrays("state.safetensors", lambda a: a.pop("seen_indptr")),
                  r"state\.safetensors lacks seen_indptr"),
    "state shape": ("mf", _edit_arrays("state.safetensors", lambda a: a.update(
        seen_indptr=a["seen_indptr"][:-1])), r"state\.safetensors: the seen-movie arrays"),
    "state inf": ("mf", _edit_arrays("state.safetensors", _infinite_bias),
                  r"state\.safetensors: fallback_user_bias holds NaN or infinite"),
    "movies truncated": ("mf", _truncate("movies.parquet"), r"movies\.parquet is damaged"),
    "movies duplicate": ("mf", _duplicate_movie, r"movies\.parquet: movie_id \d+ appears more"),
    "history not json": ("mf", _write("history.json", "nope"), r"history\.json is damaged"),
    "history incomplete": ("mf", _write("history.json", "{}"), r"history\.json is damaged"),
    "index empty": ("mf", lambda f: [p.unlink() for p in (f / "index").iterdir()],
                    r"index holds no index"),
    "index truncated": ("mf", _truncate("index/exact_index.safetensors"),
                        r"exact_index\.safetensors is damaged or truncated"),
    "index shape": ("mf", _edit_arrays("index/exact_index.safetensors", lambda a: a.update(
        vectors=a["vectors"][:, :2])), r"index: an index of 20 movies x 2 dims does not fit"),
    "faiss meta": ("hnsw", _write("index/faiss_index.json", '{"kind": "hnsw"}'),
                   r"faiss_index\.json is damaged or incomplete"),
    "faiss truncated": ("hnsw", _truncate("index/faiss.index"),
                        r"faiss\.index is damaged or not a faiss index"),
    "rater missing": ("blend", lambda f: shutil.rmtree(f / "rater"),
                      r"rater/config\.json not found"),
    "rater weights": ("blend", _truncate("rater/weights.safetensors"),
                      r"rater/weights\.safetensors is damaged"),
}


@pytest.mark.parametrize("case", list(DAMAGE))
def test_each_kind_of_damage_is_one_model_format_error_naming_the_file(saved, tmp_path, case):
    base, damage, message = DAMAGE[case]
    folder = copy_of(saved, base, tmp_path)
    damage(folder)
    with pytest.raises(ModelFormatError, match=message) as info:
        Recommender.load(folder)
    assert "\n" not in str(info.value)


@pytest.mark.parametrize("broken", ["model", "rater"])
def test_weights_holding_nan_are_refused_before_anything_is_written(ratings, tmp_path, broken):
    rec = Recommender("ranking-blend", members=("ease", "popularity"), rater="biased-mf",
                      epochs=1, progress=False).fit(ratings)
    target = rec.rater.model if broken == "rater" else rec.model
    name, weight = next((n, w) for n, w in target.state_dict().items()
                        if w.is_floating_point() and w.numel())
    weight.view(-1)[0] = float("nan")
    with pytest.raises(ConfigError, match=f"{name}.*NaN"):
        rec.save(tmp_path / "model")
    assert list(tmp_path.iterdir()) == []
