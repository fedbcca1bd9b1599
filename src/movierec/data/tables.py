"""Reading delimited MovieLens files: vectorised for ratings, exact line numbers on failure."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator, Sequence

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv

from movierec.data.files import Folder
from movierec.data.schema import RATING_COLUMNS, validate_ratings
from movierec.errors import DataFormatError

_SEP_NAMES = {"\t": "tab", ",": "comma", "|": "'|'", "::": "'::'"}
_HEADER_ALIASES = {"userId": "user_id", "movieId": "movie_id", "item_id": "movie_id"}
_STREAM_BLOCK = 16 << 20  # bytes of CSV text per streamed block
_PA_TYPES = {"user_id": pa.int64(), "movie_id": pa.int64(),
             "rating": pa.float64(), "timestamp": pa.float64()}


def _lines(folder: Folder, name: str, encoding: str) -> Iterator[tuple[int, str]]:
    """(1-based line number, text without line ending) for each line of a member."""
    label = folder.label(name)
    with folder.open(name) as f:
        text = io.TextIOWrapper(f, encoding=encoding, newline=None)
        try:
            for lineno, line in enumerate(text, 1):
                yield lineno, line.rstrip("\n")
        except UnicodeDecodeError as e:
            raise DataFormatError(f"{label}: not valid {encoding} text ({e})") from e


def _split(line: str, sep: str) -> list[str]:
    return next(csv.reader([line])) if sep == "," else line.split(sep)


def _mismatch(label: str, sep: str, expected: int, got: int, lineno: int) -> DataFormatError:
    return DataFormatError(f"{label}: expected {expected} {_SEP_NAMES.get(sep, repr(sep))}-"
                           f"separated fields, got {got} at line {lineno}")


def read_rows(folder: Folder, name: str, *, sep: str, n_fields: int | None, encoding: str,
              header: bool = False) -> tuple[list[list[str]], np.ndarray]:
    """Split a small file (movies, users) into rows of strings, with their line numbers.

    Blank lines are skipped; a row with another number of fields than `n_fields` (or than
    the header, when `n_fields` is None) raises DataFormatError naming the line.
    """
    rows: list[list[str]] = []
    linenos: list[int] = []
    label = folder.label(name)
    if sep == ",":  # quoted fields may span lines: let the csv module track them
        with folder.open(name) as f:
            text = io.TextIOWrapper(f, encoding=encoding, newline="")
            reader = csv.reader(text)
            try:
                items = [(reader.line_num, r) for r in reader]
            except (UnicodeDecodeError, csv.Error) as e:
                raise DataFormatError(f"{label}: line {reader.line_num + 1}: {e}") from e
    else:
        items = [(n, line.split(sep)) for n, line in _lines(folder, name, encoding)]
    expect_header = header
    for lineno, fields in items:
        if not fields or (len(fields) == 1 and not fields[0].strip()):
            continue
        if expect_header:
            expect_header, n_fields = False, n_fields or len(fields)
            continue
        if n_fields is not None and len(fields) != n_fields:
            raise _mismatch(label, sep, n_fields, len(fields), lineno)
        rows.append(fields)
        linenos.append(lineno)
    return rows, np.asarray(linenos, dtype=np.int64)


def int_column(values: Sequence[str], linenos: np.ndarray, column: str, label: str) -> np.ndarray:
    """Parse strings to int64, naming the line of the first bad value."""
    s = pd.Series(list(values), dtype=object).str.strip()
    num = pd.to_numeric(s, errors="coerce")
    bad = (num.isna() | (num != np.round(num))).to_numpy()
    if bad.any():
        i = int(np.argmax(bad))
        raise DataFormatError(f"{label}: line {linenos[i]}: {column} {values[i]!r} "
                              "is not an integer")
    return num.to_numpy(np.int64) if len(s) else np.zeros(0, np.int64)


def unique_column(values: Sequence[str], linenos: np.ndarray, column: str,
                  label: str) -> np.ndarray:
    """`int_column` for a key (movie_id, user_id): a repeated id is a DataFormatError naming
    both lines, since the second row would silently shadow the first."""
    ids = int_column(values, linenos, column, label)
    dup = pd.Index(ids).duplicated()
    if dup.any():
        j = int(np.argmax(dup))
        i = int(np.argmax(ids == ids[j]))
        raise DataFormatError(f"{label}: line {linenos[j]}: {column} {ids[j]} already appears "
                              f"at line {linenos[i]}")
    return ids


def read_header(folder: Folder, name: str, sep: str, encoding: str = "utf-8") -> list[str | None]:
    """Canonical column names of a header line ("userId", "user_id:token", ...); others None."""
    for _, line in _lines(folder, name, encoding):
        names = [_HEADER_ALIASES.get(h.split(":")[0].strip(), h.split(":")[0].strip())
                 for h in _split(line, sep)]
        return [n if n in RATING_COLUMNS else None for n in names]
    return []


def read_ratings(folder: Folder, name: str, *, sep: str, fields: Sequence[str | None],
                 header: bool, rating_range: tuple[float, float] | None,
                 encoding: str = "utf-8") -> pd.DataFrame:
    """Read a ratings file whose fields, in order, have canonical names `fields` (None: skip).

    Streamed by pyarrow's CSV reader in blocks (columnar, no Python objects per rating, no
    whole-file Arrow table: ml-25m/ml-32m stay within a few bytes per rating of their
    numpy columns). On a parse failure a second,
    line-by-line pass finds the first bad line; any error names file, line and value.
    """
    label = folder.label(name)
    missing = [c for c in RATING_COLUMNS if c not in fields]
    if missing:
        raise DataFormatError(f"{label}: header lacks column(s) {', '.join(missing)}")
    # pyarrow wants a one-character delimiter: "a::b" split on ":" is "a", "", "b"
    names = [n for f in fields for n in (f, None)][:-1] if sep == "::" else list(fields)
    pa_names = [n or f"_skip{i}" for i, n in enumerate(names)]
    chunks: dict[str, list[np.ndarray]] = {c: [] for c in RATING_COLUMNS}
    try:
        with folder.open(name) as f:
            reader = pacsv.open_csv(
                f,
                read_options=pacsv.ReadOptions(column_names=pa_names, skip_rows=int(header),
                                               block_size=_STREAM_BLOCK),
                parse_options=pacsv.ParseOptions(delimiter=sep[0],
                                                 quote_char='"' if sep == "," else False),
                convert_options=pacsv.ConvertOptions(include_columns=list(RATING_COLUMNS),
                                                     column_types=_PA_TYPES))
            for batch in reader:  # one block at a time: no whole-file Arrow table
                for col in RATING_COLUMNS:
                    chunks[col].append(batch.column(col).to_numpy(zero_copy_only=False))
    except pa.ArrowInvalid as e:
        raise _diagnose(folder, name, sep, fields, header, encoding) or DataFormatError(
            f"{label}: could not be parsed ({e})") from e
    df = pd.DataFrame({col: np.concatenate(parts) if parts else np.zeros(0)
                       for col, parts in chunks.items()})

    def line_of(row: int) -> int:
        seen = -1
        for lineno, line in _lines(folder, name, encoding):
            if lineno > int(header) and line.strip():
                seen += 1
                if seen == row:
                    return lineno
        return row + 1 + int(header)

    return validate_ratings(df, source=label, rating_range=rating_range, line_of=line_of)


def _diagnose(folder: Folder, name: str, sep: str, fields: Sequence[str | None], header: bool,
              encoding: str) -> DataFormatError | None:
    """Find the first line with the wrong number of fields or a non-numeric value."""
    label = folder.label(name)
    for lineno, line in _lines(folder, name, encoding):
        if (header and lineno == 1) or not line.strip():
            continue
        parts = _split(line, sep)
        if len(parts) != len(fields):
            return _mismatch(label, sep, len(fields), len(parts), lineno)
        for col, value in zip(fields, parts, strict=True):
            if col is None:
                continue
            try:
                int(value) if col in ("user_id", "movie_id") else float(value)
            except ValueError:
                kind = "an integer" if col in ("user_id", "movie_id") else "a number"
                return DataFormatError(f"{label}: line {lineno}: {col} {value!r} is not {kind}")
    return None
