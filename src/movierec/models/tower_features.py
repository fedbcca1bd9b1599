"""Side features for the two-tower model, encoded once from the movies and users frames:
genres (multi-hot), release year (5-year buckets) and user demographics (category codes).

Code 0 always means "unknown", so a movie or user missing from its frame still has a row.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import torch

# Release years in 5-year buckets: code 1 = before 1915, ..., the last = 2025 and later.
YEAR_FIRST, YEAR_STEP, YEAR_BUCKETS = 1915, 5, 24
# MovieLens-1M's age groups (under 18, 18-24, 25-34, 35-44, 45-49, 50-55, 56+).
AGE_EDGES = (18, 25, 35, 45, 50, 56)
USER_FIELDS = ("gender", "age", "occupation")


@dataclass(frozen=True)
class TowerFeatures:
    """Encoded features aligned with contiguous movie and user indices (None: not available)."""

    genres: torch.Tensor | None  # [n_movies, n_genres] float 0/1
    years: torch.Tensor | None  # [n_movies] int64 bucket codes, 0 unknown
    user_codes: torch.Tensor | None  # [n_users, n_fields] int64, 0 unknown
    user_field_sizes: tuple[int, ...]

    def options(self) -> dict[str, object]:
        """The two-tower constructor options these features need."""
        return {"genres": 0 if self.genres is None else int(self.genres.shape[1]),
                "year_buckets": 0 if self.years is None else YEAR_BUCKETS + 1,
                "user_fields": self.user_field_sizes}


def year_bucket(years: pd.Series) -> np.ndarray:
    """5-year bucket codes 1..YEAR_BUCKETS; 0 for a missing year."""
    values = pd.to_numeric(years, errors="coerce").to_numpy(dtype=np.float64)
    codes = np.clip((values - YEAR_FIRST) // YEAR_STEP + 2, 1, YEAR_BUCKETS)
    return np.where(np.isnan(values), 0, codes).astype(np.int64)


def _category_codes(values: pd.Series) -> tuple[np.ndarray, int]:
    """Codes 1..n for the sorted distinct values, 0 for missing; and the field size n + 1."""
    codes, uniques = pd.factorize(values.astype("string"), sort=True)
    return (codes + 1).astype(np.int64), len(uniques) + 1


def _movie_features(movies: pd.DataFrame, movie_ids: np.ndarray
                    ) -> tuple[torch.Tensor | None, torch.Tensor | None]:
    frame = movies.drop_duplicates("movie_id").set_index("movie_id").reindex(movie_ids)
    genres = None
    if "genres" in frame:
        lists = frame["genres"].apply(lambda g: list(g) if isinstance(g, list | np.ndarray | tuple)
                                      else [])
        vocabulary = sorted({name for names in lists for name in names})
        if vocabulary:
            column = {name: i for i, name in enumerate(vocabulary)}
            rows = np.repeat(np.arange(len(lists)), lists.str.len().to_numpy())
            cols = [column[name] for names in lists for name in names]
            multi_hot = torch.zeros(len(movie_ids), len(vocabulary))
            multi_hot[torch.from_numpy(rows), torch.tensor(cols, dtype=torch.long)] = 1.0
            genres = multi_hot
    years = None
    if "year" in frame and frame["year"].notna().any():
        years = torch.from_numpy(year_bucket(frame["year"]))
    return genres, years


def _user_features(users: pd.DataFrame, user_ids: np.ndarray
                   ) -> tuple[torch.Tensor | None, tuple[int, ...]]:
    frame = users.drop_duplicates("user_id").set_index("user_id").reindex(user_ids)
    columns, sizes = [], []
    for field in USER_FIELDS:
        if field not in frame or frame[field].isna().all():
            continue
        if field == "age":
            ages = pd.to_numeric(frame["age"], errors="coerce")
            codes = np.where(ages.isna(), 0, np.searchsorted(AGE_EDGES, ages, side="right") + 1)
            columns.append(codes.astype(np.int64))
            sizes.append(len(AGE_EDGES) + 2)
        else:
            codes, size = _category_codes(frame[field])
            columns.append(codes)
            sizes.append(size)
    if not columns:
        return None, ()
    return torch.from_numpy(np.stack(columns, axis=1)), tuple(sizes)


def encode_tower_features(movie_ids: np.ndarray, user_ids: np.ndarray,
                          movies: pd.DataFrame | None = None,
                          users: pd.DataFrame | None = None) -> TowerFeatures:
    """Features for the given raw ids (in index order) from whichever frames are present."""
    genres, years = _movie_features(movies, movie_ids) if movies is not None else (None, None)
    codes, sizes = _user_features(users, user_ids) if users is not None else (None, ())
    return TowerFeatures(genres, years, codes, sizes)
