"""Parsers from each MovieLens file layout to the canonical schema."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from movierec.data.dataset import FOLD_STEMS, Fold, MovieLensData
from movierec.data.files import Folder, open_folder
from movierec.data.schema import RATING_COLUMNS, make_movies, make_users, split_title_year
from movierec.data.tables import int_column, read_header, read_ratings, read_rows, unique_column
from movierec.data.variants import check_variant, rating_range
from movierec.errors import DataFormatError

KEY_FILES = ("u.data", "ml-100k.inter", "ratings.dat", "ratings.csv", "movies.dat", "movies.csv")
GENRES_100K = ("unknown", "Action", "Adventure", "Animation", "Children's", "Comedy", "Crime",
               "Documentary", "Drama", "Fantasy", "Film-Noir", "Horror", "Musical", "Mystery",
               "Romance", "Sci-Fi", "Thriller", "War", "Western")
OCCUPATIONS_1M = ("other or not specified", "academic/educator", "artist", "clerical/admin",
                  "college/grad student", "customer service", "doctor/health care",
                  "executive/managerial", "farmer", "homemaker", "K-12 student", "lawyer",
                  "programmer", "retired", "sales/marketing", "scientist", "self-employed",
                  "technician/engineer", "tradesman/craftsman", "unemployed", "writer")
_NO_GENRES = "(no genres listed)"


def parse_folder(name: str, folder: Folder | str | Path, source: str | None = None
                 ) -> MovieLensData:
    """Parse a folder or zip of any supported layout of variant `name` into MovieLensData."""
    check_variant(name)
    if not isinstance(folder, Folder):
        folder = open_folder(folder, (*KEY_FILES, f"{name}.inter"))
    source = source or f"path {folder.where}"
    folds: dict[str, list[Fold]] = {}
    note = ""
    if folder.has(f"{name}.inter"):
        ratings, movies, users = _parse_atomic(folder, name)
        note = (f"{folder.where} is in RecBole's atomic format, which has no canonical folds; "
                "pass path= to a GroupLens ml-100k folder with u1.base..u5.test")
    elif name == "ml-100k":
        ratings, movies, users = _parse_100k(folder)
        folds, note = _read_100k_folds(folder)
    elif name in ("ml-1m", "ml-10m"):
        ratings, movies, users = _parse_dat(folder, name)
    else:
        ratings, movies, users = _parse_csv(folder, name)
    return MovieLensData(name, ratings, movies, users, source, folds, note)


def _rows_frame(folder: Folder, name: str, **kw) -> tuple[pd.DataFrame, np.ndarray, str]:
    rows, lines = read_rows(folder, name, **kw)
    if not rows:
        raise DataFormatError(f"{folder.label(name)} has no data rows")
    return pd.DataFrame(rows, dtype=object), lines, folder.label(name)


def _genre_lists(col: pd.Series, sep: str | None) -> list[list[str]]:
    return [[] if g.strip() == _NO_GENRES else g.split(sep) for g in col.fillna("")]


def _parse_100k(folder: Folder) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    ratings = read_ratings(folder, "u.data", sep="\t", fields=RATING_COLUMNS, header=False,
                           rating_range=rating_range("ml-100k"), encoding="latin-1")
    genres = GENRES_100K
    if folder.has("u.genre"):
        g, lines, label = _rows_frame(folder, "u.genre", sep="|", n_fields=2, encoding="latin-1")
        order = int_column(g[1], lines, "genre index", label)
        genres = tuple(g[0].to_numpy()[np.argsort(order)])
    items, lines, label = _rows_frame(folder, "u.item", sep="|", n_fields=5 + len(genres),
                                      encoding="latin-1")
    title, year = split_title_year(items[1])
    released = pd.to_numeric(items[2].str.extract(r"(\d{4})\s*$")[0], errors="coerce")
    year = year.fillna(released.astype("Int64"))
    flags = items.iloc[:, 5:].to_numpy(dtype=str) == "1"
    names = np.asarray(genres, dtype=object)
    movies = make_movies(unique_column(items[0], lines, "movie_id", label), title, year,
                         [list(names[f]) for f in flags])
    users = None
    if folder.has("u.user"):
        u, lines, label = _rows_frame(folder, "u.user", sep="|", n_fields=5, encoding="latin-1")
        users = make_users(unique_column(u[0], lines, "user_id", label),
                           int_column(u[1], lines, "age", label), u[2], u[3], u[4])
    return ratings, movies, users


def _read_100k_folds(folder: Folder) -> tuple[dict[str, list[Fold]], str]:
    folds: dict[str, list[Fold]] = {}
    missing: list[str] = []
    for kind, stems in FOLD_STEMS.items():
        files = [f"{s}.{part}" for s in stems for part in ("base", "test")]
        absent = [f for f in files if not folder.has(f)]
        if absent:
            missing += absent
            continue
        folds[kind] = [tuple(read_ratings(folder, f, sep="\t", fields=RATING_COLUMNS,
                                          header=False, rating_range=rating_range("ml-100k"))
                             for f in (f"{s}.base", f"{s}.test")) for s in stems]
    note = ""
    if missing:
        note = (f"{folder.where} lacks the canonical fold file(s) {', '.join(missing)}; pass "
                "path= to a complete GroupLens ml-100k folder or zip")
    return folds, note


def _parse_atomic(folder: Folder, name: str) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """RecBole atomic files NAME.inter/.item/.user, columns found by their headers."""
    inter = f"{name}.inter"
    ratings = read_ratings(folder, inter, sep="\t", fields=read_header(folder, inter, "\t"),
                           header=True, rating_range=rating_range(name))

    def table(suffix: str) -> tuple[pd.DataFrame, np.ndarray, str]:
        rows, lines = read_rows(folder, f"{name}.{suffix}", sep="\t", n_fields=None,
                                encoding="utf-8", header=True)
        with folder.open(f"{name}.{suffix}") as f:
            head = f.readline().decode("utf-8").rstrip("\r\n").split("\t")
        df = pd.DataFrame(rows, columns=[h.split(":")[0] for h in head], dtype=object)
        for col in df.columns:
            df[col] = df[col].fillna("").astype(str)
        return df, lines, folder.label(f"{name}.{suffix}")

    items, lines, label = table("item")
    _require(items, ("item_id", "movie_title"), label)
    title, year = split_title_year(items["movie_title"])
    if "release_year" in items:
        year = pd.to_numeric(items["release_year"], errors="coerce").astype("Int64").fillna(year)
    genres = items["class"].str.split() if "class" in items else [[]] * len(items)
    movies = make_movies(unique_column(items["item_id"], lines, "item_id", label), title, year,
                         [list(g) for g in genres])
    users = None
    if folder.has(f"{name}.user"):
        u, lines, label = table("user")
        _require(u, ("user_id", "age", "gender", "occupation", "zip_code"), label)
        users = make_users(unique_column(u["user_id"], lines, "user_id", label),
                           int_column(u["age"], lines, "age", label),
                           u["gender"], u["occupation"], u["zip_code"])
    return ratings, movies, users


def _require(df: pd.DataFrame, columns: tuple[str, ...], label: str) -> None:
    missing = [c for c in columns if c not in df.columns]
    if missing:
        raise DataFormatError(f"{label}: header lacks column(s) {', '.join(missing)}")


def _parse_dat(folder: Folder, name: str) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """ml-1m / ml-10m: ratings.dat, movies.dat, users.dat separated by '::' (latin-1)."""
    ratings = read_ratings(folder, "ratings.dat", sep="::", fields=RATING_COLUMNS, header=False,
                           rating_range=rating_range(name), encoding="latin-1")
    m, lines, label = _rows_frame(folder, "movies.dat", sep="::", n_fields=3, encoding="latin-1")
    title, year = split_title_year(m[1])
    movies = make_movies(unique_column(m[0], lines, "movie_id", label), title, year,
                         _genre_lists(m[2], "|"))
    users = None
    if folder.has("users.dat"):
        u, lines, label = _rows_frame(folder, "users.dat", sep="::", n_fields=5,
                                      encoding="latin-1")
        codes = int_column(u[3], lines, "occupation", label)
        bad = (codes < 0) | (codes >= len(OCCUPATIONS_1M))
        if bad.any():
            i = int(np.argmax(bad))
            raise DataFormatError(f"{label}: line {lines[i]}: occupation code {codes[i]} is "
                                  f"not in 0..{len(OCCUPATIONS_1M) - 1}")
        users = make_users(unique_column(u[0], lines, "user_id", label),
                           int_column(u[2], lines, "age", label), u[1],
                           np.asarray(OCCUPATIONS_1M, dtype=object)[codes], u[4])
    return ratings, movies, users


def _parse_csv(folder: Folder, name: str) -> tuple[pd.DataFrame, pd.DataFrame, None]:
    """ml-20m and later: ratings.csv and movies.csv with headers (utf-8)."""
    ratings = read_ratings(folder, "ratings.csv", sep=",",
                           fields=read_header(folder, "ratings.csv", ","), header=True,
                           rating_range=rating_range(name))
    m, lines, label = _rows_frame(folder, "movies.csv", sep=",", n_fields=3, encoding="utf-8",
                                  header=True)
    title, year = split_title_year(m[1])
    movies = make_movies(unique_column(m[0], lines, "movie_id", label), title, year,
                         _genre_lists(m[2], "|"))
    return ratings, movies, None
