"""Next-movie prediction from each user's time-ordered history: a SASRec-style causal
self-attention model (Kang & McAuley, ICDM 2018) trained with full softmax cross-entropy over
the whole catalogue (Klenitskiy & Vasilev, RecSys 2023) instead of sampled BCE."""

from __future__ import annotations

import time

import numpy as np
import pandas as pd
import torch
from torch import nn

from movierec.data import IdMap
from movierec.errors import ConfigError
from movierec.topk.settings import check_settings
from movierec.training.history import EpochRecord
from movierec.training.progress import TrainingProgress
from movierec.training.trainer import cpu_settings

PAD = 0  # sequence slot with no movie; movie index i is stored as i + 1


def user_sequences(ratings: pd.DataFrame, users: IdMap, movies: IdMap,
                   max_len: int) -> torch.Tensor:
    """[users, max_len] movie indices + 1, oldest first, right-aligned (PAD on the left),
    each user's latest `max_len` ratings; ties in time are ordered by movie id, as in
    `leave_last_out`."""
    ordered = ratings.sort_values(["user_id", "timestamp", "movie_id"], kind="stable")
    rows = users.to_index(ordered["user_id"].to_numpy())
    cols = movies.to_index(ordered["movie_id"].to_numpy()) + 1
    counts = np.bincount(rows, minlength=len(users))
    ends = np.cumsum(counts)
    from_end = ends[rows] - np.arange(len(rows)) - 1  # 0 for each user's latest rating
    keep = from_end < max_len
    out = np.full((len(users), max_len), PAD, dtype=np.int64)
    out[rows[keep], max_len - 1 - from_end[keep]] = cols[keep]
    return torch.from_numpy(out)


class CausalSelfAttentionRecommender(nn.Module):
    """Movie + position embeddings -> causal transformer blocks -> the next movie's logits
    as the dot product with the (shared) movie embeddings. Named parts: `movie`,
    `position`, `encoder`, `norm`."""

    def __init__(self, n_movies: int, max_len: int, dim: int = 64, layers: int = 2,
                 heads: int = 1, dropout: float = 0.2) -> None:
        super().__init__()
        self.heads = heads
        self.movie = nn.Embedding(n_movies + 1, dim, padding_idx=PAD)
        self.position = nn.Embedding(max_len, dim)
        block = nn.TransformerEncoderLayer(dim, heads, dim_feedforward=dim, dropout=dropout,
                                           activation="gelu", batch_first=True,
                                           norm_first=True)
        self.encoder = nn.TransformerEncoder(block, layers, enable_nested_tensor=False)
        self.norm = nn.LayerNorm(dim)
        self.dropout = nn.Dropout(dropout)
        nn.init.normal_(self.movie.weight, std=dim ** -0.5)
        with torch.no_grad():
            self.movie.weight[PAD].zero_()

    def parts(self) -> dict[str, nn.Module]:
        return {"movie": self.movie, "position": self.position, "encoder": self.encoder,
                "norm": self.norm}

    def hidden(self, sequences: torch.Tensor) -> torch.Tensor:
        """[batch, len, dim] state after each position (attending to it and earlier ones)."""
        length = sequences.shape[1]
        positions = torch.arange(length, device=sequences.device)
        x = self.dropout(self.movie(sequences) * self.movie.embedding_dim ** 0.5
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

    def forward(self, sequences: torch.Tensor) -> torch.Tensor:
        """[batch, movies] scores of the movie that follows each whole sequence."""
        return self.logits(self.hidden(sequences)[:, -1])


class SequentialRanker:
    """Top-k ranker over `CausalSelfAttentionRecommender`: every position of each user's
    latest `max_len` training ratings learns to predict the movie rated next (softmax over all
    movies); `score(users)` gives the logits of the movie after those ratings."""

    name = "sasrec"

    def __init__(self, dim: int = 64, layers: int = 2, heads: int = 1, max_len: int = 50,
                 dropout: float = 0.2, epochs: int = 30, batch_size: int = 64,
                 lr: float = 3e-3, weight_decay: float = 0.0, seed: int = 0,
                 num_threads: int | None = 1, progress: bool = True) -> None:
        check_settings({"dim": dim, "layers": layers, "heads": heads, "max_len": max_len,
                        "epochs": epochs, "batch_size": batch_size}, lr)
        if dim % heads:
            raise ConfigError(f"dim must be a multiple of heads, got dim={dim}, heads={heads}")
        if not 0.0 <= dropout < 1.0:
            raise ConfigError(f"dropout must be in [0, 1), got {dropout}")
        self.shape = {"dim": dim, "layers": layers, "heads": heads, "dropout": dropout}
        self.max_len, self.epochs, self.batch_size = max_len, epochs, batch_size
        self.lr, self.weight_decay, self.seed = lr, weight_decay, seed
        self.num_threads, self.progress = num_threads, progress

    def fit_ratings(self, ratings: pd.DataFrame, movies: pd.DataFrame | None = None,
                    users: pd.DataFrame | None = None) -> SequentialRanker:
        """Train on `ratings` (needs `timestamp`); `movies` and `users` are not used."""
        if "timestamp" not in ratings.columns:
            raise ConfigError("SequentialRanker orders each user's ratings by time: the ratings "
                              "need a 'timestamp' column (Unix seconds)")
        self.user_ids = IdMap.from_ids(ratings["user_id"].to_numpy())
        self.movie_ids = IdMap.from_ids(ratings["movie_id"].to_numpy())
        # one slot more than scored: the input is the history, the target is shifted by one
        history = user_sequences(ratings, self.user_ids, self.movie_ids, self.max_len + 1)
        with cpu_settings(self.num_threads):
            torch.manual_seed(self.seed)
            self.model = CausalSelfAttentionRecommender(len(self.movie_ids), self.max_len,
                                                        **self.shape)
            self._train(history)
        self.history = history[:, 1:]
        return self

    def _train(self, history: torch.Tensor) -> None:
        inputs, targets = history[:, :-1], history[:, 1:]
        trainable = torch.nonzero((targets != PAD).any(dim=1)).ravel()
        optimiser = torch.optim.AdamW(self.model.parameters(), lr=self.lr,
                                      weight_decay=self.weight_decay)
        generator = torch.Generator().manual_seed(self.seed)
        steps = -(-len(trainable) // self.batch_size)
        self.losses: list[float] = []
        self.model.train()
        with TrainingProgress(self.progress, self.epochs, steps) as bar:
            for epoch in range(1, self.epochs + 1):
                start, total, count = time.perf_counter(), 0.0, 0
                bar.start_epoch(epoch)
                order = trainable[torch.randperm(len(trainable), generator=generator)]
                for first in range(0, len(order), self.batch_size):
                    batch = order[first:first + self.batch_size]
                    x, y = inputs[batch], targets[batch]
                    live = y != PAD
                    x = x[:, int(live.any(dim=0).int().argmax()):]  # drop all-PAD columns
                    y, live = y[:, -x.shape[1]:], live[:, -x.shape[1]:]
                    states = self.model.hidden(x)[live]
                    loss = nn.functional.cross_entropy(self.model.logits(states), y[live] - 1)
                    optimiser.zero_grad()
                    loss.backward()
                    optimiser.step()
                    total, count = total + loss.item() * len(states), count + len(states)
                    bar.advance()
                self.losses.append(total / count)
                bar.end_epoch(EpochRecord(epoch, total / count, None, None,
                                          time.perf_counter() - start, self.lr))
        self.model.eval()

    def score(self, users: np.ndarray) -> torch.Tensor:
        """[len(users), movies] next-movie logits given each user's latest training ratings."""
        with torch.no_grad(), cpu_settings(self.num_threads):
            sequences = self.history[torch.as_tensor(users, dtype=torch.long)]
            return self.model(sequences)
