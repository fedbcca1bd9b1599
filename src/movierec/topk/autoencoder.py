"""A denoising item autoencoder for top-k: a linear item-item path that starts at the
dropout-regularised closed form (DLAE, Steck NeurIPS 2020) plus a nonlinear tanh path that
starts at zero, both then trained by gradient on the same denoising objective."""

from __future__ import annotations

import time
from typing import NamedTuple

import numpy as np
import pandas as pd
import scipy.sparse as sp
import torch
from torch import nn

from movierec.errors import ConfigError
from movierec.topk.interactions import interactions_from_ratings
from movierec.topk.settings import check_settings
from movierec.training.history import EpochRecord
from movierec.training.progress import TrainingProgress
from movierec.training.trainer import cpu_settings


def dlae_weights(train: sp.csr_matrix, dropout: float, l2: float) -> torch.Tensor:
    """B = (G + L)^-1 G with G = X'X and L = diag(p / (1 - p) * diag(G)) + l2 I: the
    item-item weights minimising E||X - drop_p(X) B||^2 + l2 ||B||^2 over dropout masks
    (inverted dropout, as `torch.nn.functional.dropout`)."""
    gram = torch.from_numpy((train.T @ train).toarray().astype(np.float64))
    penalty = gram.diagonal() * (dropout / (1.0 - dropout)) + l2
    return torch.linalg.solve(gram + torch.diag(penalty), gram).float().contiguous()


class SparseRows(NamedTuple):
    """A batch of sparse rows, as `nn.EmbeddingBag` takes them: the column indices of all
    rows concatenated, where each row starts, and each entry's value."""

    indices: torch.Tensor
    offsets: torch.Tensor
    values: torch.Tensor

    @classmethod
    def from_csr(cls, rows: sp.csr_matrix) -> SparseRows:
        return cls(torch.from_numpy(rows.indices.astype(np.int64)),
                   torch.from_numpy(rows.indptr[:-1].astype(np.int64)),
                   torch.from_numpy(rows.data.astype(np.float32)))


class SparseInputLinear(nn.Module):
    """x W + b for sparse rows x; W is stored input-major (`rows.weight[i]` is input i's
    output row), so a batch reads and updates only the rows of the movies it contains."""

    def __init__(self, n_in: int, n_out: int, bias: bool = True,
                 weight: torch.Tensor | None = None) -> None:
        super().__init__()
        bound = n_in ** -0.5  # nn.Linear's initialisation, not nn.EmbeddingBag's N(0, 1)
        if weight is None:
            weight = torch.empty(n_in, n_out).uniform_(-bound, bound)
        self.rows = nn.EmbeddingBag(n_in, n_out, mode="sum", _weight=weight)
        self.bias = nn.Parameter(torch.empty(n_out).uniform_(-bound, bound)) if bias else None

    def forward(self, x: SparseRows) -> torch.Tensor:
        out = self.rows(x.indices, x.offsets, per_sample_weights=x.values)
        return out if self.bias is None else out + self.bias


class DenoisingItemAutoencoder(nn.Module):
    """scores(x) = x B + decoder(tanh(encoder(x / |x|))). Named parts: `item_item` (B, a
    movies x movies linear map), `encoder` and `decoder` (the nonlinear path; the decoder
    starts at zero, so an untrained model scores exactly as its item-item path)."""

    def __init__(self, item_item: torch.Tensor, hidden: int = 64) -> None:
        super().__init__()
        n_movies = item_item.shape[0]
        self.item_item = SparseInputLinear(n_movies, n_movies, bias=False,
                                           weight=item_item.clone().contiguous())
        self.encoder = SparseInputLinear(n_movies, hidden)
        self.decoder = nn.Linear(hidden, n_movies)
        with torch.no_grad():
            self.decoder.weight.zero_()
            self.decoder.bias.zero_()

    def parts(self) -> dict[str, nn.Module]:
        return {"item_item": self.item_item, "encoder": self.encoder, "decoder": self.decoder}

    def forward(self, x: SparseRows) -> torch.Tensor:
        """A batch of sparse user rows (0/1, possibly dropped out and rescaled) -> [users,
        movies] scores."""
        squares = torch.zeros(len(x.offsets)).index_add_(0, self._row_of(x), x.values ** 2)
        unit = x._replace(values=x.values / squares.sqrt().clamp_min(1e-8)[self._row_of(x)])
        return self.item_item(x) + self.decoder(torch.tanh(self.encoder(unit)))

    @staticmethod
    def _row_of(x: SparseRows) -> torch.Tensor:
        lengths = torch.diff(x.offsets, append=torch.tensor([len(x.indices)]))
        return torch.repeat_interleave(torch.arange(len(x.offsets)), lengths)


class DenoisingAutoencoderRanker:
    """Top-k ranker over `DenoisingItemAutoencoder`. Each step drops every input interaction
    with probability `dropout` and fits the entries the input hides by squared error. The
    nonlinear path learns with Adam at `lr` (`weight_decay`); B, which starts at
    `dlae_weights`, takes plain SGD at `item_item_lr` with `l2` on the rows it reads (0
    keeps B at its closed form)."""

    name = "dae"

    def __init__(self, dropout: float = 0.5, l2: float = 200.0, hidden: int = 64,
                 epochs: int = 40, batch_size: int = 128, lr: float = 1e-3,
                 item_item_lr: float = 1e-5, weight_decay: float = 0.0, seed: int = 0,
                 num_threads: int | None = 1, progress: bool = True) -> None:
        if not 0.0 < dropout < 1.0:
            raise ConfigError(f"dropout must be in (0, 1), got {dropout}")
        check_settings({"hidden": hidden, "epochs": epochs, "batch_size": batch_size}, lr,
                       {"l2": l2, "item_item_lr": item_item_lr, "weight_decay": weight_decay})
        self.dropout, self.l2, self.hidden, self.epochs = dropout, l2, hidden, epochs
        self.batch_size, self.lr, self.item_item_lr = batch_size, lr, item_item_lr
        self.weight_decay, self.seed = weight_decay, seed
        self.num_threads, self.progress = num_threads, progress

    def fit_ratings(self, ratings: pd.DataFrame, movies: pd.DataFrame | None = None,
                    users: pd.DataFrame | None = None) -> DenoisingAutoencoderRanker:
        """Every rating is a positive; `movies` and `users` are not used."""
        return self.fit(interactions_from_ratings(ratings, ratings.iloc[:0]).train)

    def fit(self, train: sp.csr_matrix) -> DenoisingAutoencoderRanker:
        """Train on a users x movies 0/1 CSR matrix."""
        self.train = train.astype(np.float32).tocsr()
        with cpu_settings(self.num_threads):
            torch.manual_seed(self.seed)
            self.model = DenoisingItemAutoencoder(dlae_weights(train, self.dropout, self.l2),
                                                  self.hidden)
            self._train()
        return self

    def _train(self) -> None:
        model, n_users = self.model, self.train.shape[0]
        model.item_item.requires_grad_(False)  # SGD below, on the rows a batch reads
        optimiser = torch.optim.Adam([*model.encoder.parameters(), *model.decoder.parameters()],
                                     lr=self.lr, weight_decay=self.weight_decay)
        generator = torch.Generator().manual_seed(self.seed)
        steps = -(-n_users // self.batch_size)
        self.losses: list[float] = []
        model.train()
        with TrainingProgress(self.progress, self.epochs, steps) as bar:
            for epoch in range(1, self.epochs + 1):
                start, total = time.perf_counter(), 0.0
                bar.start_epoch(epoch)
                order = torch.randperm(n_users, generator=generator).numpy()
                for first in range(0, n_users, self.batch_size):
                    rows = self.train[order[first:first + self.batch_size]]
                    noisy, residual = self._denoise(rows, generator)
                    error = residual.square().sum()
                    optimiser.zero_grad()
                    error.backward()
                    optimiser.step()
                    self._step_item_item(noisy, residual.detach())
                    total += error.item()
                    bar.advance()
                if self.item_item_lr > 0:  # the l2 gradient of B, once per pass over users
                    model.item_item.rows.weight.mul_(1.0 - 2.0 * self.item_item_lr * self.l2)
                self.losses.append(total / n_users)
                bar.end_epoch(EpochRecord(epoch, total / n_users, None, None,
                                          time.perf_counter() - start, self.lr))
        model.eval()

    def _denoise(self, rows: sp.csr_matrix, generator: torch.Generator
                 ) -> tuple[torch.Tensor, torch.Tensor]:
        """Drop each interaction with probability `dropout` (survivors scaled by 1 / (1 -
        p)); returns the dense noisy rows and the residual (scores - rows) on the entries
        the input hides (kept inputs are seen movies, which ranking excludes)."""
        target = torch.from_numpy(rows.toarray())
        keep = (torch.rand(target.shape, generator=generator) >= self.dropout) & (target > 0)
        noisy = torch.where(keep, target / (1.0 - self.dropout), 0.0)
        scores = self.model(SparseRows.from_csr(sp.csr_matrix(noisy.numpy())))
        return noisy, torch.where(keep, 0.0, scores - target)

    def _step_item_item(self, noisy: torch.Tensor, residual: torch.Tensor) -> None:
        """One SGD step of the squared error on the rows of B the batch read, computed
        directly (autograd would materialise a dense movies x movies gradient)."""
        if self.item_item_lr == 0:
            return
        touched = torch.nonzero(noisy.any(dim=0)).ravel()
        self.model.item_item.rows.weight.index_add_(0, touched, noisy[:, touched].T @ residual,
                                                    alpha=-2.0 * self.item_item_lr)

    def score(self, users: np.ndarray) -> torch.Tensor:
        """[len(users), movies] reconstruction of each user's training row."""
        with torch.no_grad(), cpu_settings(self.num_threads):
            return self.model(SparseRows.from_csr(self.train[np.asarray(users)]))
