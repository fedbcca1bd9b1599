"""The ratings.csv reader of ml-20m/25m/32m streams block by block: same frame as one
read, and errors in a later block still name the right line."""

import numpy as np
import pandas as pd
import pytest

from movierec.data import tables
from movierec.data.files import open_folder
from movierec.data.tables import read_header, read_ratings
from movierec.errors import DataFormatError


def _write(folder, n=5_000):
    rng = np.random.default_rng(0)
    df = pd.DataFrame({"userId": rng.integers(1, 10**6, n), "movieId": np.arange(n),
                       "rating": rng.integers(1, 11, n) / 2,
                       "timestamp": rng.integers(8e8, 9e8, n)})
    df.to_csv(folder / "ratings.csv", index=False)
    return df


def _read(folder):
    f = open_folder(folder, ("ratings.csv",))
    return read_ratings(f, "ratings.csv", sep=",", fields=read_header(f, "ratings.csv", ","),
                        header=True, rating_range=(0.5, 5.0))


def test_many_small_blocks_give_the_same_ratings(tmp_path, monkeypatch):
    expected = _write(tmp_path)
    monkeypatch.setattr(tables, "_STREAM_BLOCK", 4096)  # ~40 blocks
    got = _read(tmp_path)
    assert len(got) == len(expected)
    np.testing.assert_array_equal(got["user_id"], expected["userId"])
    np.testing.assert_array_equal(got["rating"], expected["rating"].astype(np.float32))
    assert got["user_id"].dtype == np.int64 and got["rating"].dtype == np.float32


def test_bad_value_in_a_late_block_names_its_line(tmp_path, monkeypatch):
    _write(tmp_path)
    lines = (tmp_path / "ratings.csv").read_text().splitlines()
    lines[4_321] = "7,8,x,9"
    (tmp_path / "ratings.csv").write_text("\n".join(lines) + "\n")
    monkeypatch.setattr(tables, "_STREAM_BLOCK", 4096)
    with pytest.raises(DataFormatError, match=r"line 4322: rating 'x' is not a number"):
        _read(tmp_path)
