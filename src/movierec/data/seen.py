"""Which movies each user has already rated: the one rule for excluding seen movies."""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp


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

    def seen_positions(self, users: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(row, movie) positions to mask in a len(users) x n_movies score block."""
        block = self.matrix[users].tocoo()
        return block.row.astype(np.int64), block.col.astype(np.int64)

    def with_user_rows(self, users: np.ndarray, movies: np.ndarray, n_users: int) -> SeenMovies:
        """A copy with n_users rows in which the given users' rows hold exactly these movies."""
        old = self.matrix.tocoo()
        keep = ~np.isin(old.row, users)
        return SeenMovies.from_indices(np.concatenate([old.row[keep], users]),
                                       np.concatenate([old.col[keep], movies]),
                                       n_users, self.matrix.shape[1])

    def to_arrays(self) -> dict[str, np.ndarray]:
        return {"seen_indptr": self.matrix.indptr.astype(np.int64),
                "seen_indices": self.matrix.indices.astype(np.int64)}

    @classmethod
    def from_arrays(cls, arrays: dict[str, np.ndarray], shape: tuple[int, int]) -> SeenMovies:
        indices = arrays["seen_indices"]
        matrix = sp.csr_matrix((np.ones(len(indices), dtype=bool), indices, arrays["seen_indptr"]),
                               shape=shape)
        return cls(matrix)
