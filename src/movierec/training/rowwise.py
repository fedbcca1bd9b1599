"""`RowwiseAdagrad`: Adagrad with one accumulator per table row, the embedding optimiser of
FBGEMM/TorchRec (`EXACT_ROWWISE_ADAGRAD`), which PyTorch itself does not ship.

One float of state per row instead of one per weight, and a step touches only the rows in
the batch: at 162k users x 62k movies that is what keeps a 65k-rating step cheap. It steps
from sparse gradients (autograd and DDP with `sparse=True` embeddings), dense gradients
(every other parameter, each row of a matrix is a "row") or, without autograd, straight
from per-occurrence row gradients (`apply_rows`).
"""

from __future__ import annotations

from collections.abc import Iterable

import torch
from torch import nn


class RowwiseAdagrad(torch.optim.Optimizer):
    """w_r -= lr * g_r / (sqrt(G_r) + eps), with G_r += mean(g_r^2) over the row's columns;
    repeated rows of a batch are summed first (the "exact" variant)."""

    def __init__(self, params: Iterable[nn.Parameter], lr: float = 0.05,
                 eps: float = 1e-8) -> None:
        if not lr > 0 or not eps > 0:
            raise ValueError(f"RowwiseAdagrad needs lr > 0 and eps > 0, got {lr}, {eps}")
        super().__init__(params, {"lr": lr, "eps": eps})
        self._grouped: tuple[torch.Tensor, torch.Tensor, torch.Tensor] | None = None

    @torch.no_grad()
    def step(self, closure: None = None) -> None:  # type: ignore[override]
        for group in self.param_groups:
            for param in group["params"]:
                if param.grad is None:
                    continue
                grad = param.grad
                if grad.is_sparse:
                    grad = grad.coalesce()
                    self._update(param, group, grad.indices()[0], grad.values())
                else:
                    self._update(param, group, None, grad)

    @torch.no_grad()
    def apply_rows(self, param: nn.Parameter, rows: torch.Tensor | None,
                   grad_rows: torch.Tensor) -> None:
        """Step `param` by gradients of row occurrences `rows` (None: the whole parameter);
        a parameter this optimiser does not hold (a frozen one) is left alone."""
        group = self._group_of(param)
        if group is None:
            return
        if rows is None:
            self._update(param, group, None, grad_rows)
            return
        unique, inverse = self._unique(rows)
        summed = grad_rows.new_zeros((len(unique), *grad_rows.shape[1:]))
        summed.index_add_(0, inverse, grad_rows)
        self._update(param, group, unique, summed)

    def _unique(self, rows: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Distinct rows and each occurrence's position among them (no sort when `rows`
        ascend), reused while the same tensor comes back (a user's embedding and bias)."""
        if self._grouped is None or self._grouped[0] is not rows:
            ascending = bool((rows[1:] >= rows[:-1]).all())
            group = torch.unique_consecutive if ascending else torch.unique
            self._grouped = (rows, *group(rows, return_inverse=True))
        return self._grouped[1], self._grouped[2]

    def _group_of(self, param: nn.Parameter) -> dict | None:
        for group in self.param_groups:
            if any(p is param for p in group["params"]):
                return group
        return None

    def _update(self, param: nn.Parameter, group: dict, rows: torch.Tensor | None,
                grad: torch.Tensor) -> None:
        """One row-wise Adagrad step; a row-indexed `grad` is consumed (scaled in place)."""
        table = param.data.view(param.shape[0] if param.dim() else 1, -1)
        state = self.state[param]
        if "sum" not in state:
            state["sum"] = table.new_zeros(table.shape[0])
        total: torch.Tensor = state["sum"]
        grad = grad.reshape(table.shape[0] if rows is None else len(rows), -1)
        mean_square = torch.linalg.vector_norm(grad, dim=1).square_().div_(grad.shape[1])
        if rows is None:
            total.add_(mean_square)
            table.addcdiv_(grad, total.sqrt().add_(group["eps"]).unsqueeze(1),
                           value=-group["lr"])
            return
        total.index_add_(0, rows, mean_square)
        scale = total.index_select(0, rows).sqrt_().add_(group["eps"]).reciprocal_()
        table.index_add_(0, rows, grad.mul_(scale.unsqueeze(1)), alpha=-group["lr"])
