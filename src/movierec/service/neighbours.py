"""`MovieNeighbours`: cosine neighbours of movies from a copy of the model's movie vectors.

Serving never changes movie vectors (fold-in trains user rows only), so the copy taken at
start-up stays exact and is read without a lock.
"""

from __future__ import annotations

import numpy as np
import torch

from movierec.recommender import Recommender


def best_rows(scores: np.ndarray, k: int) -> np.ndarray:
    """Positions of the k highest finite scores, best first (-inf marks excluded rows)."""
    k = min(k, int(np.isfinite(scores).sum()))
    if k == 0:
        return np.empty(0, dtype=np.int64)
    top = np.argpartition(-scores, k - 1)[:k]
    return top[np.argsort(-scores[top], kind="stable")]


class MovieNeighbours:
    """Unit-length movie vectors, rows in the model's movie order."""

    def __init__(self, rec: Recommender) -> None:
        with torch.no_grad():
            vectors = rec.model.movie_vectors().numpy().astype(np.float32, copy=True)
        norms = np.linalg.norm(vectors, axis=1, keepdims=True)
        self.unit = vectors / np.where(norms > 0, norms, 1.0)

    def similar(self, row: int, k: int) -> tuple[np.ndarray, np.ndarray]:
        """(rows, cosine scores) of the k movies closest to the movie at `row`, itself excluded."""
        scores = self.unit @ self.unit[row]
        scores[row] = -np.inf
        top = best_rows(scores, k)
        return top, scores[top]

    def closest(self, targets: list[int], sources: list[int]) -> list[int]:
        """For each target row, the source row with the most similar vector."""
        best = (self.unit[targets] @ self.unit[sources].T).argmax(axis=1)
        return [sources[i] for i in best]
