"""Matrix factorisation: a per-row dot product of user and movie embeddings, plus biases.

One class serves the "dot", "biased-mf" and "biased-mf-bce" presets. It also carries a
no-autograd gradient path (`manual_gradients`): on small data sets per-step autograd
overhead dominates, and the gradients of a dot product are cheap to write down. With
optimizer "per_rating_adagrad" (the dot and biased-mf presets) it trains in a compiled
per-rating loop instead (training/mf_kernel.py), which writes into these tables in place.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import nn

from movierec.errors import ConfigError
from movierec.models.towers import IdTower, IdTowerModel, sigmoid_range

_LOSSES = ("mse", "bce")
# (parameter, row indices or None for all of it, gradient of those rows)
RowGradient = tuple[nn.Parameter, torch.Tensor | None, torch.Tensor]


class GlobalBias(nn.Module):
    """The learned global offset added to every score (the "head" of a factorisation)."""

    def __init__(self) -> None:
        super().__init__()
        self.value = nn.Parameter(torch.zeros(()))


class MatrixFactorization(IdTowerModel):
    """score = <p_u, q_i> [+ b_u + b_i + b] -> identity, sigmoid range (MSE) or logit (BCE).

    `l2` is a per-rating penalty on the batch's embedding rows (Funk-SVD style), so frequent
    users and movies are regularised in proportion to how often they are seen.
    `loss="bce"` returns the logit from `forward`; ratings are then (logit -> sigmoid) scaled
    back to `rating_range` by `predict`.
    """

    default_preset = "biased-mf"

    def __init__(self, n_users: int, n_movies: int, rating_range: tuple[float, float] = (1.0, 5.0),
                 dim: int = 64, biases: bool = True, global_bias: bool = True,
                 sigmoid_range: bool = True, range_margin: float = 0.5, l2: float = 0.0,
                 init_std: float = 0.01, loss: str = "mse") -> None:
        super().__init__(n_users, n_movies, rating_range)
        if loss not in _LOSSES:
            raise ConfigError(f"loss must be one of {', '.join(_LOSSES)}; got {loss!r}")
        if dim < 1:
            raise ConfigError(f"dim must be >= 1; got {dim}")
        self.dim, self.biases, self.global_bias = int(dim), bool(biases), bool(global_bias)
        self.sigmoid_range, self.range_margin = bool(sigmoid_range), float(range_margin)
        self.l2, self.init_std, self.loss = float(l2), float(init_std), loss
        self.loss_name = loss
        self.user = IdTower(n_users, dim, bias=biases, init_std=init_std)
        self.movie = IdTower(n_movies, dim, bias=biases, init_std=init_std)
        self.head = GlobalBias() if global_bias else None

    # --- scoring -------------------------------------------------------------------------
    def _output_range(self) -> tuple[float, float] | None:
        """(low, high) of the sigmoid applied to scores, or None when scores are the output."""
        low, high = self.rating_range
        if self.loss == "bce":
            return None  # forward returns logits; the sigmoid lives in the loss
        if self.sigmoid_range:
            return low - self.range_margin, high + self.range_margin
        return None

    def _logits(self, users: torch.Tensor, movies: torch.Tensor, pu: torch.Tensor,
                qi: torch.Tensor) -> torch.Tensor:
        x = (pu * qi).sum(dim=1)
        if self.user.bias is not None and self.movie.bias is not None:
            x = x + self.user.bias(users)[:, 0] + self.movie.bias(movies)[:, 0]  # sparse-ready
        if self.head is not None:
            x = x + self.head.value
        return x

    def _transform(self, x: torch.Tensor) -> torch.Tensor:
        bounds = self._output_range()
        return x if bounds is None else sigmoid_range(x, *bounds)

    def forward(self, users: torch.Tensor, movies: torch.Tensor) -> torch.Tensor:
        return self._transform(self._logits(users, movies, self.user(users), self.movie(movies)))

    def ratings_from_output(self, output: torch.Tensor) -> torch.Tensor:
        return sigmoid_range(output, *self.rating_range) if self.loss == "bce" else output

    def score(self, users: torch.Tensor) -> torch.Tensor:
        """One matrix product plus biases: [U, n_movies]."""
        x = self.user(users) @ self.movie.embedding.weight.T
        if self.user.bias is not None and self.movie.bias is not None:
            x = x + self.user.bias.weight[users] + self.movie.bias.weight[:, 0]
        if self.head is not None:
            x = x + self.head.value
        low, high = self.rating_range
        return self.ratings_from_output(self._transform(x)).clamp(low, high)

    # --- named views ---------------------------------------------------------------------
    def parts(self) -> dict[str, nn.Module]:
        named: dict[str, nn.Module] = {"user": self.user, "movie": self.movie}
        if self.head is not None:
            named["head"] = self.head
        return named

    # --- training ------------------------------------------------------------------------
    def penalty(self, users: torch.Tensor, movies: torch.Tensor) -> torch.Tensor:
        if self.l2 == 0.0:
            return super().penalty(users, movies)
        sq = self.user(users).square().sum() + self.movie(movies).square().sum()
        return self.l2 * sq / len(users)

    @torch.no_grad()
    def manual_gradients(self, users: torch.Tensor, movies: torch.Tensor,
                         loss_and_grad: Callable[[torch.Tensor], tuple[torch.Tensor, torch.Tensor]]
                         ) -> torch.Tensor:
        """Add d(task loss + penalty)/d(param) into every parameter's `.grad`, without autograd.

        `loss_and_grad(output)` returns the task loss and its gradient w.r.t. `forward`'s output.
        Gradients of rows the batch touches are accumulated with `index_add_`; the result
        equals autograd's (a test checks it). Returns the task loss.
        """
        loss, gradients = self.row_gradients(users, movies, loss_and_grad)
        for param, rows, grad in gradients:
            if rows is None:
                _accumulate_scalar(param, grad)
            else:
                _accumulate(param, rows, grad)
        return loss

    @torch.no_grad()
    def row_gradients(self, users: torch.Tensor, movies: torch.Tensor,
                      loss_and_grad: Callable[[torch.Tensor], tuple[torch.Tensor, torch.Tensor]]
                      ) -> tuple[torch.Tensor, list[RowGradient]]:
        """(task loss, [(parameter, rows, gradient of each row occurrence)]) without autograd.

        Rows may repeat (their gradients add up); rows None means the whole parameter (the
        global bias). Row-wise optimisers step from this directly, never building a
        table-sized gradient.
        """
        pu = self.user.embedding.weight.index_select(0, users)
        qi = self.movie.embedding.weight.index_select(0, movies)
        x = self._logits(users, movies, pu, qi)
        bounds = self._output_range()
        if bounds is None:
            loss, grad_x = loss_and_grad(x)
        else:
            s = torch.sigmoid(x)
            loss, grad_out = loss_and_grad(bounds[0] + (bounds[1] - bounds[0]) * s)
            grad_x = grad_out * (bounds[1] - bounds[0]) * s * (1.0 - s)
        decay = 2.0 * self.l2 / len(users)
        grad_x_col = grad_x.unsqueeze(1)
        grad_pu = grad_x_col * qi
        if decay:
            grad_pu.add_(pu, alpha=decay)
        grad_qi = pu.mul_(grad_x_col)  # pu's buffer is free now: no new [B, dim] tensor
        if decay:
            grad_qi.add_(qi, alpha=decay)
        gradients: list[RowGradient] = [(self.user.embedding.weight, users, grad_pu),
                                        (self.movie.embedding.weight, movies, grad_qi)]
        if self.user.bias is not None and self.movie.bias is not None:
            gradients += [(self.user.bias.weight, users, grad_x_col),
                          (self.movie.bias.weight, movies, grad_x_col)]
        if self.head is not None:
            gradients.append((self.head.value, None, grad_x.sum()))
        return loss, gradients


def _accumulate(table: nn.Parameter, rows: torch.Tensor, grad_rows: torch.Tensor) -> None:
    """grad[rows] += grad_rows (duplicates summed), skipping frozen tables."""
    if not table.requires_grad:
        return
    if table.grad is None:
        table.grad = torch.zeros_like(table)
    table.grad.index_add_(0, rows, grad_rows)


def _accumulate_scalar(param: nn.Parameter, grad: torch.Tensor) -> None:
    if not param.requires_grad:
        return
    if param.grad is None:
        param.grad = torch.zeros_like(param)
    param.grad.add_(grad)
