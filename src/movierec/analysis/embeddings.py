"""User and movie embeddings as DataFrames, joined with what is known about each id."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

from movierec.recommender import Recommender

VECTOR_COLUMN = re.compile(r"d\d+")


def vector_columns(frame: pd.DataFrame) -> list[str]:
    """The embedding columns d0, d1, ... of a frame, in order."""
    return [c for c in frame.columns if isinstance(c, str) and VECTOR_COLUMN.fullmatch(c)]


def vector_matrix(frame: pd.DataFrame) -> np.ndarray:
    """The embedding columns as a float matrix [rows, dim]."""
    return frame[vector_columns(frame)].to_numpy(np.float64)


def user_embeddings(rec: Recommender, users: pd.DataFrame | None = None) -> pd.DataFrame:
    """One row per known user: user_id, n_ratings, the `users` columns (age, gender, ...), d0..

    `n_ratings` counts the user's training ratings; users missing from `users` get NaN.
    """
    vectors = rec.embeddings("user")  # raises NotFittedError before `seen` is touched
    return _joined(vectors, "user_id", _counts(rec, axis=1), users)


def movie_embeddings(rec: Recommender, movies: pd.DataFrame | None = None) -> pd.DataFrame:
    """One row per known movie: movie_id, n_ratings, title, year, genres, main_genre, d0..

    `movies` defaults to the titles saved with the model; `main_genre` is the first genre
    listed (MovieLens lists genres in a fixed order), "(none)" for a movie without genres.
    """
    vectors = rec.embeddings("movie").drop(columns="title", errors="ignore")
    metadata = movies if movies is not None else rec.movies
    frame = _joined(vectors, "movie_id", _counts(rec, axis=0), metadata)
    if "genres" in frame.columns:
        main = [g[0] if isinstance(g, list | np.ndarray) and len(g) else "(none)"
                for g in frame["genres"]]
        frame.insert(frame.columns.get_loc("genres") + 1, "main_genre", main)
    return frame


def _counts(rec: Recommender, axis: int) -> np.ndarray:
    """Training ratings per user (axis=1) or per movie (axis=0), from the seen matrix."""
    return np.asarray(rec.seen.matrix.sum(axis=axis)).ravel().astype(np.int64)


def _joined(vectors: pd.DataFrame, key: str, counts: np.ndarray,
            metadata: pd.DataFrame | None) -> pd.DataFrame:
    """key, n_ratings, metadata columns (aligned on key), then the vector columns."""
    ids = vectors[key].to_numpy()
    parts = [pd.DataFrame({key: ids, "n_ratings": counts})]
    if metadata is not None:
        extra = metadata.reset_index(drop=True).drop_duplicates(key).set_index(key)
        parts.append(extra.reindex(ids).reset_index(drop=True))
    parts.append(vectors[vector_columns(vectors)])
    return pd.concat(parts, axis=1)
