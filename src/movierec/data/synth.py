"""MovieLens-shaped synthetic data at any size, written to parquet in bounded memory.

Users are generated in blocks: each block's ratings are drawn, de-duplicated and written as
one parquet row group, so memory depends on the block size, not on the number of ratings.
The shape follows ml-25m: every user rates at least `min_per_user` movies and activity has
a long (log-normal) tail; movie popularity is Zipf-like; genres shape the movie factors;
ratings are half stars 0.5..5 from a biased low-rank model plus noise, so models can learn.
A `synth.json` manifest marks the folder as this writer's, the only kind it will replace.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from movierec.data.schema import make_movies
from movierec.data.staging import staged_folder
from movierec.errors import ConfigError, OverwriteRefusedError

GENRES = ("Action", "Adventure", "Animation", "Children", "Comedy", "Crime", "Documentary",
          "Drama", "Fantasy", "Film-Noir", "Horror", "IMAX", "Musical", "Mystery", "Romance",
          "Sci-Fi", "Thriller", "War", "Western")
RATINGS_SCHEMA = pa.schema([("user_id", pa.int64()), ("movie_id", pa.int64()),
                            ("rating", pa.float32()), ("timestamp", pa.int64())])
_FIRST_TIME, _LAST_TIME = 946_684_800, 1_700_000_000  # 2000-01-01 .. 2023-11-14
MANIFEST, MANIFEST_FORMAT = "synth.json", "movierec-synth"
OWNED = frozenset({"ratings.parquet", "movies.parquet", MANIFEST})


@dataclass(frozen=True)
class SynthSpec:
    """How much to generate: 25M ratings over 162k users and 62k movies is ml-25m's size."""

    n_ratings: int = 1_000_000
    n_users: int = 6_500
    n_movies: int = 2_500
    dim: int = 16
    min_per_user: int = 20
    seed: int = 0

    def __post_init__(self) -> None:
        sizes = {"n_ratings": self.n_ratings, "n_users": self.n_users,
                 "n_movies": self.n_movies, "dim": self.dim}
        bad = [f"{name}={value}" for name, value in sizes.items() if value < 1]
        if bad:
            raise ConfigError(f"synthetic data needs positive sizes; got {', '.join(bad)}")
        most = self.n_users * self.max_per_user
        if self.n_ratings > most:
            raise ConfigError(f"{self.n_ratings:,} ratings do not fit {self.n_users:,} users "
                              f"rating at most {self.max_per_user:,} of {self.n_movies:,} movies "
                              f"each (at most {most:,}); add users or movies")

    @property
    def max_per_user(self) -> int:
        """A quarter of the catalogue: the busiest ml-25m user rated about half of it."""
        return max(1, self.n_movies // 4)


@dataclass(frozen=True)
class _Truth:
    """The hidden model the ratings come from."""

    user_factors: np.ndarray
    movie_factors: np.ndarray
    user_bias: np.ndarray
    movie_bias: np.ndarray
    movie_p: np.ndarray
    user_counts: np.ndarray
    user_start: np.ndarray
    user_span: np.ndarray


def write_synthetic_movielens(folder: str | Path, spec: SynthSpec, *,
                              block_ratings: int = 1_000_000,
                              on_block: Callable[[int], None] | None = None) -> Path:
    """Write FOLDER/ratings.parquet and FOLDER/movies.parquet (canonical schema) and the
    FOLDER/synth.json manifest atomically; FOLDER may be new, empty or an earlier output.

    `on_block(n)` is called after each block of n ratings is written (for progress bars).
    """
    check_synth_target(Path(folder))
    rng = np.random.default_rng(spec.seed)
    genres = _movie_genres(rng, spec.n_movies)
    truth = _hidden_model(rng, spec, genres)
    with staged_folder(folder) as tmp:
        with pq.ParquetWriter(tmp / "ratings.parquet", RATINGS_SCHEMA) as writer:
            for table in _rating_blocks(rng, spec, truth, block_ratings):
                writer.write_table(table, row_group_size=len(table))
                if on_block is not None:
                    on_block(len(table))
        _movies_frame(rng, spec.n_movies, genres).to_parquet(tmp / "movies.parquet", index=False)
        manifest = {"format": MANIFEST_FORMAT, "spec": asdict(spec)}
        (tmp / MANIFEST).write_text(json.dumps(manifest, indent=2), encoding="utf-8")
    return Path(folder)


def check_synth_target(folder: Path) -> None:
    """Refuse, before any work, a folder this writer would replace but did not write: it
    must be missing, empty, or hold a synth.json manifest and nothing but its own files."""
    if not folder.exists() and not folder.is_symlink():
        return
    names = {p.name for p in folder.iterdir()} if folder.is_dir() else None
    if names is not None and (not names or (names <= OWNED and _has_manifest(folder))):
        return
    foreign = sorted(names - OWNED) if names else []
    why = (f"it holds {', '.join(foreign[:3])}" if foreign else
           f"it has no {MANIFEST} manifest" if names else "it is a file")
    raise OverwriteRefusedError(f"{folder} exists and is not a `movierec data synth` folder "
                                f"({why}); refusing to replace it: choose another folder")


def _has_manifest(folder: Path) -> bool:
    try:
        manifest = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError):
        return False
    return isinstance(manifest, dict) and manifest.get("format") == MANIFEST_FORMAT


def _movie_genres(rng: np.random.Generator, n_movies: int) -> list[np.ndarray]:
    """1-3 genre indices per movie; Drama and Comedy are common, IMAX and Film-Noir rare."""
    weight = rng.dirichlet(np.full(len(GENRES), 0.7))
    counts = rng.choice([1, 2, 3], size=n_movies, p=[0.45, 0.35, 0.2])
    return [rng.choice(len(GENRES), size=c, replace=False, p=weight) for c in counts]


def _hidden_model(rng: np.random.Generator, spec: SynthSpec, genres: list[np.ndarray]) -> _Truth:
    genre_factors = rng.normal(size=(len(GENRES), spec.dim))
    centre = np.stack([genre_factors[g].mean(axis=0) for g in genres])
    movie_factors = 0.8 * centre + 0.6 * rng.normal(size=(spec.n_movies, spec.dim))
    popularity = rng.permutation(1.0 / (np.arange(spec.n_movies) + 10.0) ** 1.1)
    movie_p = popularity / popularity.sum()
    log_pop = np.log(popularity)
    # popular movies are rated a little higher, as in MovieLens
    pop_z = (log_pop - log_pop.mean()) / log_pop.std()
    movie_bias = rng.normal(0, 0.4, spec.n_movies) + 0.15 * pop_z
    span = np.minimum(rng.exponential(2 * 365 * 86_400, spec.n_users), _LAST_TIME - _FIRST_TIME)
    return _Truth(
        user_factors=rng.normal(size=(spec.n_users, spec.dim)).astype(np.float32),
        movie_factors=movie_factors.astype(np.float32),
        user_bias=rng.normal(0, 0.35, spec.n_users), movie_bias=movie_bias, movie_p=movie_p,
        user_counts=_user_counts(rng, spec),
        user_start=_FIRST_TIME + rng.random(spec.n_users) * (_LAST_TIME - _FIRST_TIME - span),
        user_span=span)


def _user_counts(rng: np.random.Generator, spec: SynthSpec) -> np.ndarray:
    """Ratings per user: at least min_per_user (fewer when the total is small), a log-normal
    tail above it, at most max_per_user, summing exactly to n_ratings."""
    floor = min(spec.min_per_user, spec.n_ratings // spec.n_users, spec.max_per_user)
    counts = np.full(spec.n_users, floor, dtype=np.int64)
    weight = rng.lognormal(0.0, 1.3, spec.n_users)
    while (left := spec.n_ratings - int(counts.sum())) > 0:
        open_ = counts < spec.max_per_user
        p = np.where(open_, weight, 0.0)
        counts += rng.multinomial(left, p / p.sum())
        np.minimum(counts, spec.max_per_user, out=counts)
    return counts


def _rating_blocks(rng: np.random.Generator, spec: SynthSpec, truth: _Truth,
                   block_ratings: int) -> Iterator[pa.Table]:
    ends = np.cumsum(truth.user_counts)
    first = 0
    while first < spec.n_users:
        stop = int(np.searchsorted(ends, (ends[first - 1] if first else 0) + block_ratings,
                                   side="right"))
        stop = max(stop, first + 1)
        users, movies = _distinct_pairs(rng, truth, np.arange(first, stop), spec.n_movies)
        yield _ratings_table(rng, truth, users, movies)
        first = stop


def _distinct_pairs(rng: np.random.Generator, truth: _Truth, block: np.ndarray,
                    n_movies: int) -> tuple[np.ndarray, np.ndarray]:
    """For each user of `block`, exactly user_counts distinct movies, drawn by popularity
    (uniformly after a few rounds, so heavy users can reach the long tail)."""
    want = truth.user_counts[block]
    keys = np.zeros(0, dtype=np.int64)
    need = want.copy()
    for round_ in range(100):
        extra = need + need // 4 + (need > 0)
        local = np.repeat(np.arange(len(block)), extra)
        p = truth.movie_p if round_ < 3 else None
        keys = np.sort(np.concatenate([keys, local * n_movies
                                       + rng.choice(n_movies, len(local), p=p)]))
        keys = keys[np.r_[True, keys[1:] != keys[:-1]]]
        local = keys // n_movies
        order = np.argsort(local + rng.random(len(keys)))  # a random subset of each user's
        keys, local = keys[order], local[order]
        start = np.searchsorted(local, np.arange(len(block)))
        keep = np.arange(len(keys)) - start[local] < want[local]
        keys = np.sort(keys[keep])
        need = want - np.bincount(keys // n_movies, minlength=len(block))
        if not need.any():
            break
    local, movies = np.divmod(keys, n_movies)
    return block[local], movies


def _ratings_table(rng: np.random.Generator, truth: _Truth, users: np.ndarray,
                   movies: np.ndarray) -> pa.Table:
    dim = truth.user_factors.shape[1]
    affinity = np.einsum("ij,ij->i", truth.user_factors[users], truth.movie_factors[movies])
    raw = (3.5 + truth.user_bias[users] + truth.movie_bias[movies]
           + 0.8 * affinity / np.sqrt(dim) + rng.normal(0, 0.5, len(users)))
    stars = np.clip(np.rint(raw * 2) / 2, 0.5, 5.0).astype(np.float32)
    when = truth.user_start[users] + rng.random(len(users)) * truth.user_span[users]
    return pa.table({"user_id": users + 1, "movie_id": movies + 1, "rating": stars,
                     "timestamp": when.astype(np.int64)}, schema=RATINGS_SCHEMA)


def _movies_frame(rng: np.random.Generator, n_movies: int,
                  genres: list[np.ndarray]) -> pd.DataFrame:
    year = np.clip(np.rint(2024 - rng.exponential(18.0, n_movies)), 1902, 2023).astype(np.int64)
    names = np.asarray(GENRES, dtype=object)
    ids = np.arange(1, n_movies + 1)
    titles = [f"Synthetic Movie {i}" for i in ids]
    return make_movies(ids, titles, year, [list(names[g]) for g in genres])
