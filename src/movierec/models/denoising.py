"""The denoising item autoencoder ("dae"): a linear item-item path that starts at the
dropout-regularised closed form (DLAE, Steck NeurIPS 2020) plus a nonlinear tanh path that
starts at zero, both then trained on the same denoising objective."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
import torch
from torch import nn

from movierec.errors import ConfigError
from movierec.models.gram import item_gram, regularised_inverse
from movierec.models.history import HistoryRanker
from movierec.models.sparse_rows import SparseInputLinear, SparseRows


def dlae_weights(x: sp.csr_matrix, dropout: float, l2: float) -> torch.Tensor:
    """B = (G + L)^-1 G with G = X'X and L = diag(p / (1 - p) * diag(G)) + l2 I: the
    item-item weights minimising E||X - drop_p(X) B||^2 + l2 ||B||^2 over dropout masks
    (inverted dropout, as `torch.nn.functional.dropout`). Computed as I - (G + L)^-1 L,
    which needs one symmetric inverse instead of a general solve."""
    gram = item_gram(x)
    penalty = gram.diagonal() * (dropout / (1.0 - dropout)) + l2
    weights = -regularised_inverse(gram, penalty) * penalty
    weights.diagonal().add_(1.0)
    return weights.float().contiguous()


@dataclass
class DenoisingBatch:
    """One step's users; `batch_loss` adds what `after_step` needs to step B."""

    users: np.ndarray
    noisy: torch.Tensor | None = None
    residual: torch.Tensor | None = None


class DenoisingAutoencoder(HistoryRanker):
    """scores(x) = x B + decoder(tanh(encoder(x / |x|))) for a user's 0/1 history x.

    `observe_ratings` sets B to `dlae_weights` and the decoder to zero, so the model then
    scores exactly as DLAE. Each training step drops every input interaction with
    probability `dropout` and fits the entries the input hides by squared error: the
    nonlinear path by the Trainer's optimiser, B (frozen to autograd, whose gradient would
    be a dense movies x movies matrix) by plain SGD at `item_item_lr` on the rows the batch
    read, with `l2` applied once an epoch (0 keeps B at its closed form). Named parts:
    `user` (the histories), `movie` (B), `encoder` and `decoder`.
    """

    default_preset = "dae"
    training_regime = "self_supervised"
    fit_bytes_per_movie_pair = 20.0  # the DLAE start is EASE's inverse: 16.8 measured alike

    def __init__(self, n_users: int, n_movies: int,
                 rating_range: tuple[float, float] = (1.0, 5.0), dropout: float = 0.5,
                 l2: float = 200.0, hidden: int = 64, item_item_lr: float = 1e-5) -> None:
        super().__init__(n_users, n_movies, rating_range)
        if not 0.0 < dropout < 1.0:
            raise ConfigError(f"dropout must be in (0, 1), got {dropout}")
        if hidden < 1:
            raise ConfigError(f"hidden must be at least 1, got {hidden}")
        for name, value in (("l2", l2), ("item_item_lr", item_item_lr)):
            if value < 0:
                raise ConfigError(f"{name} must be >= 0, got {value}")
        self.dropout, self.l2, self.hidden = float(dropout), float(l2), int(hidden)
        self.item_item_lr = float(item_item_lr)
        self.item_item = SparseInputLinear(n_movies, n_movies, bias=False,
                                           weight=torch.zeros(n_movies, n_movies))
        self.item_item.requires_grad_(False)
        self.encoder = SparseInputLinear(n_movies, hidden)
        self.decoder = nn.Linear(hidden, n_movies)
        nn.init.zeros_(self.decoder.weight)
        nn.init.zeros_(self.decoder.bias)

    def forward(self, x: SparseRows) -> torch.Tensor:
        """Sparse user rows (0/1, or dropped out and rescaled) -> [rows, n_movies] scores."""
        row = x.row_of_entry()
        squares = torch.zeros(len(x.offsets), device=x.values.device)
        squares.index_add_(0, row, x.values ** 2)
        unit = x._replace(values=x.values / squares.sqrt().clamp_min(1e-8)[row])
        return self.item_item(x) + self.decoder(torch.tanh(self.encoder(unit)))

    def fit_history(self) -> None:
        weights = dlae_weights(self.interactions(), self.dropout, self.l2)
        with torch.no_grad():
            self.item_item.rows.weight.copy_(weights)
            self.decoder.weight.zero_()
            self.decoder.bias.zero_()

    def score_histories(self, rows: sp.csr_matrix, users: torch.Tensor | None = None
                        ) -> torch.Tensor:
        return self(SparseRows.from_csr(rows, self.decoder.weight.device))

    def parts(self) -> dict[str, nn.Module]:
        return {"user": self.history, "movie": self.item_item, "encoder": self.encoder,
                "decoder": self.decoder}

    # --- the Trainer's "self_supervised" regime -----------------------------------------
    def steps_per_epoch(self, batch_size: int) -> int:
        return -(-self.n_users // batch_size)

    def training_batches(self, batch_size: int, generator: torch.Generator
                         ) -> Iterator[DenoisingBatch]:
        """Every user once, shuffled."""
        order = torch.randperm(self.n_users, generator=generator,
                               device=generator.device).cpu().numpy()
        for first in range(0, len(order), batch_size):
            yield DenoisingBatch(order[first:first + batch_size])

    def batch_loss(self, batch: DenoisingBatch, generator: torch.Generator
                   ) -> tuple[torch.Tensor, int]:
        """Squared error per user on the entries the dropped-out input hides (kept inputs
        are seen movies, which ranking excludes); survivors are scaled by 1 / (1 - p)."""
        device = self.decoder.weight.device
        target = torch.from_numpy(self.interactions(batch.users).toarray()).to(device)
        drawn = torch.rand(target.shape, generator=generator, device=generator.device)
        keep = (drawn.to(device) >= self.dropout) & (target > 0)
        batch.noisy = torch.where(keep, target / (1.0 - self.dropout), 0.0)
        residual = torch.where(keep, 0.0, self(SparseRows.from_dense(batch.noisy)) - target)
        batch.residual = residual.detach()
        return residual.square().sum() / len(batch.users), len(batch.users)

    @torch.no_grad()
    def after_step(self, batch: DenoisingBatch) -> None:
        """One SGD step of the batch's squared error on the rows of B it read."""
        if self.item_item_lr == 0 or batch.noisy is None or batch.residual is None:
            return
        touched = torch.nonzero(batch.noisy.any(dim=0)).ravel()
        self.item_item.rows.weight.index_add_(0, touched, batch.noisy[:, touched].T
                                              @ batch.residual, alpha=-2.0 * self.item_item_lr)

    @torch.no_grad()
    def end_epoch(self) -> None:
        """The l2 gradient of B, once per pass over the users."""
        if self.item_item_lr > 0:
            self.item_item.rows.weight.mul_(1.0 - 2.0 * self.item_item_lr * self.l2)
