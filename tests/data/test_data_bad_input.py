"""Corrupt, truncated or mis-shaped input: a DataFormatError naming file, line and value."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest
from mlfiles import rating_lines, small_ratings, write_100k, write_csv_variant, zip_folder

from movierec.data import parse_folder, validate_ratings
from movierec.errors import DataFormatError

LFS = ("version https://git-lfs.github.com/spec/v1\noid sha256:" + "a" * 64 + "\nsize 1979173\n")


@pytest.fixture
def ml100k(tmp_path):
    return write_100k(tmp_path / "ml-100k")


def set_udata(folder, text: str):
    (folder / "u.data").write_text(text)
    return folder


def lines_with(n: int, line: int, bad: str) -> str:
    rows = rating_lines(small_ratings()).splitlines(keepends=True)[:n]
    rows[line - 1] = bad
    return "".join(rows)


def check(folder, *fragments: str, name: str = "ml-100k") -> str:
    with pytest.raises(DataFormatError) as info:
        parse_folder(name, folder)
    msg = str(info.value)
    for f in fragments:
        assert f in msg, msg
    return msg


def test_missing_file(ml100k):
    (ml100k / "u.data").unlink()
    check(ml100k, f"{ml100k} has no u.data")


def test_missing_path(tmp_path):
    check(tmp_path / "nope", "does not exist")


def test_wrong_separator(ml100k):
    set_udata(ml100k, rating_lines(small_ratings(), ","))
    check(ml100k, "u.data", "expected 4 tab-separated fields, got 1 at line 1")


def test_too_many_fields_later_line(ml100k):
    set_udata(ml100k, lines_with(20, 9, "1\t2\t3\t4\t5\n"))
    check(ml100k, "u.data: expected 4 tab-separated fields, got 5 at line 9")


def test_non_numeric_rating(ml100k):
    set_udata(ml100k, lines_with(30, 17, "3\t4\tabc\t881250949\n"))
    check(ml100k, "u.data: line 17: rating 'abc' is not a number")


def test_non_integer_id(ml100k):
    set_udata(ml100k, lines_with(30, 5, "3.5\t4\t3\t881250949\n"))
    check(ml100k, "line 5: user_id '3.5' is not an integer")


@pytest.mark.parametrize("bad", ["6", "0", "-1"])
def test_rating_out_of_range_100k(ml100k, bad):
    set_udata(ml100k, lines_with(30, 3, f"1\t1\t{bad}\t881250949\n"))
    check(ml100k, f"u.data: line 3: rating {bad} is outside 1..5")


def test_rating_out_of_range_half_stars(tmp_path):
    r = small_ratings(half=True)
    r.loc[6, "rating"] = 0.0
    folder = write_csv_variant(tmp_path / "m", r)
    check(folder, "ratings.csv: line 8: rating 0 is outside 0.5..5", name="ml-latest-small")


def test_line_numbers_count_blank_lines(ml100k):
    text = lines_with(20, 12, "1\t1\t9\t881250949\n")
    rows = text.splitlines(keepends=True)
    set_udata(ml100k, "".join(rows[:4]) + "\n" + "".join(rows[4:]))
    check(ml100k, "line 13: rating 9 is outside 1..5")


def test_duplicate_pair(ml100k):
    rows = rating_lines(small_ratings()).splitlines(keepends=True)[:20]
    u, m = rows[1].split("\t")[:2]
    rows[9] = f"{u}\t{m}\t1\t881250949\n"
    set_udata(ml100k, "".join(rows))
    check(ml100k, f"duplicate rating of (user {u}, movie {m}) at line 2 and line 10")


def test_empty_file(ml100k):
    set_udata(ml100k, "")
    check(ml100k, "u.data is empty")


def test_header_only_csv(tmp_path):
    folder = write_csv_variant(tmp_path / "m")
    (folder / "ratings.csv").write_text("userId,movieId,rating,timestamp\n")
    check(folder, "ratings.csv: has no ratings", name="ml-latest-small")


def test_csv_header_without_rating(tmp_path):
    folder = write_csv_variant(tmp_path / "m")
    (folder / "ratings.csv").write_text("userId,movieId,score,timestamp\n1,2,3,4\n")
    check(folder, "ratings.csv: header lacks column(s) rating", name="ml-latest-small")


def test_lfs_pointer_file(ml100k):
    set_udata(ml100k, LFS)
    check(ml100k, "u.data is a Git LFS pointer", "git lfs pull")


def test_lfs_pointer_zip(tmp_path):
    z = tmp_path / "ml-100k.zip"
    z.write_text(LFS)
    check(z, "ml-100k.zip is a Git LFS pointer", "git lfs pull")


def test_truncated_zip(tmp_path, ml100k):
    z = zip_folder(ml100k, tmp_path / "ml-100k.zip", "ml-100k")
    z.write_bytes(z.read_bytes()[: z.stat().st_size // 2])
    check(z, "ml-100k.zip is truncated or not a zip; delete it and fetch again")


def test_item_file_wrong_field_count(ml100k):
    lines = (ml100k / "u.item").read_bytes().decode("latin-1").splitlines(keepends=True)
    lines[2] = "3|Short row|01-Jan-1995\n"
    (ml100k / "u.item").write_bytes("".join(lines).encode("latin-1"))
    check(ml100k, "u.item: expected 24 '|'-separated fields, got 3 at line 3")


def test_item_file_bad_id(ml100k):
    text = (ml100k / "u.item").read_bytes().decode("latin-1")
    (ml100k / "u.item").write_bytes(re.sub(r"^2\|", "x2|", text, flags=re.M).encode("latin-1"))
    check(ml100k, "u.item: line 2: movie_id 'x2' is not an integer")


def test_users_dat_bad_occupation(tmp_path):
    d = tmp_path / "ml-1m"
    d.mkdir()
    (d / "ratings.dat").write_text(rating_lines(small_ratings(), "::"))
    (d / "movies.dat").write_text("1::A (1995)::Drama\n")
    (d / "users.dat").write_text("1::F::1::10::48067\n2::M::56::21::70072\n")
    check(d, "users.dat: line 2: occupation code 21 is not in 0..20", name="ml-1m")


def test_validate_ratings_on_dataframes():
    r = small_ratings()
    out = validate_ratings(r.astype({"rating": "float64", "user_id": "int32"}), source="df")
    assert out["rating"].dtype == np.float32 and out["user_id"].dtype == np.int64
    with pytest.raises(DataFormatError, match="df: missing column"):
        validate_ratings(r.drop(columns="timestamp"), source="df")
    bad = r.astype({"rating": "float64"})
    bad.loc[4, "rating"] = np.nan
    with pytest.raises(DataFormatError, match="df: row 4: rating is missing"):
        validate_ratings(bad, source="df")
    bad = r.astype({"movie_id": object})
    bad.loc[2, "movie_id"] = "abc"
    with pytest.raises(DataFormatError, match="row 2: movie_id 'abc' is not a number"):
        validate_ratings(bad, source="df")
    with pytest.raises(DataFormatError, match=r"rating 7 is outside 1\.\.5"):
        validate_ratings(r.assign(rating=7.0), source="df", rating_range=(1, 5))
    with pytest.raises(DataFormatError, match="has no ratings"):
        validate_ratings(r.iloc[:0], source="df")
    with pytest.raises(DataFormatError, match=r"duplicate rating .* row 0 and row 60"):
        validate_ratings(pd.concat([r, r.iloc[:1]]), source="df")
