"""The index contract: build from movie vectors, search with queries, exclude seen movies."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from movierec.errors import ConfigError

Exclusions = Sequence[np.ndarray] | None


class MovieIndex(ABC):
    """Top-k search over movie vectors by inner product (the score of dot models).

    `build(vectors, ids)` stores the catalogue; `search(queries, k, exclude=...)` returns
    (ids [Q, k], scores [Q, k]) best first, where `exclude[q]` holds catalogue positions that
    query q must not get (e.g. movies the user rated). Fewer than k results are padded with
    id -1 and score -inf.
    """

    metric = "inner_product"
    is_exact: bool
    kind: str

    def __init__(self) -> None:
        self.ids: np.ndarray | None = None
        self.dim: int | None = None

    def build(self, vectors: np.ndarray, ids: np.ndarray | None = None) -> MovieIndex:
        vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        if vectors.ndim != 2 or len(vectors) == 0:
            raise ConfigError(f"index vectors must be a non-empty 2-D array, got shape "
                              f"{vectors.shape}")
        ids = np.arange(len(vectors)) if ids is None else np.asarray(ids, dtype=np.int64)
        if len(ids) != len(vectors):
            raise ConfigError(f"{len(ids)} ids for {len(vectors)} vectors")
        self.ids, self.dim = ids, vectors.shape[1]
        self._build(vectors)
        return self

    def search(self, queries: np.ndarray, k: int, exclude: Exclusions = None
               ) -> tuple[np.ndarray, np.ndarray]:
        if self.ids is None:
            raise ConfigError("search() before build(): build the index from movie vectors first")
        queries = np.ascontiguousarray(np.atleast_2d(queries), dtype=np.float32)
        if queries.shape[1] != self.dim:
            raise ConfigError(f"queries have dimension {queries.shape[1]}, index has {self.dim}")
        if k < 1:
            raise ConfigError(f"k must be at least 1, got {k}")
        if exclude is not None and len(exclude) != len(queries):
            raise ConfigError(f"exclude has {len(exclude)} entries for {len(queries)} queries")
        positions, scores = self._search(queries, k, exclude)
        found = positions >= 0
        return np.where(found, self.ids[np.maximum(positions, 0)], -1), scores

    @abstractmethod
    def _build(self, vectors: np.ndarray) -> None: ...

    @abstractmethod
    def _search(self, queries: np.ndarray, k: int, exclude: Exclusions
                ) -> tuple[np.ndarray, np.ndarray]: ...

    @abstractmethod
    def save(self, path: Path) -> None:
        """Write the index into the folder `path` (created if needed)."""

    @classmethod
    @abstractmethod
    def load(cls, path: Path) -> MovieIndex: ...
