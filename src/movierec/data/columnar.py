"""`RatingColumns`: ratings as three flat arrays (int32 user and movie indices, float32
ratings) plus the id maps, read from parquet batch by batch and saved as memory-mappable .npy.

This is the training input at tens of millions of ratings: 12 bytes per rating, no Python
objects and no pandas frame. Processes that share a machine (DDP ranks) memory-map one
saved copy, so the operating system keeps a single copy in its page cache.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from movierec.data.idmap import IdMap
from movierec.data.staging import staged_folder
from movierec.errors import DataFormatError

_ARRAYS = ("users", "movies", "ratings")
_META = "columns.json"
_FORMAT_VERSION = 1
_READ_ROWS = 1 << 20


@dataclass
class RatingColumns:
    """Aligned arrays: `users`/`movies` are int32 indices into `user_ids`/`movie_ids`."""

    users: np.ndarray
    movies: np.ndarray
    ratings: np.ndarray
    user_ids: IdMap
    movie_ids: IdMap

    def __len__(self) -> int:
        return len(self.ratings)

    @property
    def rating_range(self) -> tuple[float, float]:
        return float(self.ratings.min()), float(self.ratings.max())

    def take(self, rows: np.ndarray) -> RatingColumns:
        """The given rows (a mask or positions), same id maps."""
        return RatingColumns(self.users[rows], self.movies[rows], self.ratings[rows],
                             self.user_ids, self.movie_ids)

    def holdout(self, fraction: float, seed: int = 0) -> tuple[RatingColumns, RatingColumns]:
        """(train, test): a random `fraction` of rows held out, in one boolean mask."""
        picked = np.random.default_rng(seed).random(len(self)) < fraction
        return self.take(~picked), self.take(picked)

    @classmethod
    def from_parquet(cls, path: str | Path) -> RatingColumns:
        """Read user_id, movie_id, rating columns of a canonical ratings parquet file.

        Two streaming passes: the first collects the distinct ids, the second maps each
        batch to indices into preallocated arrays (peak memory ~ the result + one batch).
        """
        path = Path(path)
        try:
            file = pq.ParquetFile(path)
        except (OSError, pa.ArrowInvalid) as e:
            raise DataFormatError(f"{path}: not a readable parquet file ({e})") from e
        missing = {"user_id", "movie_id", "rating"} - set(file.schema_arrow.names)
        if missing:
            raise DataFormatError(f"{path}: missing column(s) {', '.join(sorted(missing))}")
        n = file.metadata.num_rows
        if n == 0:
            raise DataFormatError(f"{path}: has no ratings")
        user_ids, movie_ids = _distinct_ids(path, file)
        users, movies = np.empty(n, np.int32), np.empty(n, np.int32)
        ratings = np.empty(n, np.float32)
        to_user, to_movie = _IndexLookup(user_ids), _IndexLookup(movie_ids)
        start = 0
        for row, batch in _batches(path, file):
            end = start + len(batch["rating"])
            users[start:end] = to_user(batch["user_id"])
            movies[start:end] = to_movie(batch["movie_id"])
            ratings[start:end] = _finite(batch["rating"], path, row)
            start = end
        return cls(users, movies, ratings, IdMap(user_ids, "user"), IdMap(movie_ids, "movie"))

    def save(self, folder: str | Path) -> Path:
        """Write FOLDER/{users,movies,ratings}.npy and the id maps, atomically."""
        with staged_folder(folder) as tmp:
            for name in _ARRAYS:
                np.save(tmp / f"{name}.npy", getattr(self, name))
            np.save(tmp / "user_ids.npy", self.user_ids.ids)
            np.save(tmp / "movie_ids.npy", self.movie_ids.ids)
            (tmp / _META).write_text(json.dumps({"format": _FORMAT_VERSION, "n": len(self)}))
        return Path(folder)

    @classmethod
    def load(cls, folder: str | Path, *, mmap: bool = True) -> RatingColumns:
        """Columns saved by `save`; memory-mapped read-only unless `mmap=False`."""
        folder = Path(folder)
        try:
            meta = json.loads((folder / _META).read_text())
        except (OSError, ValueError) as e:
            raise DataFormatError(f"{folder}: not a saved RatingColumns folder ({e})") from e
        if meta.get("format") != _FORMAT_VERSION:
            raise DataFormatError(f"{folder}: columns format {meta.get('format')}, expected "
                                  f"{_FORMAT_VERSION}; save the columns again")
        mode = "r" if mmap else None
        arrays = [np.load(folder / f"{name}.npy", mmap_mode=mode) for name in _ARRAYS]
        return cls(*arrays, IdMap(np.load(folder / "user_ids.npy"), "user"),
                   IdMap(np.load(folder / "movie_ids.npy"), "movie"))


def _batches(path: Path, file: pq.ParquetFile) -> Iterator[tuple[int, dict[str, np.ndarray]]]:
    """(first row number, numpy columns) per batch; nulls are an error naming the row."""
    row = 0
    for batch in file.iter_batches(batch_size=_READ_ROWS,
                                   columns=["user_id", "movie_id", "rating"]):
        columns = {}
        for name in ("user_id", "movie_id", "rating"):
            column = batch.column(name)
            if column.null_count:
                first = int(np.flatnonzero(column.is_null().to_numpy(zero_copy_only=False))[0])
                raise DataFormatError(f"{path}: row {row + first}: {name} is missing")
            columns[name] = column.to_numpy()
        yield row, columns
        row += batch.num_rows


def _distinct_ids(path: Path, file: pq.ParquetFile) -> tuple[np.ndarray, np.ndarray]:
    seen: dict[str, list[np.ndarray]] = {"user_id": [], "movie_id": []}
    for row, batch in _batches(path, file):
        for name, ids in seen.items():
            values = batch[name]
            if values.dtype.kind == "f":
                bad = values != np.round(values)
                if bad.any():
                    i = int(np.argmax(bad))
                    raise DataFormatError(f"{path}: row {row + i}: {name} {values[i]!r} is not "
                                          "an integer")
            ids.append(_sorted_unique(values.astype(np.int64)))
    return (_sorted_unique(np.concatenate(seen["user_id"])),
            _sorted_unique(np.concatenate(seen["movie_id"])))


def _sorted_unique(values: np.ndarray) -> np.ndarray:
    values = np.sort(values)
    return values[np.r_[True, values[1:] != values[:-1]]] if len(values) else values


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
        raw = raw.astype(np.int64, copy=False)
        if self.table is not None:
            return self.table[raw]
        return np.searchsorted(self.ids, raw).astype(np.int32)


def _finite(ratings: np.ndarray, path: Path, row: int) -> np.ndarray:
    bad = ~np.isfinite(ratings)
    if bad.any():
        i = int(np.argmax(bad))
        raise DataFormatError(f"{path}: row {row + i}: rating {ratings[i]!r} is not a finite "
                              "number")
    return ratings
