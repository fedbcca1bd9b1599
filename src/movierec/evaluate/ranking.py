"""Top-k metrics over the full catalogue, vectorised by blocks of users.

A scorer maps a block of user indices to a [users, movies] score matrix. Movies the user
rated in training are excluded by the one rule in `SeenMovies` (set to -inf) unless
`exclude_seen=False`. Relevant movies are the user's held-out test movies.

The scores stay on the scorer's device (a GPU model is masked and ranked on the GPU); only
each block's [users, k] top movies come back, and hits are looked up in the sorted held-out
(user, movie) keys, so no users x movies matrix is built on the host. Memory is bounded by
the block: about block x n_movies x 8 bytes (the scores and their masked copy), e.g. 0.5 GB
for 1,024 users x 62k movies, whatever the number of users. `progress=True` shows a bar over
the blocks (162k users are ~160 blocks).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence

import numpy as np
import pandas as pd
import scipy.sparse as sp
import torch
from rich.progress import Progress

from movierec.data import SeenMovies, top_k_unseen
from movierec.devices import as_index

Scorer = Callable[[np.ndarray], torch.Tensor]


def _at_k(hits: np.ndarray, n_relevant: np.ndarray, discounts: np.ndarray
          ) -> dict[str, np.ndarray]:
    """Each user's metrics from `hits` [users, k] (whether the i-th listed movie is relevant)
    and their number of relevant movies; `discounts` are NDCG's 1 / log2(rank + 1)."""
    k = hits.shape[1]
    found = hits.sum(axis=1)
    ideal = np.cumsum(discounts[:k])[np.minimum(n_relevant, k) - 1]
    precision_at = np.cumsum(hits, axis=1) / np.arange(1, k + 1)
    first = np.where(hits.any(axis=1), hits.argmax(axis=1) + 1, np.inf)
    return {"recall": found / n_relevant,
            "precision": found / k,
            "ndcg": (hits * discounts[:k]).sum(axis=1) / ideal,
            "hit_rate": found > 0,
            "map": (precision_at * hits).sum(axis=1) / np.minimum(n_relevant, k),
            "mrr": 1.0 / first}


def relevance_matrix(users: np.ndarray, movies: np.ndarray, shape: tuple[int, int]
                     ) -> sp.csr_matrix:
    """Users x movies boolean CSR of held-out (relevant) interactions."""
    matrix = sp.csr_matrix((np.ones(len(users), dtype=bool), (users, movies)), shape=shape)
    matrix.sum_duplicates()
    return matrix


def top_k_indices(scorer: Scorer, users: np.ndarray, k: int, seen: SeenMovies | None
                  ) -> np.ndarray:
    """[len(users), k] movie indices, best first, ranked on the scores' device; seen movies
    excluded when `seen` is given; -1 past a row's last finite score."""
    with torch.no_grad():
        scores = scorer(users)
    return top_k_unseen(scores, k, seen=seen, users=users)[0]


def ranking_metrics(scorer: Scorer, test_users: np.ndarray, test_movies: np.ndarray,
                    n_movies: int, *, seen: SeenMovies | None, ks: Sequence[int] = (10, 20),
                    block: int = 1024, progress: bool = False) -> dict[str, float]:
    """Mean Recall/Precision/NDCG/HitRate/MAP/MRR @k over users with test movies, plus
    catalogue coverage@k (share of movies recommended to anyone)."""
    _, per_user, covered = _user_metrics(scorer, test_users, test_movies, n_movies, seen=seen,
                                         ks=ks, block=block, progress=progress)
    result = {name: float(values.mean()) for name, values in per_user.items()}
    result.update({f"coverage@{k}": float(covered[k].mean()) for k in ks})
    return result


def per_user_ranking_metrics(scorer: Scorer, test_users: np.ndarray, test_movies: np.ndarray,
                             n_movies: int, *, seen: SeenMovies | None,
                             ks: Sequence[int] = (10, 20), block: int = 1024,
                             progress: bool = False) -> pd.DataFrame:
    """The metrics of `ranking_metrics` for each user with test movies: one row per user
    index (ascending), one column per metric; their column means are `ranking_metrics`."""
    users, per_user, _ = _user_metrics(scorer, test_users, test_movies, n_movies, seen=seen,
                                       ks=ks, block=block, progress=progress)
    return pd.DataFrame(per_user, index=pd.Index(users, name="user"))


def _user_metrics(scorer: Scorer, test_users: np.ndarray, test_movies: np.ndarray,
                  n_movies: int, *, seen: SeenMovies | None, ks: Sequence[int], block: int,
                  progress: bool) -> tuple[np.ndarray, dict[str, np.ndarray],
                                           dict[int, np.ndarray]]:
    """The users with test movies, each one's metrics, and which movies anyone's top k
    lists (for coverage@k)."""
    n_users = int(max(test_users.max() + 1, seen.shape[0] if seen is not None else 0))
    relevant = relevance_matrix(test_users, test_movies, (n_users, n_movies))
    users = np.flatnonzero(np.diff(relevant.indptr))
    relevant_keys = _pair_keys(relevant)
    k_max = max(ks)
    per_user: dict[str, np.ndarray] = {}
    covered = {k: np.zeros(n_movies, dtype=bool) for k in ks}
    discounts = 1.0 / np.log2(np.arange(2, k_max + 2))
    for start in _blocks(len(users), block, progress, "top-k metrics"):
        rows = slice(start, start + block)
        batch = users[rows]
        top = top_k_indices(scorer, batch, k_max, seen)
        hits = _is_relevant(relevant_keys, batch[:, None] * n_movies + top) & (top >= 0)
        n_rel = np.diff(relevant.indptr)[batch]
        for k in ks:
            for name, values in _at_k(hits[:, :k], n_rel, discounts).items():
                per_user.setdefault(f"{name}@{k}", np.empty(len(users)))[rows] = values
            listed = top[:, :k].ravel()
            covered[k][listed[listed >= 0]] = True
    return users, per_user, covered


def factorized_top_k_accuracy(scorer: Scorer, test_users: np.ndarray, test_movies: np.ndarray,
                              ks: Sequence[int] = (1, 5, 10, 50, 100), block: int = 1024,
                              progress: bool = False) -> dict[str, float]:
    """TensorFlow Recommenders' metric: share of held-out (user, movie) pairs whose movie ranks
    in the user's top k over ALL movies, seen ones not excluded (ties count against)."""
    order = np.argsort(test_users, kind="stable")
    users, movies = test_users[order], test_movies[order]
    hits = {k: 0 for k in ks}
    unique, starts = np.unique(users, return_index=True)
    for start in _blocks(len(unique), block, progress, "factorized top-k"):
        batch = unique[start:start + block]
        lo = starts[start]
        hi = starts[start + block] if start + block < len(unique) else len(users)
        with torch.no_grad():
            scores = torch.as_tensor(scorer(batch)).float()
        row = as_index(np.searchsorted(batch, users[lo:hi]), scores.device)
        true = scores[row, as_index(movies[lo:hi], scores.device)]
        rank = (scores[row] >= true[:, None]).sum(dim=1) - 1  # others scoring at least as high
        for k in ks:
            hits[k] += int((rank < k).sum())
    return {f"factorized_top_{k}": hits[k] / len(users) for k in ks}


def _pair_keys(matrix: sp.csr_matrix) -> np.ndarray:
    """user * n_movies + movie of every entry of a users x movies CSR, ascending."""
    rows = np.repeat(np.arange(matrix.shape[0], dtype=np.int64), np.diff(matrix.indptr))
    return rows * matrix.shape[1] + matrix.indices.astype(np.int64)


def _is_relevant(sorted_keys: np.ndarray, keys: np.ndarray) -> np.ndarray:
    """Whether each (user * n_movies + movie) key is among the sorted held-out keys."""
    found = np.searchsorted(sorted_keys, keys).clip(max=max(len(sorted_keys) - 1, 0))
    return sorted_keys[found] == keys if len(sorted_keys) else np.zeros(keys.shape, bool)


def _blocks(n: int, block: int, progress: bool, description: str) -> Iterator[int]:
    """Start of each block of users, advancing a Rich bar when `progress`."""
    if not progress:
        yield from range(0, n, block)
        return
    with Progress(transient=True) as bar:
        task = bar.add_task(description, total=n)
        for start in range(0, n, block):
            yield start
            bar.advance(task, min(block, n - start))


def sampled_metrics(scorer: Callable[[np.ndarray, np.ndarray], np.ndarray],
                    users: np.ndarray, positives: np.ndarray, negatives: np.ndarray,
                    k: int = 10) -> dict[str, float]:
    """The NCF paper's SAMPLED protocol: rank each user's held-out movie among its sampled
    negatives ([users, n_neg]); HR@k and NDCG@k. Not comparable with full-catalogue metrics.

    `scorer(users, movies)` scores [U, C] candidate matrices for the given [U] users. A
    "negative" equal to the user's positive is ignored (the NCF authors' ml-1m file has 156
    such rows, their issue #81), and ties count against the positive.
    """
    candidates = np.concatenate([positives[:, None], negatives], axis=1)
    scores = np.asarray(scorer(users, candidates))
    beaten = (scores[:, 1:] >= scores[:, :1]) & (negatives != positives[:, None])
    rank = beaten.sum(axis=1)
    hit = rank < k
    return {f"sampled_hr@{k}": float(hit.mean()),
            f"sampled_ndcg@{k}": float((hit / np.log2(rank + 2)).mean())}


def sample_negatives(seen: SeenMovies, users: np.ndarray, positives: np.ndarray, n: int = 99,
                     seed: int = 0) -> np.ndarray:
    """[len(users), n] movies drawn uniformly, without replacement, from those each user
    neither rated in training nor holds out (the NCF protocol's negatives)."""
    rng = np.random.default_rng(seed)
    n_movies = seen.shape[1]
    result = np.empty((len(users), n), dtype=np.int64)
    for row, (user, positive) in enumerate(zip(users, positives, strict=True)):
        excluded = np.union1d(seen.movies_of(int(user)), [positive])
        if n_movies - len(excluded) < n:
            raise ValueError(f"user index {user} has only {n_movies - len(excluded)} unrated "
                             f"movies; cannot sample {n} negatives")
        result[row] = rng.choice(np.setdiff1d(np.arange(n_movies), excluded), n, replace=False)
    return result
