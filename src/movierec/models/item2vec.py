"""Movies rated next to each other: item2vec (Barkan & Koenigstein 2016) over each user's
time-ordered ratings, with a full softmax over the catalogue instead of negative sampling.

MovieLens users rate many movies in a sitting, from pages of related titles, so the movies a
user rated just before and after a movie say more about it than the rest of the history.
A random split hides movies from the middle of those sittings; the movies rated around them
are still in the training part."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

import numpy as np
import scipy.sparse as sp
import torch
from torch import nn

from movierec.errors import ConfigError
from movierec.models.gram import window_counts
from movierec.models.history import HistoryRanker
from movierec.models.sparse_rows import SparseRows

# Up to this many movies, scoring keeps every movie's weighted neighbour probabilities as one
# dense matrix (4 bytes a pair: 1.6 GB at 20,000), so a user's scores read rows of it, as
# EASE's do, instead of a softmax over the catalogue for each movie in the history (the 20
# heaviest ml-latest-small users: 4.6 ms median, `benchmarks/dense_memory.py`; about 36 ms
# the second way, timed once by a throwaway script). Larger catalogues score the second way.
DENSE_SCORES_UP_TO = 20_000


class NeighbourLogits(nn.Module):
    """Every movie's logit as the neighbour of a context vector: target[j] . c + bias[j]."""

    def __init__(self, n_movies: int, dim: int) -> None:
        super().__init__()
        self.target = nn.Embedding(n_movies, dim)
        self.bias = nn.Parameter(torch.zeros(n_movies))

    def forward(self, context: torch.Tensor) -> torch.Tensor:
        return context @ self.target.weight.T + self.bias


class Item2Vec(HistoryRanker):
    """log P(neighbour j | movie i) = log softmax_j(context[i] . target[j] + bias[j]),
    trained on every (movie, neighbour) pair within `window` ratings of each other in a
    user's time order (same-second ratings by movie index, so the row order of the ratings
    does not matter). A user's score for movie j is sum_i d_i^.5 P(j | i) / (d_j + 1)^.5
    over the movies i they rated, d the pair counts: the symmetric normalisation of graph
    methods, which keeps popular movies from winning every row. Named parts: `user` (the
    histories), `movie` (the context vectors) and `head` (target vectors and biases).
    """

    default_preset = "item2vec"
    training_regime = "self_supervised"

    def __init__(self, n_users: int, n_movies: int,
                 rating_range: tuple[float, float] = (1.0, 5.0), window: int = 5,
                 dim: int = 64) -> None:
        super().__init__(n_users, n_movies, rating_range)
        for name, value in (("window", window), ("dim", dim)):
            if value < 1:
                raise ConfigError(f"{name} must be at least 1, got {value}")
        self.window, self.dim = int(window), int(dim)
        self.context = nn.Embedding(n_movies, dim)
        self.head = NeighbourLogits(n_movies, dim)
        for table in (self.context, self.head.target):
            nn.init.normal_(table.weight, std=0.1)
        self.register_buffer("input_weight", torch.zeros(n_movies))  # d_i^.5
        self.register_buffer("output_scale", torch.zeros(n_movies))  # (d_j + 1)^-.5
        # the training examples, from `observe_ratings`; not saved (loaded models score only)
        self.pair_counts = sp.csr_matrix((n_movies, n_movies), dtype=np.float32)
        self._dense: torch.Tensor | None = None  # `_neighbour_matrix`, and what it came from
        self._dense_key: tuple | None = None

    @classmethod
    def fit_memory(cls, n_movies: int, options: Mapping[str, Any]) -> float:
        """The dense score matrix (4 bytes a pair, and a blend's weight search scores during
        its fit) with room for the training's own use: 4.3 bytes a pair on ml-latest-small
        over a fit, 7.0 with a first score (`benchmarks/dense_memory.py`)."""
        return 10.0 * n_movies**2 if n_movies <= DENSE_SCORES_UP_TO else 0.0

    def reads_time_order(self) -> bool:
        return True  # neighbours are neighbours in time

    def fit_history(self) -> None:
        history = self.history
        self.pair_counts = window_counts(history.rating_users(), history.movies.cpu().numpy(),
                                         self.n_movies, self.window)
        degree = torch.from_numpy(np.asarray(self.pair_counts.sum(axis=1), np.float32).ravel())
        self.input_weight = degree.sqrt().to(self.input_weight.device)
        self.output_scale = (degree + 1.0).rsqrt().to(self.output_scale.device)
        self._dense = self._dense_key = None

    def forward(self, movies: torch.Tensor) -> torch.Tensor:
        """[len(movies), n_movies] log-probabilities of each movie's neighbours."""
        return torch.log_softmax(self.head(self.context(movies)), dim=1)

    def score_histories(self, rows: sp.csr_matrix, users: torch.Tensor | None = None
                        ) -> torch.Tensor:
        device = self.input_weight.device
        matrix = self._neighbour_matrix()
        if matrix is not None:  # the sum of the rows of the movies each history holds
            x = SparseRows.from_csr(rows, device)
            return nn.functional.embedding_bag(x.indices, matrix, x.offsets, mode="sum",
                                               per_sample_weights=x.values)
        rated = torch.from_numpy(np.unique(rows.indices).astype(np.int64)).to(device)
        neighbours = self(rated).exp()
        weights = torch.from_numpy(rows[:, rated.cpu().numpy()].toarray()).to(device)
        return (weights * self.input_weight[rated]) @ neighbours * self.output_scale

    @torch.no_grad()
    def _neighbour_matrix(self) -> torch.Tensor | None:
        """d_i^.5 P(j | i) (d_j + 1)^-.5 for every pair of movies, kept until a weight it
        came from changes (a training step, a load, a move to another device); None above
        `DENSE_SCORES_UP_TO` movies."""
        if self.n_movies > DENSE_SCORES_UP_TO:
            return None
        sources = (self.context.weight, self.head.target.weight, self.head.bias,
                   self.input_weight, self.output_scale)
        key = tuple((t.data_ptr(), t._version) for t in sources)
        if self._dense is None or self._dense_key != key:
            self._dense = None  # free the old one first
            movies = torch.arange(self.n_movies, device=self.input_weight.device)
            matrix = torch.empty(self.n_movies, self.n_movies, device=movies.device)
            for block in movies.split(1024):
                matrix[block] = self(block).exp_()
            self._dense = matrix.mul_(self.input_weight[:, None]).mul_(self.output_scale)
            self._dense_key = key
        return self._dense

    def __getstate__(self) -> dict:
        """Pickled (a member fitted in another process) without the score cache."""
        return {**self.__dict__, "_dense": None, "_dense_key": None}

    def movie_vectors(self) -> torch.Tensor:
        return self.context.weight.detach()

    def parts(self) -> dict[str, nn.Module]:
        return {"user": self.history, "movie": self.context, "head": self.head}

    # --- the Trainer's "self_supervised" regime -----------------------------------------
    def _centres(self) -> np.ndarray:
        """The movies with at least one neighbour: the training examples."""
        return np.flatnonzero(np.diff(self.pair_counts.indptr))

    def steps_per_epoch(self, batch_size: int) -> int:
        return -(-len(self._centres()) // batch_size)

    def training_batches(self, batch_size: int, generator: torch.Generator
                         ) -> Iterator[np.ndarray]:
        """Every movie with neighbours once, shuffled."""
        centres = self._centres()
        order = torch.randperm(len(centres), generator=generator, device=generator.device)
        shuffled = centres[order.cpu().numpy()]
        for first in range(0, len(shuffled), batch_size):
            yield shuffled[first:first + batch_size]

    def batch_loss(self, batch: np.ndarray, generator: torch.Generator
                   ) -> tuple[torch.Tensor, int]:
        """Mean negative log-likelihood of the batch's (movie, neighbour) pairs."""
        device = self.input_weight.device
        target = torch.from_numpy(self.pair_counts[batch].toarray()).to(device)
        log_probs = self(torch.from_numpy(batch).to(device))
        return -(log_probs * target).sum() / target.sum(), len(batch)
