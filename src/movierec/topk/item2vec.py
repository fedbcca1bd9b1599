"""Movies rated next to each other: item2vec (Barkan & Koenigstein 2016) over each user's
time-ordered ratings, with a full softmax over the catalogue instead of negative sampling.

MovieLens users rate many movies in a sitting, from pages of related titles, so the movies a
user rated just before and after a movie say more about it than the rest of the history.
A random split hides movies from the middle of those sittings; the movies rated around them
are still in the training part."""

from __future__ import annotations

import time

import numpy as np
import pandas as pd
import scipy.sparse as sp
import torch
from torch import nn

from movierec.data import IdMap
from movierec.errors import ConfigError
from movierec.topk.settings import check_settings
from movierec.training.history import EpochRecord
from movierec.training.progress import TrainingProgress
from movierec.training.trainer import cpu_settings


def window_counts(users: np.ndarray, movies: np.ndarray, n_movies: int,
                  window: int) -> sp.csr_matrix:
    """[movies, movies] counts of (movie, neighbour) pairs: two ratings of one user at most
    `window` apart in that user's order. `users` and `movies` are index arrays sorted by user,
    then time; symmetric."""
    rows, cols = [], []
    for gap in range(1, window + 1):
        same_user = users[gap:] == users[:-gap]
        rows.append(movies[gap:][same_user])
        cols.append(movies[:-gap][same_user])
    first, second = np.concatenate(rows), np.concatenate(cols)
    pairs = np.concatenate([first, second]), np.concatenate([second, first])
    counts = sp.csr_matrix((np.ones(len(pairs[0]), np.float32), pairs),
                           shape=(n_movies, n_movies))
    counts.sum_duplicates()
    return counts


class Item2Vec(nn.Module):
    """log P(neighbour j | movie i) = log softmax_j(context[i] . target[j] + bias[j]).
    Named parts: `context` (movie as the one whose neighbours are predicted), `target`
    (movie as a neighbour) and `bias`."""

    def __init__(self, n_movies: int, dim: int) -> None:
        super().__init__()
        self.context = nn.Embedding(n_movies, dim)
        self.target = nn.Embedding(n_movies, dim)
        self.bias = nn.Parameter(torch.zeros(n_movies))
        for table in (self.context, self.target):
            nn.init.normal_(table.weight, std=0.1)

    def parts(self) -> dict[str, nn.Module]:
        return {"context": self.context, "target": self.target}

    def forward(self, movies: torch.Tensor) -> torch.Tensor:
        """[len(movies), catalogue] log-probabilities of each movie's neighbours."""
        return torch.log_softmax(self.context(movies) @ self.target.weight.T + self.bias, dim=1)


class Item2VecRanker:
    """Top-k ranker over `Item2Vec`, trained by Adam on the full-softmax log-likelihood of
    every (movie, neighbour) pair within `window` ratings of each other in users' time
    order (ties by movie id). A user's score for movie j is sum_i d_i^.5 P(j | i) / d_j^.5
    over the movies i they rated, d the pair counts: the symmetric normalisation of graph
    methods, which keeps popular movies from winning every row."""

    name = "item2vec"

    def __init__(self, window: int = 3, dim: int = 64, epochs: int = 20,
                 batch_size: int = 512, lr: float = 1e-2, seed: int = 0,
                 num_threads: int | None = 1, progress: bool = True) -> None:
        check_settings({"window": window, "dim": dim, "epochs": epochs,
                        "batch_size": batch_size}, lr)
        self.window, self.dim, self.epochs, self.batch_size = window, dim, epochs, batch_size
        self.lr, self.seed, self.num_threads, self.progress = lr, seed, num_threads, progress

    def fit_ratings(self, ratings: pd.DataFrame, movies: pd.DataFrame | None = None,
                    users: pd.DataFrame | None = None) -> Item2VecRanker:
        """Needs `timestamp`; `movies` and `users` are not used. Indices as
        `interactions_from_ratings(ratings, ...)`, so blends line up."""
        if "timestamp" not in ratings:
            raise ConfigError("item2vec needs the ratings' timestamp column")
        ordered = ratings.sort_values(["user_id", "timestamp", "movie_id"], kind="stable")
        user_ids = IdMap.from_ids(ratings["user_id"].to_numpy())
        movie_ids = IdMap.from_ids(ratings["movie_id"].to_numpy())
        rows = user_ids.to_index(ordered["user_id"].to_numpy())
        cols = movie_ids.to_index(ordered["movie_id"].to_numpy())
        self.history = sp.csr_matrix((np.ones(len(rows), np.float32), (rows, cols)),
                                     shape=(len(user_ids), len(movie_ids)))
        self.history.data[:] = 1.0
        self.counts = window_counts(rows, cols, len(movie_ids), self.window)
        with cpu_settings(self.num_threads):
            torch.manual_seed(self.seed)
            self.model = Item2Vec(len(movie_ids), self.dim)
            self._train()
        return self

    def _train(self) -> None:
        centres = np.flatnonzero(np.diff(self.counts.indptr))
        optimiser = torch.optim.Adam(self.model.parameters(), lr=self.lr)
        generator = torch.Generator().manual_seed(self.seed)
        steps = -(-len(centres) // self.batch_size)
        self.losses: list[float] = []
        with TrainingProgress(self.progress, self.epochs, steps) as bar:
            for epoch in range(1, self.epochs + 1):
                start, total = time.perf_counter(), 0.0
                bar.start_epoch(epoch)
                order = centres[torch.randperm(len(centres), generator=generator).numpy()]
                for first in range(0, len(order), self.batch_size):
                    batch = order[first:first + self.batch_size]
                    target = torch.from_numpy(self.counts[batch].toarray())
                    loss = -(self.model(torch.from_numpy(batch)) * target).sum() / target.sum()
                    optimiser.zero_grad()
                    loss.backward()
                    optimiser.step()
                    total += loss.item() * len(batch)
                    bar.advance()
                self.losses.append(total / len(centres))
                bar.end_epoch(EpochRecord(epoch, total / len(centres), None, None,
                                          time.perf_counter() - start, self.lr))
        degree = torch.from_numpy(np.asarray(self.counts.sum(axis=1), np.float32).ravel())
        self.input_weight, self.output_scale = degree.sqrt(), (degree + 1.0).rsqrt()

    def score(self, users: np.ndarray) -> torch.Tensor:
        """[len(users), movies]: sum_i d_i^.5 P(j | i) / d_j^.5 over each user's movies i."""
        rows = self.history[np.asarray(users)]
        rated = np.unique(rows.indices)
        with torch.no_grad(), cpu_settings(self.num_threads):
            neighbours = self.model(torch.from_numpy(rated)).exp()
            weights = torch.from_numpy(rows[:, rated].toarray()) * self.input_weight[rated]
            return (weights @ neighbours) * self.output_scale
