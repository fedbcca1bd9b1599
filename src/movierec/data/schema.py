"""Canonical column names and dtypes, and validation of rating tables."""

from __future__ import annotations

from collections.abc import Callable, Iterable

import numpy as np
import pandas as pd
from pandas.api.types import is_bool_dtype, is_integer_dtype, is_numeric_dtype

from movierec.errors import DataFormatError

RATING_COLUMNS: tuple[str, ...] = ("user_id", "movie_id", "rating", "timestamp")
MOVIE_COLUMNS: tuple[str, ...] = ("movie_id", "title", "year", "genres")
USER_COLUMNS: tuple[str, ...] = ("user_id", "age", "gender", "occupation", "zip_code")
# Unix seconds a date can hold (pandas datetimes are int64 nanoseconds: years 1677..2262).
MAX_TIMESTAMP = pd.Timestamp.max.value // 10**9

# A title ends in "(YYYY)" (or a range "(YYYY-YYYY)"), maybe followed by tags such as "(V)".
_TITLE_YEAR = (r"^(?P<title>.*)\((?P<year>\d{4})(?:[-–]\d{0,4})?\)\s*"
               r"(?P<rest>(?:\([^()]*\)\s*)*)$")


def _repeated_pairs(users: np.ndarray, movies: np.ndarray) -> np.ndarray:
    """Whether each (user, movie) pair appeared before: one int64 key per pair when the id
    ranges allow it (several times faster than DataFrame.duplicated), else pandas' way."""
    low_user, low_movie = int(users.min()), int(movies.min())
    movie_span = int(movies.max()) - low_movie + 1
    if (int(users.max()) - low_user + 1) * movie_span < 2**62:
        return pd.Index((users - low_user) * movie_span + (movies - low_movie)).duplicated()
    return pd.DataFrame({"user": users, "movie": movies}).duplicated().to_numpy()


def validate_ratings(df: pd.DataFrame, *, source: str,
                     rating_range: tuple[float, float] | None = None,
                     line_of: Callable[[int], int] | None = None) -> pd.DataFrame:
    """Check a ratings table and return it with canonical columns and dtypes.

    Raises DataFormatError naming `source`, the column and the value for missing columns,
    missing or non-numeric values, non-integer ids, timestamps no date can hold, ratings
    outside `rating_range` and duplicate (user, movie) pairs. `line_of` maps a row position
    to its 1-based line in a file; without it, messages name the row position.
    """
    def where(i: int) -> str:
        return f"line {line_of(i)}" if line_of else f"row {i}"

    if not isinstance(df, pd.DataFrame):
        raise DataFormatError(f"{source}: expected a pandas DataFrame, got {type(df).__name__}")
    missing = [c for c in RATING_COLUMNS if c not in df.columns]
    if missing:
        raise DataFormatError(f"{source}: missing column(s) {', '.join(missing)}; "
                              f"it has {', '.join(map(str, df.columns))}")
    if len(df) == 0:
        raise DataFormatError(f"{source}: has no ratings")
    out = {col: _column(df[col], col, source, lambda i: f"{where(i)}: ")
           for col in RATING_COLUMNS}
    if rating_range is not None:
        lo, hi = rating_range
        bad = (out["rating"] < lo) | (out["rating"] > hi)
        if bad.any():
            i = int(np.argmax(bad))
            raise DataFormatError(f"{source}: {where(i)}: rating {out['rating'][i]:g} is outside "
                                  f"{lo:g}..{hi:g}")
    result = pd.DataFrame({c: out[c] for c in RATING_COLUMNS})
    result["rating"] = result["rating"].astype(np.float32)
    dup = _repeated_pairs(result["user_id"].to_numpy(), result["movie_id"].to_numpy())
    if dup.any():
        j = int(np.argmax(dup))
        u, m = out["user_id"][j], out["movie_id"][j]
        i = int(np.flatnonzero((out["user_id"] == u) & (out["movie_id"] == m))[0])
        raise DataFormatError(f"{source}: duplicate rating of (user {u}, movie {m}) at "
                              f"{where(i)} and {where(j)}")
    return result


def raw_ids(values: object, *, column: str, source: str) -> np.ndarray:
    """Raw ids as int64, by the rule `validate_ratings` applies to id columns.

    Integers, whole floats and numeric strings ("42") are ids; anything else (NaN, None,
    "abc", 4.5, True) raises DataFormatError naming `source`, the row, `column` and the value,
    so an id is never silently unknown because of its type.
    """
    arr = np.asarray(values)
    if arr.dtype.kind in "iu":
        return arr.astype(np.int64, copy=False)
    flat = pd.Series(arr.ravel(), dtype=None if arr.dtype.kind in "fb" else object)
    where = (lambda i: f"row {i}: ") if arr.ndim else (lambda i: "")
    return _column(flat, column, source, where).reshape(arr.shape)


def _column(s: pd.Series, col: str, source: str, where: Callable[[int], str]) -> np.ndarray:
    """One rating-table column as int64 (ids, timestamps) or float64 (ratings); a bad value
    is a DataFormatError naming the place (`where(row)`, "row 3: "), the column and value."""
    def check(bad: np.ndarray, what: str) -> None:
        if bad.any():
            i = int(np.argmax(bad))
            value = s.iloc[i].item() if isinstance(s.iloc[i], np.generic) else s.iloc[i]
            raise DataFormatError(f"{source}: {where(i)}{col} {value!r} {what}")

    if is_bool_dtype(s):
        check(np.ones(len(s), bool), "is not a number")
    if not is_numeric_dtype(s):
        check(s.map(type).eq(bool).to_numpy(), "is not a number")  # to_numeric takes True as 1
        num = pd.to_numeric(s, errors="coerce")
        check((num.isna() & s.notna()).to_numpy(), "is not a number")
        s = num
    nan = s.isna().to_numpy()
    if nan.any():
        raise DataFormatError(f"{source}: {where(int(np.argmax(nan)))}{col} is missing")
    if col == "rating":
        values = s.to_numpy(np.float64)
        check(~np.isfinite(values), "is not a finite number")
        return values
    if col == "timestamp":  # 1e300 would wrap to INT64_MIN; a date must be able to show it
        check(s.abs().to_numpy() > MAX_TIMESTAMP,
              f"is not Unix seconds within +-{MAX_TIMESTAMP} (years 1677..2262)")
    if not is_integer_dtype(s):
        values = s.to_numpy(np.float64)
        check(~(np.abs(values) < 2.0**63) | (values != np.round(values)), "is not an integer")
    return s.to_numpy(np.int64)


def split_title_year(raw: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Split titles like "Toy Story (1995)" into ("Toy Story", 1995); no year gives <NA>."""
    raw = raw.fillna("").astype(str)
    parts = raw.str.extract(_TITLE_YEAR)
    matched = parts["year"].notna()
    title = (parts["title"].str.strip() + " " + parts["rest"].fillna("").str.strip()).str.strip()
    title = title.where(matched, raw.str.strip())
    return title.astype(str), pd.to_numeric(parts["year"], errors="coerce").astype("Int64")


def make_movies(movie_id: Iterable, title: pd.Series, year: pd.Series,
                genres: Iterable[list[str]]) -> pd.DataFrame:
    """Canonical movies frame, sorted by movie_id."""
    df = pd.DataFrame({
        "movie_id": np.asarray(movie_id, dtype=np.int64),
        "title": pd.Series(title, dtype=str).to_numpy(),
        "year": pd.array(year, dtype="Int64"),
        "genres": pd.Series(list(genres), dtype=object).to_numpy(),
    })
    df["title"] = df["title"].astype(str)
    return df.sort_values("movie_id", kind="stable").reset_index(drop=True)


def make_users(user_id: Iterable, age: Iterable, gender: Iterable, occupation: Iterable,
               zip_code: Iterable) -> pd.DataFrame:
    """Canonical users frame, sorted by user_id."""
    df = pd.DataFrame({
        "user_id": np.asarray(user_id, dtype=np.int64),
        "age": np.asarray(age, dtype=np.int64),
        "gender": pd.Series(list(gender), dtype=str).to_numpy(),
        "occupation": pd.Series(list(occupation), dtype=str).to_numpy(),
        "zip_code": pd.Series(list(zip_code), dtype=str).to_numpy(),
    })
    for col in ("gender", "occupation", "zip_code"):
        df[col] = df[col].astype(str)
    return df.sort_values("user_id", kind="stable").reset_index(drop=True)
