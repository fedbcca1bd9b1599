"""Exact and approximate top-k search over movie vectors."""

from pathlib import Path

from movierec.errors import ConfigError
from movierec.index.approximate import FaissIndex
from movierec.index.base import MovieIndex
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
    """Load whichever index kind was saved in the folder."""
    if (path / "exact_index.safetensors").exists():
        return ExactIndex.load(path)
    return FaissIndex.load(path)


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
