"""Which movies each user has already rated: the one rule for excluding seen movies."""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
import torch


class SeenMovies:
    """A users x movies boolean CSR matrix of training interactions (contiguous indices)."""

    def __init__(self, matrix: sp.csr_matrix) -> None:
        self.matrix = matrix.tocsr()

    @classmethod
    def from_indices(cls, users: np.ndarray, movies: np.ndarray, n_users: int,
                     n_movies: int) -> SeenMovies:
        data = np.ones(len(users), dtype=bool)
        matrix = sp.csr_matrix((data, (users, movies)), shape=(n_users, n_movies), dtype=bool)
        matrix.sum_duplicates()
        return cls(matrix)

    @property
    def shape(self) -> tuple[int, int]:
        return self.matrix.shape

    def movies_of(self, user: int) -> np.ndarray:
        """Movie indices the user has rated."""
        start, end = self.matrix.indptr[user], self.matrix.indptr[user + 1]
        return self.matrix.indices[start:end]

    def users_of(self, movie: int) -> np.ndarray:
        """User indices that rated the movie."""
        return self.matrix[:, movie].nonzero()[0]

    def mask_scores(self, scores: torch.Tensor, users: np.ndarray) -> torch.Tensor:
        """Set scores[i, m] to -inf where users[i] has seen m (in place); returns scores."""
        block = self.matrix[users].tocoo()
        scores[torch.from_numpy(block.row).long(), torch.from_numpy(block.col).long()] = -torch.inf
        return scores

    def with_user_rows(self, users: np.ndarray, movies: np.ndarray, n_users: int) -> SeenMovies:
        """A copy grown to n_users rows where the given users' rows are replaced by these movies."""
        old = self.matrix
        if n_users > old.shape[0]:
            extra = sp.csr_matrix((n_users - old.shape[0], old.shape[1]), dtype=bool)
            old = sp.vstack([old, extra])
        keep = np.ones(n_users, dtype=bool)
        keep[np.unique(users)] = False
        kept = sp.diags(keep.astype(np.int8)) @ old.astype(np.int8)
        fresh = SeenMovies.from_indices(users, movies, n_users, old.shape[1]).matrix
        return SeenMovies((kept.astype(bool) + fresh).astype(bool).tocsr())

    def to_arrays(self) -> dict[str, np.ndarray]:
        return {"seen_indptr": self.matrix.indptr.astype(np.int64),
                "seen_indices": self.matrix.indices.astype(np.int64)}

    @classmethod
    def from_arrays(cls, arrays: dict[str, np.ndarray], shape: tuple[int, int]) -> SeenMovies:
        indices = arrays["seen_indices"]
        matrix = sp.csr_matrix((np.ones(len(indices), dtype=bool), indices, arrays["seen_indptr"]),
                               shape=shape)
        return cls(matrix)
