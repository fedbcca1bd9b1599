"""Similar movies, as the model defines them: `VectorNeighbours` (cosine of a lock-free copy
of the movie vectors) or `ScoreNeighbours` (the model's own `similar_movie_scores`, e.g. a
ranker's scores of a history holding one movie).

Serving never changes what either reads (fold-in touches users only), so the vector copy
taken at start-up stays exact.
"""

from __future__ import annotations

import threading
from typing import ClassVar

import numpy as np
import torch

from movierec.data import top_k_unseen
from movierec.devices import as_index, model_device, to_numpy
from movierec.models import Scorer
from movierec.recommender import Recommender


def best_rows(scores: np.ndarray, k: int) -> np.ndarray:
    """Positions of the k highest finite scores, best first (-inf marks excluded rows), by
    the one top-k rule the facade uses."""
    positions, _ = top_k_unseen(torch.from_numpy(scores)[None], k)
    return positions[0][positions[0] >= 0]


class VectorNeighbours:
    """Unit-length movie vectors, rows in the model's movie order; read without a lock."""

    blocks: ClassVar[bool] = False  # cheap enough for the event loop

    def __init__(self, rec: Recommender) -> None:
        with torch.no_grad():
            vectors = to_numpy(rec.model.movie_vectors()).astype(np.float32, copy=True)
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


class ScoreNeighbours:
    """The model's `similar_movie_scores`, asked under the model lock (it is model code)."""

    blocks: ClassVar[bool] = True  # waits for the lock: call it from a worker thread

    def __init__(self, rec: Recommender, lock: threading.Lock) -> None:
        self.rec = rec
        self.lock = lock

    def similar(self, row: int, k: int) -> tuple[np.ndarray, np.ndarray]:
        scores = self._scores([row])[0]
        scores[row] = -np.inf
        top = best_rows(scores, k)
        return top, scores[top]

    def closest(self, targets: list[int], sources: list[int]) -> list[int]:
        """For each target row, the source row whose similarity scores rate it highest."""
        best = self._scores(sources)[:, targets].argmax(axis=0)
        return [sources[i] for i in best]

    def _scores(self, rows: list[int]) -> np.ndarray:
        with self.lock, torch.no_grad():
            self.rec.model.eval()
            model = self.rec.model
            scores = model.similar_movie_scores(as_index(rows, model_device(model)))
            return to_numpy(scores).astype(np.float32)


def movie_neighbours(rec: Recommender, lock: threading.Lock
                     ) -> VectorNeighbours | ScoreNeighbours:
    """The lock-free vector copy when the model's similarity is the default cosine of its
    movie vectors; the model itself otherwise."""
    if type(rec.model).similar_movie_scores is Scorer.similar_movie_scores:
        return VectorNeighbours(rec)
    return ScoreNeighbours(rec, lock)
