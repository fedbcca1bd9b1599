"""The synthetic MovieLens-shaped generator and the columnar loader it feeds."""

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest

from movierec.data.columnar import RatingColumns
from movierec.data.synth import GENRES, SynthSpec, write_synthetic_movielens
from movierec.errors import ConfigError, DataFormatError

SPEC = SynthSpec(n_ratings=40_000, n_users=800, n_movies=500, seed=3)


@pytest.fixture(scope="module")
def synth(tmp_path_factory):
    return write_synthetic_movielens(tmp_path_factory.mktemp("s") / "synth", SPEC,
                                     block_ratings=9_000)


def test_exact_size_distinct_pairs_and_canonical_columns(synth):
    r = pd.read_parquet(synth / "ratings.parquet")
    assert len(r) == SPEC.n_ratings
    assert not r.duplicated(["user_id", "movie_id"]).any()
    assert list(r.columns) == ["user_id", "movie_id", "rating", "timestamp"]
    assert r["user_id"].between(1, SPEC.n_users).all()
    assert r["movie_id"].between(1, SPEC.n_movies).all()
    assert set(np.unique(r["rating"])) <= set(np.arange(1, 11) / 2)
    assert r.groupby("user_id").size().min() >= SPEC.min_per_user
    assert r["timestamp"].between(946_684_800, 1_700_000_000).all()


def test_written_in_blocks_of_bounded_size(synth):
    meta = pq.ParquetFile(synth / "ratings.parquet").metadata
    sizes = [meta.row_group(i).num_rows for i in range(meta.num_row_groups)]
    assert len(sizes) >= 4
    assert max(sizes) <= 9_000 + SPEC.max_per_user


def test_long_tails_and_genres(synth):
    r = pd.read_parquet(synth / "ratings.parquet")
    per_movie = r.groupby("movie_id").size().sort_values(ascending=False)
    assert per_movie.iloc[:50].sum() > 0.3 * len(r)  # top 10% of movies
    per_user = r.groupby("user_id").size()
    assert per_user.max() > 3 * per_user.median()
    movies = pd.read_parquet(synth / "movies.parquet")
    assert len(movies) == SPEC.n_movies
    assert all(1 <= len(g) <= 3 and set(g) <= set(GENRES) for g in movies["genres"])


def test_seeded(tmp_path, synth):
    again = write_synthetic_movielens(tmp_path / "again", SPEC, block_ratings=9_000)
    other = write_synthetic_movielens(tmp_path / "other", SynthSpec(40_000, 800, 500, seed=4))
    first = pd.read_parquet(synth / "ratings.parquet")
    pd.testing.assert_frame_equal(first, pd.read_parquet(again / "ratings.parquet"))
    assert not first.equals(pd.read_parquet(other / "ratings.parquet"))


def test_too_many_ratings_is_a_config_error():
    with pytest.raises(ConfigError, match="do not fit"):
        SynthSpec(n_ratings=10_000, n_users=10, n_movies=100)


def test_columns_round_trip_raw_ids(tmp_path, synth):
    r = pd.read_parquet(synth / "ratings.parquet")
    cols = RatingColumns.from_parquet(synth / "ratings.parquet")
    assert cols.users.dtype == np.int32 and cols.ratings.dtype == np.float32
    np.testing.assert_array_equal(cols.user_ids.ids[cols.users], r["user_id"])
    np.testing.assert_array_equal(cols.movie_ids.ids[cols.movies], r["movie_id"])
    loaded = RatingColumns.load(cols.save(tmp_path / "cols"))
    assert isinstance(loaded.users, np.memmap)
    np.testing.assert_array_equal(loaded.movies, cols.movies)
    assert loaded.movie_ids == cols.movie_ids


def test_columns_with_sparse_raw_ids(tmp_path):
    path = tmp_path / "r.parquet"
    pd.DataFrame({"user_id": [10**12, 5, 5], "movie_id": [7, 7, 3 * 10**11],
                  "rating": np.float32([1, 2, 3]), "timestamp": [0, 0, 0]}).to_parquet(path)
    cols = RatingColumns.from_parquet(path)
    assert cols.user_ids.ids.tolist() == [5, 10**12]
    assert cols.users.tolist() == [1, 0, 0] and cols.movies.tolist() == [0, 0, 1]


def test_columns_errors_name_file_and_row(tmp_path):
    path = tmp_path / "r.parquet"
    pd.DataFrame({"user_id": [1, None], "movie_id": [1, 2], "rating": [1.0, 2.0]}).to_parquet(path)
    with pytest.raises(DataFormatError, match=r"r\.parquet: row 1: user_id is missing"):
        RatingColumns.from_parquet(path)
    pd.DataFrame({"user_id": [1], "rating": [1.0]}).to_parquet(path)
    with pytest.raises(DataFormatError, match=r"missing column.*movie_id"):
        RatingColumns.from_parquet(path)


def test_interrupted_write_keeps_the_old_folder(tmp_path):
    from movierec.data.staging import staged_folder

    with staged_folder(tmp_path / "out") as tmp:
        (tmp / "a.txt").write_text("old")
    with pytest.raises(RuntimeError), staged_folder(tmp_path / "out") as tmp:
        (tmp / "a.txt").write_text("half")
        raise RuntimeError("crash")
    assert (tmp_path / "out" / "a.txt").read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["out"]
