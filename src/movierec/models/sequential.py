"""SASRec (Kang & McAuley, ICDM 2018): next-movie prediction from each user's time-ordered
history by causal self-attention, trained with full softmax cross-entropy over the whole
catalogue (Klenitskiy & Vasilev, RecSys 2023) instead of sampled BCE."""

from __future__ import annotations

from collections.abc import Iterator
from typing import ClassVar

import numpy as np
import scipy.sparse as sp
import torch
from torch import nn

from movierec.errors import ConfigError
from movierec.models.history import HistoryRanker

PAD = 0  # sequence slot with no movie; movie index i is stored as i + 1


def tail_sequences(indptr: np.ndarray, movies: np.ndarray, rows: np.ndarray,
                   length: int) -> torch.Tensor:
    """[len(rows), length] the latest `length` movies (index + 1) of each CSR row whose
    movies are stored oldest first, right-aligned: PAD on the left of short rows."""
    ends = indptr[rows + 1]
    counts = np.minimum(ends - indptr[rows], length)
    slot = np.repeat(np.arange(len(rows)), counts)
    offset = np.arange(counts.sum()) - np.repeat(np.cumsum(counts) - counts, counts)
    out = np.full((len(rows), length), PAD, dtype=np.int64)
    source = np.repeat(ends - counts, counts) + offset
    out[slot, length - counts[slot] + offset] = movies[source] + 1
    return torch.from_numpy(out)


class SASRec(HistoryRanker):
    """Movie + position embeddings -> pre-norm causal transformer blocks -> the next movie's
    logits as the dot product with the (shared) movie embeddings. Every position of each
    user's latest `max_len` + 1 ratings learns the movie rated next; `score` gives the logits
    of the movie after the latest `max_len`. Positions count from the right (the latest slot
    is always `max_len` - 1), so dropping all-PAD columns in training moves no movie.
    Named parts: `user` (the histories), `movie`, `position`, `encoder`, `norm`."""

    default_preset = "sasrec"
    training_regime: ClassVar[str] = "self_supervised"

    def __init__(self, n_users: int, n_movies: int,
                 rating_range: tuple[float, float] = (1.0, 5.0), max_len: int = 50,
                 dim: int = 64, layers: int = 2, heads: int = 1, dropout: float = 0.2) -> None:
        super().__init__(n_users, n_movies, rating_range)
        for name, value in (("max_len", max_len), ("dim", dim), ("layers", layers),
                            ("heads", heads)):
            if value < 1:
                raise ConfigError(f"{name} must be at least 1, got {value}")
        if dim % heads:
            raise ConfigError(f"dim must be a multiple of heads, got dim={dim}, heads={heads}")
        if not 0.0 <= dropout < 1.0:
            raise ConfigError(f"dropout must be in [0, 1), got {dropout}")
        self.max_len, self.dim, self.layers, self.heads = max_len, dim, layers, heads
        self.dropout = float(dropout)
        self.movie = nn.Embedding(n_movies + 1, dim, padding_idx=PAD)
        self.position = nn.Embedding(max_len, dim)
        block = nn.TransformerEncoderLayer(dim, heads, dim_feedforward=dim, dropout=dropout,
                                           activation="gelu", batch_first=True,
                                           norm_first=True)
        self.encoder = nn.TransformerEncoder(block, layers, enable_nested_tensor=False)
        self.norm = nn.LayerNorm(dim)
        self.input_dropout = nn.Dropout(dropout)
        nn.init.normal_(self.movie.weight, std=dim ** -0.5)
        with torch.no_grad():
            self.movie.weight[PAD].zero_()

    # --- histories as sequences ---------------------------------------------------------
    def observe_ratings(self, users: torch.Tensor, movies: torch.Tensor,
                        ratings: torch.Tensor, timestamps: torch.Tensor | None = None) -> None:
        _require_time(timestamps)
        super().observe_ratings(users, movies, ratings, timestamps)

    def set_user_histories(self, users: torch.Tensor, movies: torch.Tensor,
                           ratings: torch.Tensor, timestamps: torch.Tensor | None = None) -> None:
        _require_time(timestamps)
        super().set_user_histories(users, movies, ratings, timestamps)

    def sequences(self, users: np.ndarray, length: int) -> torch.Tensor:
        """[len(users), length] each user's latest movies from the stored history, on the
        model's device; read at call time, so fold-in and loading need no rebuild."""
        history = self.history
        rows = tail_sequences(history.indptr.cpu().numpy(), history.movies.cpu().numpy(),
                              np.asarray(users, dtype=np.int64), length)
        return rows.to(self.movie.weight.device)

    # --- the network ----------------------------------------------------------------------
    def hidden(self, sequences: torch.Tensor) -> torch.Tensor:
        """[batch, len, dim] state after each position (attending to it and earlier ones)."""
        length = sequences.shape[1]
        positions = torch.arange(self.max_len - length, self.max_len, device=sequences.device)
        x = self.input_dropout(self.movie(sequences) * self.dim ** 0.5
                               + self.position(positions))
        return self.norm(self.encoder(x, mask=self.attention_mask(sequences)))

    def attention_mask(self, sequences: torch.Tensor) -> torch.Tensor:
        """[batch * heads, len, len] True where a position may not look: later positions
        and PAD slots, except itself (a PAD row attending to nothing would give NaN)."""
        length = sequences.shape[1]
        later = torch.ones(length, length, dtype=torch.bool, device=sequences.device).triu(1)
        blocked = later | (sequences == PAD)[:, None, :]
        blocked.diagonal(dim1=1, dim2=2).fill_(False)
        return blocked.repeat_interleave(self.heads, dim=0)

    def logits(self, states: torch.Tensor) -> torch.Tensor:
        """Scores of every movie (no PAD column) for each state."""
        return states @ self.movie.weight[1:].T

    def next_movie_logits(self, sequences: torch.Tensor) -> torch.Tensor:
        """[batch, n_movies] scores of the movie that follows each whole sequence."""
        return self.logits(self.hidden(sequences)[:, -1])

    # --- scoring ----------------------------------------------------------------------------
    def score(self, users: torch.Tensor) -> torch.Tensor:
        return self.next_movie_logits(self.sequences(users.cpu().numpy(), self.max_len))

    def score_histories(self, rows: sp.csr_matrix, users: torch.Tensor | None = None
                        ) -> torch.Tensor:
        """Users' rows: their time-ordered histories. A made-up history has no time: its
        movies are read in the CSR's column order (one movie: `similar_movie_scores`)."""
        if users is not None:
            return self.score(users)
        sequences = tail_sequences(rows.indptr, rows.indices, np.arange(rows.shape[0]),
                                   self.max_len)
        return self.next_movie_logits(sequences.to(self.movie.weight.device))

    def movie_vectors(self) -> torch.Tensor:
        return self.movie.weight[1:]

    def parts(self) -> dict[str, nn.Module]:
        return {"user": self.history, "movie": self.movie, "position": self.position,
                "encoder": self.encoder, "norm": self.norm}

    # --- the Trainer's "self_supervised" regime ---------------------------------------------
    def _trainable_users(self) -> np.ndarray:
        """Users with a next movie to predict: two ratings or more."""
        return np.flatnonzero(self.history.indptr.diff().cpu().numpy() >= 2)

    def steps_per_epoch(self, batch_size: int) -> int:
        return -(-len(self._trainable_users()) // batch_size)

    def training_batches(self, batch_size: int, generator: torch.Generator
                         ) -> Iterator[torch.Tensor]:
        """Shuffled blocks of [users, max_len + 1] sequences: inputs then shifted targets."""
        sequences = self.sequences(self._trainable_users(), self.max_len + 1)
        order = torch.randperm(len(sequences), generator=generator, device=generator.device)
        yield from (sequences[batch] for batch in order.to(sequences.device).split(batch_size))

    def batch_loss(self, batch: torch.Tensor, generator: torch.Generator
                   ) -> tuple[torch.Tensor, int]:
        """Softmax cross-entropy of every non-PAD next movie; columns PAD in the whole batch
        are dropped first (most users are shorter than `max_len`)."""
        inputs, targets = batch[:, :-1], batch[:, 1:]
        live = targets != PAD
        first = int(live.any(dim=0).int().argmax())
        inputs, targets, live = inputs[:, first:], targets[:, first:], live[:, first:]
        states = self.hidden(inputs)[live]
        loss = nn.functional.cross_entropy(self.logits(states), targets[live] - 1)
        return loss, len(states)


def _require_time(timestamps: torch.Tensor | None) -> None:
    """Sequences need time order; input order alone would silently train on noise."""
    if timestamps is None:
        raise ConfigError("preset 'sasrec' orders each user's ratings by time: the ratings "
                          "need a 'timestamp' column (Unix seconds)")
