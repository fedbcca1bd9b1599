"""Exact and approximate top-k search over movie vectors."""

from pathlib import Path

from movierec.errors import ConfigError, ModelFormatError
from movierec.index.approximate import INDEX_FILE, META_FILE, FaissIndex
from movierec.index.base import MovieIndex
from movierec.index.exact import FILE as EXACT_FILE
from movierec.index.exact import ExactIndex
from movierec.index.vectors import movie_index_vectors, user_query_vectors

INDEX_KINDS = ("exact", "hnsw", "ivf")


def make_index(kind: str = "exact", **params: object) -> MovieIndex:
    """An unbuilt index of the given kind ("exact", "hnsw" or "ivf")."""
    if kind == "exact":
        return ExactIndex()
    if kind in ("hnsw", "ivf"):
        return FaissIndex(kind, **params)  # type: ignore[arg-type]
    raise ConfigError(f"unknown index kind {kind!r}; choose one of {', '.join(INDEX_KINDS)}")


def load_index(path: Path) -> MovieIndex:
    """Load whichever index kind was saved in the folder (ModelFormatError when damaged)."""
    if (path / EXACT_FILE).is_file():
        return ExactIndex.load(path)
    if (path / META_FILE).exists() or (path / INDEX_FILE).exists():
        return FaissIndex.load(path)
    raise ModelFormatError(f"{path} holds no index ({EXACT_FILE}, or {INDEX_FILE} with "
                           f"{META_FILE})")


__all__ = [
    "INDEX_KINDS",
    "ExactIndex",
    "FaissIndex",
    "MovieIndex",
    "load_index",
    "make_index",
    "movie_index_vectors",
    "user_query_vectors",
]
