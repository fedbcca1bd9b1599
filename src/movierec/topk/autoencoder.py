"""A denoising item autoencoder for top-k: a linear item-item path that starts at the
dropout-regularised closed form (DLAE, Steck NeurIPS 2020) plus a nonlinear tanh path that
starts at zero, both then trained by gradient on the same denoising objective."""

from __future__ import annotations

import time

import numpy as np
import pandas as pd
import scipy.sparse as sp
import torch
from torch import nn

from movierec.errors import ConfigError
from movierec.topk.interactions import interactions_from_ratings
from movierec.training.history import EpochRecord
from movierec.training.progress import TrainingProgress
from movierec.training.trainer import _cpu_settings as cpu_settings


def dlae_weights(train: sp.csr_matrix, dropout: float, l2: float) -> torch.Tensor:
    """B = (G + L)^-1 G with G = X'X and L = diag(p / (1 - p) * diag(G)) + l2 I: the
    item-item weights minimising E||X - drop_p(X) B||^2 + l2 ||B||^2 over dropout masks
    (inverted dropout, as `torch.nn.functional.dropout`)."""
    gram = torch.from_numpy((train.T @ train).toarray().astype(np.float64))
    penalty = gram.diagonal() * (dropout / (1.0 - dropout)) + l2
    return torch.linalg.solve(gram + torch.diag(penalty), gram).float()


class DenoisingItemAutoencoder(nn.Module):
    """scores(x) = x B + decoder(tanh(encoder(x / |x|))). Named parts: `item_item` (B, a
    movies x movies linear map), `encoder` and `decoder` (the nonlinear path; the decoder
    starts at zero, so an untrained model scores exactly as its item-item path)."""

    def __init__(self, item_item: torch.Tensor, hidden: int = 600) -> None:
        super().__init__()
        n_movies = item_item.shape[0]
        self.item_item = nn.Linear(n_movies, n_movies, bias=False)
        self.encoder = nn.Linear(n_movies, hidden)
        self.decoder = nn.Linear(hidden, n_movies)
        with torch.no_grad():
            self.item_item.weight.copy_(item_item.T)
            self.decoder.weight.zero_()
            self.decoder.bias.zero_()

    def parts(self) -> dict[str, nn.Module]:
        return {"item_item": self.item_item, "encoder": self.encoder, "decoder": self.decoder}

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """[users, movies] 0/1 (possibly dropped-out and rescaled) rows -> [users, movies]."""
        unit = (x / x.norm(dim=1, keepdim=True).clamp_min(1e-8)).to_sparse()
        linear = torch.sparse.mm(x.to_sparse(), self.item_item.weight.T)  # rows are sparse
        hidden = torch.sparse.mm(unit, self.encoder.weight.T) + self.encoder.bias
        return linear + self.decoder(torch.tanh(hidden))


class DenoisingAutoencoderRanker:
    """Top-k ranker over `DenoisingItemAutoencoder`. Each step drops every input interaction
    with probability `dropout` and fits the full rows by squared error, with `l2` on B (the
    objective whose optimum for B alone is `dlae_weights`) and `weight_decay` on the
    nonlinear path. B learns at `item_item_lr`, the nonlinear path at `lr`."""

    name = "dae"

    def __init__(self, dropout: float = 0.5, l2: float = 200.0, hidden: int = 600,
                 epochs: int = 20, batch_size: int = 128, lr: float = 1e-3,
                 item_item_lr: float = 1e-5, weight_decay: float = 0.0, seed: int = 0,
                 num_threads: int | None = 1, progress: bool = True) -> None:
        if not 0.0 < dropout < 1.0:
            raise ConfigError(f"dropout must be in (0, 1), got {dropout}")
        for field, value in {"hidden": hidden, "epochs": epochs,
                             "batch_size": batch_size}.items():
            if value < 1:
                raise ConfigError(f"{field} must be at least 1, got {value}")
        for field, value in {"l2": l2, "item_item_lr": item_item_lr,
                             "weight_decay": weight_decay}.items():
            if value < 0:
                raise ConfigError(f"{field} must be >= 0, got {value}")
        if lr <= 0:
            raise ConfigError(f"lr must be positive, got {lr}")
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

    def _rows(self, users: torch.Tensor) -> torch.Tensor:
        return torch.from_numpy(self.train[users.numpy()].toarray())

    def _train(self) -> None:
        model, n_users = self.model, self.train.shape[0]
        optimiser = torch.optim.Adam([
            {"params": model.item_item.parameters(), "lr": self.item_item_lr},
            {"params": [*model.encoder.parameters(), *model.decoder.parameters()],
             "lr": self.lr, "weight_decay": self.weight_decay}])
        generator = torch.Generator().manual_seed(self.seed)
        steps = -(-n_users // self.batch_size)
        self.losses: list[float] = []
        model.train()
        with TrainingProgress(self.progress, self.epochs, steps) as bar:
            for epoch in range(1, self.epochs + 1):
                start, total = time.perf_counter(), 0.0
                bar.start_epoch(epoch)
                order = torch.randperm(n_users, generator=generator)
                for first in range(0, n_users, self.batch_size):
                    rows = self._rows(order[first:first + self.batch_size])
                    noisy = nn.functional.dropout(rows, self.dropout)
                    hidden = noisy == 0  # kept inputs are not scored: seen movies are excluded
                    error = ((rows - model(noisy)) ** 2)[hidden].sum()
                    penalty = self.l2 * len(rows) / n_users * model.item_item.weight.square().sum()
                    loss = error + penalty
                    optimiser.zero_grad()
                    loss.backward()
                    optimiser.step()
                    total += error.item()
                    bar.advance()
                self.losses.append(total / n_users)
                bar.end_epoch(EpochRecord(epoch, total / n_users, None, None,
                                          time.perf_counter() - start, self.lr))
        model.eval()

    def score(self, users: np.ndarray) -> torch.Tensor:
        """[len(users), movies] reconstruction of each user's training row."""
        with torch.no_grad(), cpu_settings(self.num_threads):
            return self.model(self._rows(torch.as_tensor(users)))
