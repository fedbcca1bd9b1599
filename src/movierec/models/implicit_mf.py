"""iALS and BPR-MF as rankers: the `implicit` library fits the factors, which are then kept as
tensors (saved with the model: no pickle, and no `implicit` needed to load or score), and new
users are solved from their histories in torch."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, ClassVar

import numpy as np
import scipy.sparse as sp
import torch
from torch import nn

from movierec.errors import ConfigError
from movierec.models.base import Scorer
from movierec.models.history import HistoryRanker

# A batched solve holds at most about this many padded (user, movie, factor) numbers.
_SOLVE_ELEMENTS = 1 << 22


class ImplicitFactors(HistoryRanker):
    """score(user, movie) = user factors . movie factors. An `implicit` model fits the movie
    factors on the 0/1 histories; every user row is then what `fold_in_vectors` makes of
    the user's history, so a new user with a training user's history scores exactly as they
    do. Named parts: `user` and `movie`, the two factor tables; the user and movie vectors
    are those tables, so a dot-product index ranks exactly as `score`."""

    bias_column: ClassVar[int] = 0  # 1 when the last factor is a movie bias (users hold 1)

    def __init__(self, n_users: int, n_movies: int, rating_range: tuple[float, float],
                 factors: int, iterations: int, regularization: float) -> None:
        super().__init__(n_users, n_movies, rating_range)
        if factors < 1 or iterations < 1 or regularization < 0:
            raise ConfigError(f"preset {self.default_preset!r} needs factors >= 1, iterations >= 1 "
                              f"and regularization >= 0; got {factors}, {iterations} and "
                              f"{regularization}")
        self.factors, self.iterations = int(factors), int(iterations)
        self.regularization = float(regularization)
        width = self.factors + self.bias_column
        self.user = nn.Embedding(n_users, width).requires_grad_(False)
        self.movie = nn.Embedding(n_movies, width).requires_grad_(False)
        # the library's random state, drawn here so that `build_model(seed=...)` fixes it
        self.register_buffer("library_seed", torch.randint(0, 2**31 - 1, ()))

    def library_model(self, random_state: int, num_threads: int) -> Any:
        """An unfitted `implicit` model with this model's settings."""
        raise NotImplementedError

    def fold_in_vectors(self, rows: sp.csr_matrix) -> torch.Tensor:
        """[rows, width] user factors for 0/1 history rows, the movie factors fixed."""
        raise NotImplementedError

    def fit_history(self) -> None:
        """The library's fit (single-threaded BLAS, as `implicit` asks; its own threads
        follow torch's, which the Trainer pins from `num_threads`), then the user rows."""
        import implicit  # noqa: F401  (loads the BLAS libraries the limit must cover)
        from threadpoolctl import threadpool_limits

        with threadpool_limits(1, "blas"):
            library = self.library_model(int(self.library_seed), torch.get_num_threads())
            library.fit(self.interactions(), show_progress=False)
        device = self.movie.weight.device
        self.movie.weight.copy_(torch.from_numpy(np.asarray(library.item_factors)).to(device))
        self.user.weight.copy_(self.fold_in_vectors(self.interactions()))

    def score_histories(self, rows: sp.csr_matrix, users: torch.Tensor | None = None
                        ) -> torch.Tensor:
        """Known users score with their fitted rows; a made-up history is solved first."""
        vectors = self.user.weight[users] if users is not None else self.fold_in_vectors(rows)
        return vectors @ self.movie.weight.T

    def similar_movie_scores(self, movies: torch.Tensor) -> torch.Tensor:
        """Cosine of the movie factors, as for every factorisation model."""
        return Scorer.similar_movie_scores(self, movies)

    def users_changed(self, rows: torch.Tensor) -> None:
        solved = self.fold_in_vectors(self.interactions(rows.cpu().numpy()))
        self.user.weight[rows.to(solved.device)] = solved

    def add_users(self, n: int) -> None:
        """New rows start as the fold-in of an empty history."""
        super().add_users(n)
        empty = sp.csr_matrix((n, self.n_movies), dtype=np.float32)
        new_rows = self.fold_in_vectors(empty).to(self.user.weight.device)
        self.user = nn.Embedding.from_pretrained(torch.cat([self.user.weight, new_rows]))

    def parts(self) -> dict[str, nn.Module]:
        return {"user": self.user, "movie": self.movie}

    def user_vectors(self) -> torch.Tensor:
        return self.user.weight

    def movie_vectors(self) -> torch.Tensor:
        return self.movie.weight


class ImplicitALS(ImplicitFactors):
    """iALS (Hu, Koren, Volinsky 2008) fitted by `implicit`'s AlternatingLeastSquares.

    `alpha` is the confidence of a rated movie, 1 that of an unrated one: implicit >= 0.5
    scales the 0/1 entries by alpha (the paper's confidence 1 + a r is alpha = 1 + a).
    User rows are one exact user half-step against the final movie factors (the library's
    last half-step is the movie one, and its user rows come from 3 conjugate-gradient steps
    against the previous movie factors; on ml-100k the exact rows rank as well: NDCG@10
    0.4267 vs 0.4277, 0.4268 vs 0.4266, 0.4266 vs 0.4268 over three seeds)."""

    default_preset = "ials"

    def __init__(self, n_users: int, n_movies: int,
                 rating_range: tuple[float, float] = (1.0, 5.0), factors: int = 128,
                 regularization: float = 10.0, alpha: float = 1.0, iterations: int = 15) -> None:
        super().__init__(n_users, n_movies, rating_range, factors, iterations, regularization)
        if not alpha > 0:
            raise ConfigError(f"alpha must be > 0, got {alpha}")
        self.alpha = float(alpha)

    def library_model(self, random_state: int, num_threads: int) -> Any:
        from implicit.cpu.als import AlternatingLeastSquares

        return AlternatingLeastSquares(factors=self.factors, regularization=self.regularization,
                                       alpha=self.alpha, iterations=self.iterations,
                                       random_state=random_state, num_threads=num_threads)

    def fold_in_vectors(self, rows: sp.csr_matrix) -> torch.Tensor:
        """One ALS user half-step, solved exactly (`least_squares_rows`)."""
        return least_squares_rows(self.movie.weight, rows, self.regularization, self.alpha)


class ImplicitBPR(ImplicitFactors):
    """BPR-MF (Rendle et al. 2009) fitted by `implicit`'s BayesianPersonalizedRanking (the
    preset fits on one thread, which keeps its SGD reproducible). The last factor is a movie
    bias (users hold 1 there).

    A user's vector is the mean of their movies' factors (bias entry 1); BPR's own user rows
    only serve to train the movie factors. BPR has no closed form for a row, and re-running
    its SGD on one row would be slow and random; the history mean needs no tuning, and on
    ml-100k validation (80/20 of the 80% training part) it ranked better than the users'
    SGD-trained rows (NDCG@10 0.238 vs 0.171) and than a ridge solve on the movie factors
    (at most 0.170 over l2 0.1..100)."""

    default_preset = "bpr"
    bias_column: ClassVar[int] = 1

    def __init__(self, n_users: int, n_movies: int,
                 rating_range: tuple[float, float] = (1.0, 5.0), factors: int = 64,
                 learning_rate: float = 0.01, regularization: float = 0.01,
                 iterations: int = 100) -> None:
        super().__init__(n_users, n_movies, rating_range, factors, iterations, regularization)
        if not learning_rate > 0:
            raise ConfigError(f"learning_rate must be > 0, got {learning_rate}")
        self.learning_rate = float(learning_rate)

    def library_model(self, random_state: int, num_threads: int) -> Any:
        from implicit.cpu.bpr import BayesianPersonalizedRanking

        return BayesianPersonalizedRanking(factors=self.factors, learning_rate=self.learning_rate,
                                           regularization=self.regularization,
                                           iterations=self.iterations,
                                           random_state=random_state, num_threads=num_threads)

    def fold_in_vectors(self, rows: sp.csr_matrix) -> torch.Tensor:
        movies = self.movie.weight[:, :-1].cpu()
        counts = np.asarray(rows.sum(axis=1), dtype=np.float32)
        means = torch.from_numpy(rows @ movies.numpy() / np.maximum(counts, 1.0))
        return torch.cat([means, torch.ones(len(means), 1)], dim=1).to(self.movie.weight.device)


def least_squares_rows(item_factors: torch.Tensor, rows: sp.csr_matrix, regularization: float,
                       confidence: float) -> torch.Tensor:
    """iALS user rows with the item factors Y fixed: for each 0/1 row, the x minimising
    sum_i c_i (p_i - x.y_i)^2 + regularization |x|^2, p_i and c_i = `confidence` on the row's
    movies, 0 and 1 elsewhere: (Y'Y + (c - 1) Y_u'Y_u + regularization I) x = c Y_u'1.

    Batched k x k solves in float64, users grouped by history length to bound the padding;
    with c = 1 every row shares one matrix and one solve does them all."""
    y = item_factors.detach().double().cpu()
    k = y.shape[1]
    gram = y.T @ y + regularization * torch.eye(k, dtype=torch.float64)
    rhs = confidence * torch.from_numpy(rows.astype(np.float64) @ y.numpy())
    if confidence == 1.0:
        return torch.linalg.solve(gram, rhs.T).T.float().to(item_factors.device)
    padded = torch.cat([y, y.new_zeros(1, k)])  # index len(y): a padding slot adding nothing
    lengths = np.diff(rows.indptr)
    order = np.argsort(lengths, kind="stable")
    solved = torch.empty_like(rhs)
    for block in _length_blocks(lengths[order], max(1, _SOLVE_ELEMENTS // k)):
        users = order[block]
        sub = rows[users]
        width = int(max(lengths[users].max(), 1))
        slots = np.full((len(users), width), len(y))
        row_of = np.repeat(np.arange(len(users)), np.diff(sub.indptr))
        slots[row_of, np.arange(sub.nnz) - sub.indptr[row_of]] = sub.indices
        ys = padded[torch.from_numpy(slots)]
        system = gram + (confidence - 1.0) * ys.transpose(1, 2) @ ys
        solved[torch.from_numpy(users)] = torch.linalg.solve(system, rhs[users])
    return solved.float().to(item_factors.device)


def _length_blocks(sorted_lengths: np.ndarray, budget: int) -> Iterator[slice]:
    """Consecutive slices of ascending history lengths whose padded size (rows x the last,
    longest length) stays within `budget` slots (a longer single row gets a block alone)."""
    start, n = 0, len(sorted_lengths)
    while start < n:
        stop = start + 1
        while stop < n and (stop + 1 - start) * max(int(sorted_lengths[stop]), 1) <= budget:
            stop += 1
        yield slice(start, stop)
        start = stop
