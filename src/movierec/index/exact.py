"""Exact top-k: one matrix product and torch.topk; the reference approximate indexes are
measured against."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from safetensors import SafetensorError
from safetensors.numpy import load_file, save_file

from movierec.data import top_k_unseen
from movierec.errors import ModelFormatError
from movierec.index.base import Exclusions, MovieIndex

FILE = "exact_index.safetensors"


class ExactIndex(MovieIndex):
    """Brute-force inner product over every movie."""

    is_exact = True
    kind = "exact"

    def _build(self, vectors: np.ndarray) -> None:
        self.vectors = torch.from_numpy(vectors)

    def _search(self, queries: np.ndarray, k: int, exclude: Exclusions
                ) -> tuple[np.ndarray, np.ndarray]:
        with torch.no_grad():
            q = torch.from_numpy(queries)
            # one query: a matrix-vector product (the serving case), else one matrix product
            scores = (self.vectors @ q[0])[None] if len(q) == 1 else q @ self.vectors.T
        positions, values = top_k_unseen(scores, k, exclude=exclude)
        return _pad(positions, values, k)

    def save(self, path: Path) -> None:
        path.mkdir(parents=True, exist_ok=True)
        save_file({"vectors": self.vectors.numpy(), "ids": self.ids}, str(path / FILE))

    @classmethod
    def load(cls, path: Path) -> ExactIndex:
        file = path / FILE
        try:
            arrays = load_file(str(file))
        except SafetensorError as err:
            raise ModelFormatError(f"{file} is damaged or truncated ({err})") from err
        vectors, ids = arrays.get("vectors"), arrays.get("ids")
        if (vectors is None or ids is None or vectors.ndim != 2 or ids.shape != (len(vectors),)
                or not np.issubdtype(ids.dtype, np.integer) or not np.isfinite(vectors).all()):
            raise ModelFormatError(f"{file} must hold finite vectors [n, d] and integer ids [n]")
        return cls().build(vectors, ids)


def _pad(positions: np.ndarray, scores: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Pad [Q, k'] results to [Q, k] with position -1 and score -inf."""
    missing = k - positions.shape[1]
    if missing <= 0:
        return positions, scores
    return (np.pad(positions, ((0, 0), (0, missing)), constant_values=-1),
            np.pad(scores, ((0, 0), (0, missing)), constant_values=-np.inf))
