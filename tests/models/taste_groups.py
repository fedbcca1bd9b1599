"""Block-structured interactions with a known answer: two taste groups, each rating only
its own half of the movies."""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

N_USERS, N_MOVIES = 40, 20


def taste_groups(n_users: int = N_USERS, n_movies: int = N_MOVIES,
                 seed: int = 0) -> sp.csr_matrix:
    """Users 0..19 rated 6 of movies 0..9, users 20..39 6 of 10..19 (0/1 CSR)."""
    rng = np.random.default_rng(seed)
    rows, cols = [], []
    for user in range(n_users):
        group = user // (n_users // 2)
        rows += [user] * 6
        cols += list(rng.choice(np.arange(10) + 10 * group, size=6, replace=False))
    return sp.csr_matrix((np.ones(len(rows), np.float32), (rows, cols)),
                         shape=(n_users, n_movies))
