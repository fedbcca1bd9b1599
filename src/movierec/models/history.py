"""`UserHistory`: each user's rated movies in time order, stored as tensors a model saves with
its weights; and `HistoryRanker`, the base of the rankers that score a user from it."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, ClassVar

import numpy as np
import scipy.sparse as sp
import torch
from torch import nn

from movierec.errors import ConfigError
from movierec.models.base import Scorer


class UserHistory(nn.Module):
    """A users x movies CSR held as buffers: `indptr` [n_users + 1], `movies` and `ratings`
    [n_ratings]; within a user, oldest first (ties keep input order). Buffers resize on
    `load_state_dict`, so a history of any size reloads into a freshly built model."""

    def __init__(self, n_users: int) -> None:
        super().__init__()
        self.register_buffer("indptr", torch.zeros(n_users + 1, dtype=torch.long))
        self.register_buffer("movies", torch.zeros(0, dtype=torch.long))
        self.register_buffer("ratings", torch.zeros(0, dtype=torch.float32))

    @property
    def n_users(self) -> int:
        return len(self.indptr) - 1

    def set(self, users: torch.Tensor, movies: torch.Tensor, ratings: torch.Tensor,
            timestamps: torch.Tensor | None = None, n_users: int | None = None) -> None:
        """Replace the whole history with these rows (`users`: one row index per rating)."""
        if n_users is not None:
            self.indptr = torch.zeros(n_users + 1, dtype=torch.long, device=self.indptr.device)
        users, movies, ratings = _time_ordered(users, movies, ratings, timestamps)
        self._store(users, movies, ratings)

    def add_users(self, n: int) -> None:
        """Append `n` users with empty histories."""
        self.indptr = torch.cat([self.indptr, self.indptr[-1:].expand(n)])

    def replace_rows(self, users: torch.Tensor, movies: torch.Tensor, ratings: torch.Tensor,
                     timestamps: torch.Tensor | None = None) -> None:
        """The users in `users` (one row index per rating) get exactly these histories;
        every other row stays as it is, in its order."""
        new = _time_ordered(users, movies, ratings, timestamps)
        first = int(new[0].min()) if len(new[0]) else self.n_users
        if int(self.indptr[first]) == int(self.indptr[-1]):  # only empty rows at the end
            self._append(first, *new)
            return
        replaced = torch.zeros(self.n_users, dtype=torch.bool)
        replaced[new[0]] = True
        old_users = torch.repeat_interleave(torch.arange(self.n_users),
                                            self.indptr.diff().cpu())
        keep = ~replaced[old_users]
        self._store(torch.cat([old_users[keep], new[0]]),
                    torch.cat([self.movies.cpu()[keep], new[1]]),
                    torch.cat([self.ratings.cpu()[keep], new[2]]))

    def _append(self, first: int, users: torch.Tensor, movies: torch.Tensor,
                ratings: torch.Tensor) -> None:
        """Fill rows `first`.. (all empty so far) without touching the others: fold-in's
        usual case, new users added at the end, costs no sort of the whole history."""
        order = torch.from_numpy(np.argsort(users.numpy(), kind="stable"))
        counts = torch.bincount(users - first, minlength=self.n_users - first)
        device = self.indptr.device
        self.indptr = torch.cat([self.indptr[:first + 1],
                                 self.indptr[first] + counts.cumsum(0).to(device)])
        self.movies = torch.cat([self.movies, movies[order].to(device)])
        self.ratings = torch.cat([self.ratings, ratings[order].to(device)])

    def _store(self, users: torch.Tensor, movies: torch.Tensor, ratings: torch.Tensor) -> None:
        """Group rows by user (stable: each user's order is kept) into the CSR buffers; numpy's
        stable integer sort is a radix sort, linear in the number of ratings."""
        order = torch.from_numpy(np.argsort(users.numpy(), kind="stable"))
        counts = torch.bincount(users, minlength=self.n_users)
        device = self.indptr.device
        self.indptr = torch.cat([torch.zeros(1, dtype=torch.long), counts.cumsum(0)]).to(device)
        self.movies = movies[order].to(device)
        self.ratings = ratings[order].to(device)

    def rating_users(self) -> np.ndarray:
        """The user row of each stored rating (sorted by user, then time, as `movies`)."""
        return np.repeat(np.arange(self.n_users), self.indptr.diff().cpu().numpy())

    def csr(self, n_movies: int, users: np.ndarray | None = None,
            binary: bool = True) -> sp.csr_matrix:
        """The history (or the rows of `users`) as a float32 CSR: 1 per rated movie, or
        the rating when `binary` is False."""
        indptr, movies = self.indptr.cpu().numpy(), self.movies.cpu().numpy()
        values = (np.ones(len(movies), np.float32) if binary
                  else self.ratings.cpu().numpy().astype(np.float32))
        if users is None:
            return sp.csr_matrix((values, movies, indptr), shape=(self.n_users, n_movies))
        # only the asked rows' entries: scoring one user must not touch every history
        users = np.asarray(users, dtype=np.int64)
        starts, lengths = indptr[users], indptr[users + 1] - indptr[users]
        row_starts = np.r_[0, np.cumsum(lengths)]
        take = np.repeat(starts - row_starts[:-1], lengths) + np.arange(row_starts[-1])
        return sp.csr_matrix((values[take], movies[take], row_starts),
                             shape=(len(users), n_movies))

    def _load_from_state_dict(self, state_dict: dict[str, Any], prefix: str,
                              *args: Any, **kwargs: Any) -> None:
        for name in ("indptr", "movies", "ratings"):
            stored = state_dict.get(prefix + name)
            if stored is not None:
                setattr(self, name, torch.empty_like(stored))
        super()._load_from_state_dict(state_dict, prefix, *args, **kwargs)


def _time_ordered(users: torch.Tensor, movies: torch.Tensor, ratings: torch.Tensor,
                  timestamps: torch.Tensor | None) -> tuple[torch.Tensor, ...]:
    """The rows on the CPU, sorted by time (stable: same-second ratings keep input order)."""
    users, movies = users.detach().cpu().long(), movies.detach().cpu().long()
    ratings = ratings.detach().cpu().float()
    if timestamps is None:
        return users, movies, ratings
    order = torch.sort(timestamps.detach().cpu(), stable=True).indices
    return users[order], movies[order], ratings[order]


class HistoryRanker(Scorer):
    """A ranker that scores users from their rated movies (EASE, the denoising autoencoder,
    item2vec, sequences, popularity). New users join by their history alone: fold-in
    stores it and nothing trains. Subclasses implement `score_histories`; closed-form ones
    fit in `fit_history`."""

    predicts_ratings: ClassVar[bool] = False
    ranks: ClassVar[bool] = True
    training_regime: ClassVar[str] = "closed_form"
    fold_in_regime: ClassVar[str] = "history"

    def __init__(self, n_users: int, n_movies: int,
                 rating_range: tuple[float, float] = (1.0, 5.0)) -> None:
        super().__init__(n_users, n_movies, rating_range)
        self.history = UserHistory(n_users)

    def reads_time_order(self) -> bool:
        """Whether fitting reads each user's time order (then timestamps are required)."""
        return False

    def observe_ratings(self, users: torch.Tensor, movies: torch.Tensor,
                        ratings: torch.Tensor, timestamps: torch.Tensor | None = None) -> None:
        """Store the histories, then fit what has a closed form (`fit_history`). A model
        that reads time order needs `timestamps`; its same-second ratings go by movie index,
        so the row order of the ratings does not matter."""
        if self.reads_time_order():
            if timestamps is None:
                raise ConfigError(f"{self.preset} needs the ratings' timestamp column")
            by_movie = torch.sort(movies.detach().cpu(), stable=True).indices
            users, movies, ratings, timestamps = (column.detach().cpu()[by_movie] for column
                                                  in (users, movies, ratings, timestamps))
        self.history.set(users, movies, ratings, timestamps, self.n_users)
        self.fit_history()

    def fit_history(self) -> None:
        """Fit (or initialise) from `self.history`; nothing by default."""

    def interactions(self, users: np.ndarray | None = None) -> sp.csr_matrix:
        """Users x movies 0/1 CSR of the stored histories (or of `users`' rows)."""
        return self.history.csr(self.n_movies, users)

    def score(self, users: torch.Tensor) -> torch.Tensor:
        return self.score_histories(self.interactions(users.cpu().numpy()), users)

    def score_histories(self, rows: sp.csr_matrix, users: torch.Tensor | None = None
                        ) -> torch.Tensor:
        """[rows, n_movies] scores of 0/1 history rows (`users`: whose rows they are, for
        models that also read order or ratings; None for a made-up history)."""
        raise NotImplementedError

    def similar_movie_scores(self, movies: torch.Tensor) -> torch.Tensor:
        """For each of `movies`, the scores of a history holding only that movie."""
        movies = movies.cpu().numpy()
        rows = sp.csr_matrix((np.ones(len(movies), np.float32), movies,
                              np.arange(len(movies) + 1)), shape=(len(movies), self.n_movies))
        return self.score_histories(rows)

    def add_users(self, n: int) -> None:
        if n < 0:
            raise ValueError(f"add_users needs n >= 0, got {n}")
        self.history.add_users(n)
        self.n_users += n

    def set_user_histories(self, users: torch.Tensor, movies: torch.Tensor,
                           ratings: torch.Tensor, timestamps: torch.Tensor | None = None) -> None:
        """Fold-in: the users in `users` (a row index per rating) now have exactly these
        ratings; `users_changed` then updates whatever the model keeps per user."""
        self.history.replace_rows(users, movies, ratings, timestamps)
        self.users_changed(torch.unique(users))

    def users_changed(self, rows: torch.Tensor) -> None:
        """Recompute per-user state for `rows` after their histories changed (none here)."""

    # --- the Trainer's "self_supervised" regime (rankers trained by gradient) -----------
    def steps_per_epoch(self, batch_size: int) -> int:
        """Optimiser steps in one epoch (for the progress bar)."""
        raise NotImplementedError

    def training_batches(self, batch_size: int, generator: torch.Generator) -> Iterator[Any]:
        """This epoch's batches of the model's own training examples, shuffled."""
        raise NotImplementedError

    def batch_loss(self, batch: Any, generator: torch.Generator) -> tuple[torch.Tensor, int]:
        """(mean loss to backpropagate, number of examples it averages) for one batch."""
        raise NotImplementedError

    def after_step(self, batch: Any) -> None:
        """Updates made outside autograd after each optimiser step (none by default)."""

    def end_epoch(self) -> None:
        """Work done once per epoch after its last step (none by default)."""
