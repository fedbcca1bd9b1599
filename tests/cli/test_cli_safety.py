"""The CLI never deletes what it did not write, and a damaged model folder is one line on the
terminal with exit status 2, never a traceback."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
from safetensors.torch import load_file, save_file

from movierec import Recommender
from movierec.cli.app import main


@pytest.fixture(scope="module")
def saved(ratings_factory, tmp_path_factory) -> Path:
    """A biased-mf folder with titles, a training history and an exact index."""
    ratings = ratings_factory(n_users=30, n_movies=20, density=0.5, seed=2)
    ids = np.unique(ratings["movie_id"])
    movies = pd.DataFrame({"movie_id": ids, "title": [f"Movie {i}" for i in ids]})
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        rec = Recommender("biased-mf", epochs=2, progress=False).fit(ratings, movies=movies)
    finally:
        torch.set_num_threads(threads)
    rec.build_index("exact")
    return rec.save(tmp_path_factory.mktemp("saved") / "mf")


@pytest.fixture
def model_dir(saved, tmp_path) -> Path:
    return Path(shutil.copytree(saved, tmp_path / "mf"))


@pytest.fixture
def cli(monkeypatch, capsys) -> Callable[..., tuple[int, str]]:
    """Run the `movierec` entry point in-process: (exit status, everything it printed).
    An exception other than SystemExit escapes to the test, as a traceback would."""
    def run(*args: str) -> tuple[int, str]:
        monkeypatch.setattr(sys, "argv", ["movierec", *args])
        try:
            main()
            code = 0
        except SystemExit as done:
            code = done.code if isinstance(done.code, int) else 0 if done.code is None else 1
        out = capsys.readouterr()
        return code, out.out + out.err
    return run


def snapshot(folder: Path) -> dict[str, bytes | None]:
    return {str(p.relative_to(folder)): p.read_bytes() if p.is_file() else None
            for p in sorted(folder.rglob("*"))}


def one_error_line(output: str) -> str:
    lines = [line for line in output.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: "), output
    assert "Traceback" not in output
    return lines[0]


def test_train_refuses_a_foreign_out_folder_before_any_work(cli, tmp_path):
    project = tmp_path / "project"
    (project / "src").mkdir(parents=True)
    (project / "config.json").write_text(json.dumps({"name": "my project"}))
    (project / "src" / "main.py").write_text("print('mine')\n")
    before = snapshot(tmp_path)
    # the data path does not exist: the refusal must come first, before data or training
    code, output = cli("train", "--path", str(tmp_path / "no-data"), "--out", str(project))
    assert code == 2
    assert f"{project} exists and is not a movierec model folder" in one_error_line(output)
    assert snapshot(tmp_path) == before


def test_index_build_keeps_the_report_and_loss_curve_beside_the_model(cli, model_dir):
    (model_dir / "report").mkdir()
    (model_dir / "report" / "report.html").write_text("<html>report</html>")
    (model_dir / "loss_curve.png").write_bytes(b"\x89PNG")
    theirs = {k: v for k, v in snapshot(model_dir).items()
              if k.startswith("report") or k == "loss_curve.png"}
    code, output = cli("index", "build", str(model_dir), "--kind", "hnsw")
    assert code == 0, output
    after = snapshot(model_dir)
    assert all(after[k] == v for k, v in theirs.items())
    assert (model_dir / "index" / "faiss.index").is_file()
    assert not (model_dir / "index" / "exact_index.safetensors").exists()


def test_data_synth_refuses_a_foreign_folder_and_replaces_only_its_own(cli, tmp_path):
    size = ("--ratings", "300", "--users", "20", "--movies", "80")
    foreign = tmp_path / "mine"
    foreign.mkdir()
    (foreign / "ratings.parquet").write_bytes(b"my own ratings")
    before = snapshot(tmp_path)
    code, output = cli("data", "synth", "--out", str(foreign), *size)
    assert code == 2 and "no synth.json manifest" in one_error_line(output)
    assert snapshot(tmp_path) == before

    out = tmp_path / "synth"
    assert cli("data", "synth", "--out", str(out), *size)[0] == 0
    assert cli("data", "synth", "--out", str(out), *size, "--seed", "1")[0] == 0  # its own
    assert sorted(p.name for p in out.iterdir()) == ["movies.parquet", "ratings.parquet",
                                                      "synth.json"]
    (out / "notes.txt").write_text("mine")
    code, output = cli("data", "synth", "--out", str(out), *size)
    assert code == 2 and "it holds notes.txt" in one_error_line(output)
    assert (out / "notes.txt").read_text() == "mine"


def _truncate(name: str) -> Callable[[Path], None]:
    def damage(folder: Path) -> None:
        data = (folder / name).read_bytes()
        (folder / name).write_bytes(data[: len(data) // 3])
    return damage


def _edit_config(edit: Callable[[dict], object]) -> Callable[[Path], None]:
    def damage(folder: Path) -> None:
        config = json.loads((folder / "config.json").read_text())
        edit(config)
        (folder / "config.json").write_text(json.dumps(config))
    return damage


def _edit_weights(edit: Callable[[dict], object]) -> Callable[[Path], None]:
    def damage(folder: Path) -> None:
        weights = load_file(str(folder / "weights.safetensors"))
        edit(weights)
        save_file(weights, str(folder / "weights.safetensors"))
    return damage


def _nan(weights: dict) -> None:
    weights["user.embedding.weight"][:] = float("nan")


def _grow(weights: dict) -> None:
    weights["user.embedding.weight"] = torch.zeros(31, weights["user.embedding.weight"].shape[1])


DAMAGE = {  # case: (damage, the file the line must name)
    "config key missing": (_edit_config(lambda c: c.pop("user_ids")), "config.json"),
    "config wrong type": (_edit_config(lambda c: c["model"].update(n_movies="20")),
                          "config.json"),
    "weights missing": (lambda f: (f / "weights.safetensors").unlink(), "weights.safetensors"),
    "weights truncated": (_truncate("weights.safetensors"), "weights.safetensors"),
    "weights shape": (_edit_weights(_grow), "weights.safetensors"),
    "weights nan": (_edit_weights(_nan), "weights.safetensors"),
    "state truncated": (_truncate("state.safetensors"), "state.safetensors"),
    "movies corrupt": (_truncate("movies.parquet"), "movies.parquet"),
    "history corrupt": (lambda f: (f / "history.json").write_text("{"), "history.json"),
    "index truncated": (_truncate("index/exact_index.safetensors"), "exact_index.safetensors"),
}


@pytest.mark.parametrize("case", list(DAMAGE))
def test_a_damaged_model_is_one_line_naming_the_file_and_exit_status_2(cli, model_dir, case):
    damage, name = DAMAGE[case]
    damage(model_dir)
    code, output = cli("recommend", str(model_dir), "--user", "1", "-k", "3")
    assert code == 2
    assert name in one_error_line(output)


def test_the_installed_entry_point_prints_no_traceback(model_dir):
    _edit_weights(_nan)(model_dir)
    result = subprocess.run(
        [sys.executable, "-c", "from movierec.cli.app import main; main()", "similar",
         str(model_dir), "--movie", "1"], capture_output=True, text=True, timeout=120)
    assert result.returncode == 2
    assert "NaN" in result.stdout and "weights.safetensors" in result.stdout
    assert "Traceback" not in result.stdout + result.stderr
