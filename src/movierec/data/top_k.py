"""`top_k_unseen`: the one rule for turning a block of scores into top-k movie lists, used by
the facade, the exact index, evaluation and the service."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch

from movierec.data.seen import SeenMovies
from movierec.devices import as_index, to_numpy


def top_k_unseen(scores: torch.Tensor, k: int, *, seen: SeenMovies | None = None,
                 users: np.ndarray | None = None, allowed: torch.Tensor | None = None,
                 exclude: Sequence[np.ndarray] | None = None
                 ) -> tuple[np.ndarray, np.ndarray]:
    """([rows, k'] movie indices, [rows, k'] scores), best first, k' = min(k, n_movies).

    `scores` is [rows, n_movies] (it is not modified). With `seen` and `users` (the user
    index of each row), the movies each user rated score -inf; `exclude` (one array of
    movie indices per row) does the same from explicit lists; `allowed` (a boolean
    [n_movies] mask) keeps only those movies. NaN scores count as -inf. Slots beyond a
    row's finite candidates hold index -1 and score -inf.
    """
    if k < 0:
        raise ValueError(f"k must be >= 0, got {k}")
    scores = torch.as_tensor(scores).detach().float()
    device = scores.device  # the work stays there: only the [rows, k] answer comes back
    masked = torch.nan_to_num(scores, nan=-torch.inf, posinf=torch.finfo(torch.float32).max,
                              neginf=-torch.inf)
    if seen is not None and users is not None:
        rows, cols = seen.seen_positions(np.asarray(users, dtype=np.int64))
        masked[as_index(rows, device), as_index(cols, device)] = -torch.inf
    if exclude is not None:
        rows = np.repeat(np.arange(len(exclude)), [len(e) for e in exclude])
        cols = np.concatenate([np.asarray(e, dtype=np.int64) for e in exclude] or [[]])
        masked[as_index(rows, device), as_index(cols, device)] = -torch.inf
    if allowed is not None:
        masked[:, ~allowed.to(device)] = -torch.inf
    top = torch.topk(masked, min(k, masked.shape[1]), dim=1)
    indices, values = to_numpy(top.indices).copy(), to_numpy(top.values).copy()
    indices[~np.isfinite(values)] = -1
    return indices, values
