"""`RatingColumns`: ratings as three flat arrays (int32 user and movie indices, float32
ratings) plus the id maps, read from a DataFrame, a pyarrow Table or a parquet file batch by
batch, and saved as memory-mappable .npy.

This is the training input at tens of millions of ratings: 12 bytes per rating, no Python
objects and no pandas frame. A train part or a validation carve is a view: the same arrays
and an int32 index of the rows it holds (`rows`), never a copy of the columns. Processes that
share a machine (DDP ranks) memory-map one saved copy, so the operating system keeps a single
copy in its page cache.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Union

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from movierec.data.idmap import IdMap
from movierec.data.staging import staged_folder
from movierec.errors import DataFormatError, DataSourceError

# what `Recommender.fit` and `RatingColumns.read` take: a frame, an arrow table or a parquet file
RatingSource = Union[pd.DataFrame, pa.Table, str, Path]  # noqa: UP007 - a runtime alias
COLUMNS = ("user_id", "movie_id", "rating")
_ARRAYS = ("users", "movies", "ratings")
_META = "columns.json"
_FORMAT_VERSION = 1
_READ_ROWS = 1 << 20
_STREAM = 1 << 22  # random draws and sums in blocks of this many rows (bounded temporaries)
_DENSE_IDS = 1 << 25  # ids below this are collected in a presence table (at most 32 MB)


@dataclass
class RatingColumns:
    """Aligned arrays: `users`/`movies` are int32 indices into `user_ids`/`movie_ids`.

    `rows`, when set, are the positions in the arrays that this view holds (an int32 index
    from `take`, `holdout` or `carve`); `gather()` gives a view's rows as arrays of their own.
    """

    users: np.ndarray
    movies: np.ndarray
    ratings: np.ndarray
    user_ids: IdMap
    movie_ids: IdMap
    rows: np.ndarray | None = None

    def __len__(self) -> int:
        return len(self.rows) if self.rows is not None else len(self.ratings)

    @property
    def rating_range(self) -> tuple[float, float]:
        ratings = self.ratings if self.rows is None else self.ratings[self.rows]
        return float(ratings.min()), float(ratings.max())

    def take(self, rows: np.ndarray) -> RatingColumns:
        """A view of the given rows of this one (a mask or positions), same arrays."""
        rows = np.asarray(rows)
        if rows.dtype == bool:
            rows = _positions(rows)
        picked = rows if self.rows is None else self.rows[rows]
        return replace(self, rows=picked.astype(np.int32, copy=False))

    def gather(self) -> RatingColumns:
        """The view's rows as arrays of their own (a copy; meant for small parts)."""
        if self.rows is None:
            return self
        return RatingColumns(self.users[self.rows], self.movies[self.rows],
                             self.ratings[self.rows], self.user_ids, self.movie_ids)

    def holdout(self, fraction: float, seed: int = 0) -> tuple[RatingColumns, RatingColumns]:
        """(train, test) views: each row is held out with probability `fraction`."""
        picked = _draw_below(len(self), fraction, seed)
        return self.take(~picked), self.take(picked)

    def carve(self, fraction: float, seed: int = 0) -> tuple[RatingColumns, RatingColumns]:
        """(train, validation) views by `Recommender.fit`'s rule: `holdout`'s draw, then the
        validation rows whose user or movie would have no training rating go back to train,
        so the model is scored only on ids it trained."""
        data = self.gather()
        picked = validation_mask(data.users, data.movies, len(self.user_ids),
                                 len(self.movie_ids), fraction, seed)
        return self.take(~picked), self.take(picked)

    def grouped_by_user(self) -> RatingColumns:
        """These rows with each user's ratings together (in their given order): training
        visits the tables in ascending rows, which is several times faster than at random.
        Free when they already are (MovieLens files and `data synth` folders are)."""
        data = self.gather()
        if np.all(data.users[1:] >= data.users[:-1]):
            return data
        order = np.argsort(data.users, kind="stable")
        return RatingColumns(data.users[order], data.movies[order], data.ratings[order],
                             data.user_ids, data.movie_ids)

    # ----------------------------------------------------------------- reading
    @classmethod
    def read(cls, source: RatingSource, *, name: str = "ratings") -> RatingColumns:
        """Columns of a DataFrame, a pyarrow Table or a parquet file (`name` labels the first
        two in error messages; a file is named by its path)."""
        if isinstance(source, str | Path):
            return cls.from_parquet(source)
        if isinstance(source, pd.DataFrame):
            return cls.from_frame(source, name=name)
        if isinstance(source, pa.Table):
            return cls.from_arrow(source, name=name)
        raise DataFormatError(f"{name}: expected a pandas DataFrame, a pyarrow Table or a "
                              f"parquet file path, got {type(source).__name__}")

    @classmethod
    def from_frame(cls, frame: pd.DataFrame, *, name: str = "ratings") -> RatingColumns:
        """Columns of a canonical ratings frame; numeric columns are read without a copy."""
        _require_columns(name, list(frame.columns))
        return cls.from_arrow(pa.table({c: pa.Array.from_pandas(frame[c]) for c in COLUMNS}),
                              name=name)

    @classmethod
    def from_arrow(cls, table: pa.Table, *, name: str = "ratings") -> RatingColumns:
        _require_columns(name, table.schema.names)
        return _build(name, table.num_rows,
                      lambda: iter(table.select(list(COLUMNS)).to_batches(_READ_ROWS)))

    @classmethod
    def from_parquet(cls, path: str | Path) -> RatingColumns:
        """Read user_id, movie_id, rating columns of a canonical ratings parquet file.

        Two streaming passes: the first collects the distinct ids, the second maps each
        batch to indices into preallocated arrays (peak memory ~ the result + one batch).
        """
        file = open_parquet(path)
        return _build(str(path), file.metadata.num_rows,
                      lambda: file.iter_batches(batch_size=_READ_ROWS, columns=list(COLUMNS)))

    # ----------------------------------------------------------------- files
    def save(self, folder: str | Path) -> Path:
        """Write FOLDER/{users,movies,ratings}.npy and the id maps, atomically."""
        data = self.gather()
        with staged_folder(folder) as tmp:
            for name in _ARRAYS:
                np.save(tmp / f"{name}.npy", getattr(data, name))
            np.save(tmp / "user_ids.npy", self.user_ids.ids)
            np.save(tmp / "movie_ids.npy", self.movie_ids.ids)
            (tmp / _META).write_text(json.dumps({"format": _FORMAT_VERSION, "n": len(self)}))
        return Path(folder)

    @classmethod
    def load(cls, folder: str | Path, *, mmap: bool = True) -> RatingColumns:
        """Columns saved by `save`; memory-mapped unless `mmap=False`. The map is private
        copy-on-write: never written here, so processes share the file's pages, and the
        arrays are of the writable kind the compiled kernel is compiled for once."""
        folder = Path(folder)
        try:
            meta = json.loads((folder / _META).read_text())
        except (OSError, ValueError) as e:
            raise DataFormatError(f"{folder}: not a saved RatingColumns folder ({e})") from e
        if meta.get("format") != _FORMAT_VERSION:
            raise DataFormatError(f"{folder}: columns format {meta.get('format')}, expected "
                                  f"{_FORMAT_VERSION}; save the columns again")
        mode = "c" if mmap else None
        arrays = [np.load(folder / f"{name}.npy", mmap_mode=mode) for name in _ARRAYS]
        return cls(*arrays, IdMap(np.load(folder / "user_ids.npy"), "user"),
                   IdMap(np.load(folder / "movie_ids.npy"), "movie"))


def open_parquet(path: str | Path) -> pq.ParquetFile:
    """The parquet file at `path` with the rating columns, else an error naming the file."""
    path = Path(path)
    if not path.is_file():
        raise DataSourceError(f"{path} does not exist (or is not a file); pass a ratings "
                              "parquet file, a DataFrame or a pyarrow Table")
    try:
        file = pq.ParquetFile(path)
    except (OSError, pa.ArrowInvalid) as e:
        raise DataFormatError(f"{path}: not a readable parquet file ({e})") from e
    _require_columns(str(path), file.schema_arrow.names)
    return file


def count_rows(source: RatingSource) -> int:
    """How many ratings `source` holds, without reading a file's data."""
    if isinstance(source, str | Path):
        return open_parquet(source).metadata.num_rows
    if isinstance(source, pd.DataFrame | pa.Table):
        return len(source) if isinstance(source, pd.DataFrame) else source.num_rows
    raise DataFormatError(f"ratings must be a DataFrame, a pyarrow Table or a parquet file "
                          f"path, got {type(source).__name__}")


def _require_columns(name: str, names: list[str]) -> None:
    missing = [c for c in COLUMNS if c not in names]
    if missing:
        raise DataFormatError(f"{name}: missing column(s) {', '.join(missing)}; it has "
                              f"{', '.join(map(str, names))}")


def validation_mask(users: np.ndarray, movies: np.ndarray, n_users: int, n_movies: int,
                    fraction: float, seed: int) -> np.ndarray:
    """`Recommender.fit`'s validation rows at every size: a `fraction` drawn at random
    (rng(seed)), less those whose user or movie would have no training rating left, so a
    model is scored only on ids it trained."""
    picked = _draw_below(len(users), fraction, seed)
    held = np.flatnonzero(picked)
    user_left = _counts(users, n_users) - _counts(users[held], n_users)
    movie_left = _counts(movies, n_movies) - _counts(movies[held], n_movies)
    picked[held] = (user_left[users[held]] > 0) & (movie_left[movies[held]] > 0)
    return picked


def _draw_below(n: int, fraction: float, seed: int) -> np.ndarray:
    """rng(seed).random(n) < fraction, drawn in blocks (the same numbers, no float64 copy
    of every row)."""
    rng = np.random.default_rng(seed)
    picked = np.empty(n, dtype=bool)
    for start in range(0, n, _STREAM):
        end = min(start + _STREAM, n)
        picked[start:end] = rng.random(end - start) < fraction
    return picked


def _positions(mask: np.ndarray) -> np.ndarray:
    """np.flatnonzero(mask) as int32, a block at a time (no int64 index of every row)."""
    found = np.empty(int(np.count_nonzero(mask)), dtype=np.int32)
    at = 0
    for start in range(0, len(mask), _STREAM):
        block = np.flatnonzero(mask[start:start + _STREAM]) + start
        found[at:at + len(block)] = block
        at += len(block)
    return found


def _counts(values: np.ndarray, n: int) -> np.ndarray:
    """np.bincount(values, minlength=n) a block at a time (bincount widens to int64)."""
    counts = np.zeros(n, dtype=np.int64)
    for start in range(0, len(values), _STREAM):
        counts += np.bincount(values[start:start + _STREAM], minlength=n)
    return counts


# ----------------------------------------------------------------- building
def _build(name: str, n: int,
           batches: Callable[[], Iterator[pa.RecordBatch]]) -> RatingColumns:
    """Two passes over `batches()`: the distinct ids, then each batch mapped into
    preallocated int32/float32 arrays; bad values raise errors naming `name` and the row."""
    if n == 0:
        raise DataFormatError(f"{name}: has no ratings")
    distinct = {"user_id": _DistinctIds(), "movie_id": _DistinctIds()}
    for _, batch in _numpy_batches(name, batches()):
        for column, found in distinct.items():
            found.add(batch[column])
    user_ids, movie_ids = distinct["user_id"].ids(), distinct["movie_id"].ids()
    users, movies = np.empty(n, np.int32), np.empty(n, np.int32)
    ratings = np.empty(n, np.float32)
    to_user, to_movie = _IndexLookup(user_ids), _IndexLookup(movie_ids)
    start = 0
    for _, batch in _numpy_batches(name, batches()):
        end = start + len(batch["rating"])
        users[start:end] = to_user(batch["user_id"])
        movies[start:end] = to_movie(batch["movie_id"])
        ratings[start:end] = batch["rating"]
        start = end
    return RatingColumns(users, movies, ratings, IdMap(user_ids, "user"),
                         IdMap(movie_ids, "movie"))


def _numpy_batches(name: str, batches: Iterator[pa.RecordBatch]
                   ) -> Iterator[tuple[int, dict[str, np.ndarray]]]:
    """(first row number, checked numpy columns) per batch: ids as int64, ratings finite."""
    row = 0
    for batch in batches:
        columns = {}
        for column in COLUMNS:
            values = batch.column(column)
            if values.null_count:
                first = int(np.flatnonzero(values.is_null().to_numpy(zero_copy_only=False))[0])
                raise DataFormatError(f"{name}: row {row + first}: {column} is missing")
            array = values.to_numpy(zero_copy_only=False)
            if array.dtype.kind not in "iuf":
                raise DataFormatError(f"{name}: column {column} holds {values.type} values; "
                                      f"{'ratings' if column == 'rating' else 'ids'} must be "
                                      "numbers")
            check = _check_rating if column == "rating" else _check_id
            columns[column] = check(array, name, column, row)
        yield row, columns
        row += batch.num_rows


def _check_id(values: np.ndarray, name: str, column: str, row: int) -> np.ndarray:
    if values.dtype.kind == "f":
        bad = ~(np.abs(values) < 2.0**63) | (values != np.round(values))
        if bad.any():
            i = int(np.argmax(bad))
            raise DataFormatError(f"{name}: row {row + i}: {column} {values[i]!r} is not a "
                                  "whole number")
    return values.astype(np.int64, copy=False)


def _check_rating(values: np.ndarray, name: str, column: str, row: int) -> np.ndarray:
    bad = ~np.isfinite(values)
    if bad.any():
        i = int(np.argmax(bad))
        what = "is missing" if np.isnan(values[i]) else f"{values[i]!r} is not a finite number"
        raise DataFormatError(f"{name}: row {row + i}: {column} {what}")
    return values


class _DistinctIds:
    """The distinct ids of a column read batch by batch: marked in a presence table while
    they are small non-negative numbers (one scatter per batch), else hashed."""

    def __init__(self) -> None:
        self.present = np.zeros(0, dtype=bool)
        self.hashed: list[np.ndarray] = []

    def add(self, ids: np.ndarray) -> None:
        top = int(ids.max())
        if ids.min() >= 0 and top < _DENSE_IDS:
            if top >= len(self.present):
                self.present = np.concatenate(
                    [self.present, np.zeros(top + 1 - len(self.present), bool)])
            self.present[ids] = True
        else:
            self.hashed.append(pd.unique(ids))

    def ids(self) -> np.ndarray:
        """The sorted distinct ids."""
        return np.unique(np.concatenate([np.flatnonzero(self.present), *self.hashed]))


class _IndexLookup:
    """Raw id -> int32 index: a direct table when the ids are dense enough, else a binary
    search in the sorted ids."""

    def __init__(self, ids: np.ndarray) -> None:
        self.ids = ids
        self.table = None
        if ids[0] >= 0 and ids[-1] < 8 * len(ids) + (1 << 20):
            self.table = np.full(int(ids[-1]) + 1, -1, dtype=np.int32)
            self.table[ids] = np.arange(len(ids), dtype=np.int32)

    def __call__(self, raw: np.ndarray) -> np.ndarray:
        if self.table is not None:
            return self.table[raw]
        return np.searchsorted(self.ids, raw).astype(np.int32)
