"""Data-layer inputs that used to load as a wrong answer: each is now an error naming the
file and line, or (for --path) leaves the cache alone."""

from __future__ import annotations

import re
import sys

import numpy as np
import pandas.testing as pdt
import pytest
from mlfiles import small_ratings, write_100k, write_csv_variant

from movierec.cli.app import main
from movierec.data import (
    IdMap,
    load_movielens,
    movielens_scale,
    parse_folder,
    raw_ids,
    validate_ratings,
)
from movierec.data.cache import read_entry, write_entry
from movierec.errors import DataFormatError


def with_line(path, line: int, text: str) -> None:
    """Replace 1-based `line` of a file with `text`."""
    lines = path.read_bytes().decode("latin-1").splitlines(keepends=True)
    lines[line - 1] = text
    path.write_bytes("".join(lines).encode("latin-1"))


# ------------------------------------------------------------------ timestamps
def test_huge_timestamp_in_u_data_names_file_and_line(tmp_path):
    folder = write_100k(tmp_path / "ml-100k", folds=False)
    with_line(folder / "u.data", 3, "1\t2\t4\t1e300\n")
    with pytest.raises(DataFormatError, match=re.escape(f"{folder / 'u.data'}: line 3: "
                                                        "timestamp 1e+300 is not Unix seconds")):
        parse_folder("ml-100k", folder)


def test_data_info_reports_a_huge_timestamp_in_one_line(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("MOVIEREC_HOME", str(tmp_path / "home"))
    folder = write_100k(tmp_path / "ml-100k", folds=False)
    with_line(folder / "u.data", 2, "1\t2\t4\t1e300\n")
    monkeypatch.setattr(sys, "argv", ["movierec", "data", "info", "--path", str(folder)])
    with pytest.raises(SystemExit) as done:
        main()
    printed = " ".join(capsys.readouterr().out.split())
    assert done.value.code == 2
    assert "u.data: line 2: timestamp 1e+300" in printed and "Traceback" not in printed


@pytest.mark.parametrize("stamp", [1e300, -1e19, 2**62, np.nan])
def test_timestamps_outside_dates_are_refused_in_frames(stamp):
    r = small_ratings()
    r["timestamp"] = r["timestamp"].astype(object if isinstance(stamp, int) else float)
    r.loc[4, "timestamp"] = stamp
    with pytest.raises(DataFormatError, match="df: row 4: timestamp"):
        validate_ratings(r, source="df")


def test_the_latest_date_pandas_holds_is_accepted():
    r = small_ratings().assign(timestamp=9_223_372_036)
    assert validate_ratings(r, source="df")["timestamp"].max() == 9_223_372_036


# ------------------------------------------------------------------ duplicate ids
def test_duplicate_movie_id_in_u_item_names_both_lines(tmp_path):
    folder = write_100k(tmp_path / "ml-100k", folds=False)
    items = (folder / "u.item").read_bytes().decode("latin-1").splitlines(keepends=True)
    with_line(folder / "u.item", 5, "2" + items[4][items[4].index("|"):])
    with pytest.raises(DataFormatError, match=re.escape(
            f"{folder / 'u.item'}: line 5: movie_id 2 already appears at line 2")):
        parse_folder("ml-100k", folder)


def test_duplicate_movie_id_in_movies_csv_names_both_lines(tmp_path):
    folder = write_csv_variant(tmp_path / "small")
    with_line(folder / "movies.csv", 6, "3,Twin (2001),Drama\r\n")
    with pytest.raises(DataFormatError, match=re.escape(
            f"{folder / 'movies.csv'}: line 6: movie_id 3 already appears at line 4")):
        parse_folder("ml-latest-small", folder)


def test_duplicate_user_id_in_u_user_is_refused(tmp_path):
    folder = write_100k(tmp_path / "ml-100k", folds=False)
    with_line(folder / "u.user", 3, "1|30|F|writer|01234\n")
    with pytest.raises(DataFormatError, match=r"u\.user: line 3: user_id 1 already appears"):
        parse_folder("ml-100k", folder)


# ------------------------------------------------------------------ --path and the cache
def test_path_load_never_writes_the_cache(tmp_path):
    root = tmp_path / "cache"
    load_movielens("ml-100k", write_100k(tmp_path / "a"), cache_dir=root, progress=False)
    assert not (root / "ml-100k").exists()


def test_path_load_keeps_the_canonical_cache_entry(tmp_path):
    root = tmp_path / "cache"
    canonical = parse_folder("ml-100k", write_100k(tmp_path / "canonical"))
    write_entry(root, canonical)
    edited = small_ratings(n_ratings=30)
    local = write_100k(tmp_path / "edited", edited, folds=False)
    got = load_movielens("ml-100k", local, cache_dir=root, progress=False)
    assert len(got.ratings) == 30 and not got.has_canonical_folds
    again = load_movielens("ml-100k", cache_dir=root, download=False, progress=False)
    assert again.source.startswith("cache") and again.has_canonical_folds
    pdt.assert_frame_equal(again.ratings, canonical.ratings)
    assert read_entry(root, "ml-100k") is not None


# ------------------------------------------------------------------ one id rule
def test_raw_ids_convert_numbers_and_numeric_strings_alike():
    assert raw_ids(["42", 7, " 3"], column="user_id", source="s").tolist() == [42, 7, 3]
    assert raw_ids(np.array([3.0, 4.0]), column="user_id", source="s").tolist() == [3, 4]
    assert raw_ids("42", column="user_id", source="s") == 42


@pytest.mark.parametrize(("values", "message"), [
    ([1, None], "s: row 1: user_id is missing"),
    ([1.0, np.nan], "s: row 1: user_id is missing"),
    (["7", "abc"], "s: row 1: user_id 'abc' is not a number"),
    ([4.5], "s: row 0: user_id 4.5 is not an integer"),
    ([True], "s: row 0: user_id True is not a number"),
    ([1e30], "s: row 0: user_id 1e+30 is not an integer"),
])
def test_raw_ids_refuse_non_ids_naming_row_column_and_value(values, message):
    with pytest.raises(DataFormatError, match=re.escape(message)):
        raw_ids(values, column="user_id", source="s")


def test_idmap_reads_ids_by_the_same_rule():
    m = IdMap([1, 5, 42], kind="user")
    assert "42" in m and m.to_index(["42", 5.0]).tolist() == [2, 1]
    with pytest.raises(DataFormatError, match="user_id is missing"):
        m.to_index([1, None], missing="negative")


def test_validate_ratings_refuses_boolean_ids():
    r = small_ratings().astype({"user_id": object})
    r.loc[2, "user_id"] = True
    with pytest.raises(DataFormatError, match="df: row 2: user_id True is not a number"):
        validate_ratings(r, source="df")


# ------------------------------------------------------------------ rating scales
@pytest.mark.parametrize(("ratings", "scale"), [
    ([1, 2, 4], (1.0, 5.0)),           # nobody gave 5 stars: still the 1..5 scale
    ([1, 2.5, 4], (0.5, 5.0)),         # a half star: the 0.5..5 scale
    ([0.5, 5], (0.5, 5.0)),
    ([1, 50], None),
    ([0, 3], None),
    ([1.25, 3], None),
])
def test_movielens_scale(ratings, scale):
    assert movielens_scale(np.asarray(ratings, dtype=float)) == scale

