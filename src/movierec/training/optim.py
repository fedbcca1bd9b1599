"""Optimiser and learning-rate schedule from a `TrainConfig`."""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from movierec.training.config import TrainConfig


class SplitOptimizer(torch.optim.Optimizer):
    """Two optimisers stepped as one: a sparse one for embedding tables, a dense one for
    the rest. Their param groups are shared, so LR schedules drive both."""

    def __init__(self, *optimizers: torch.optim.Optimizer) -> None:
        self.optimizers = optimizers
        self.param_groups = [group for opt in optimizers for group in opt.param_groups]
        self.defaults = optimizers[0].defaults
        self.state = {}

    def step(self, closure: None = None) -> None:  # type: ignore[override]
        for opt in self.optimizers:
            opt.step()

    def zero_grad(self, set_to_none: bool = True) -> None:
        for opt in self.optimizers:
            opt.zero_grad(set_to_none=True)


def build_optimizer(params: Sequence[nn.Parameter], config: TrainConfig,
                    sparse_params: Sequence[nn.Parameter] = ()) -> torch.optim.Optimizer:
    """Adam/AdamW use the fused kernel (one call per step for all tensors). For the sparse
    optimisers, `sparse_params` (embedding tables with sparse gradients) get SparseAdam or
    plain SGD and every other parameter gets Adam or SGD."""
    params = list(params)
    if config.optimizer.startswith("sparse_"):
        sparse_ids = {id(p) for p in sparse_params}
        sparse = [p for p in params if id(p) in sparse_ids]
        dense = [p for p in params if id(p) not in sparse_ids]
        if config.optimizer == "sparse_sgd":
            return torch.optim.SGD(params, lr=config.lr)  # SGD steps sparse and dense grads
        parts = ([torch.optim.SparseAdam(sparse, lr=config.lr, eps=config.adam_eps)]
                 if sparse else [])
        if dense:
            parts.append(torch.optim.Adam(dense, lr=config.lr, eps=config.adam_eps))
        return parts[0] if len(parts) == 1 else SplitOptimizer(*parts)
    if config.optimizer in ("adam", "adamw"):
        cls = torch.optim.Adam if config.optimizer == "adam" else torch.optim.AdamW
        return cls(params, lr=config.lr, weight_decay=config.weight_decay, eps=config.adam_eps,
                   fused=True)
    if config.optimizer == "lbfgs":
        return torch.optim.LBFGS(params, lr=config.lr, max_iter=config.lbfgs_iterations,
                                 history_size=10, line_search_fn="strong_wolfe")
    if config.optimizer == "sgd":
        return torch.optim.SGD(params, lr=config.lr, momentum=config.momentum,
                               weight_decay=config.weight_decay)
    # "adagrad", and "per_rating_adagrad" where the compiled per-rating loop does not run
    return torch.optim.Adagrad(params, lr=config.lr, weight_decay=config.weight_decay)


def build_schedule(optimizer: torch.optim.Optimizer, config: TrainConfig,
                   total_steps: int) -> torch.optim.lr_scheduler.LRScheduler | None:
    """Per-batch schedule over the whole run; None for a constant rate (always for L-BFGS,
    whose line search sets the step)."""
    if config.optimizer == "lbfgs":
        return None
    if config.lr_schedule == "onecycle":
        # momentum cycling would give sparse SGD a dense momentum buffer: keep it off there
        return torch.optim.lr_scheduler.OneCycleLR(
            optimizer, max_lr=config.lr, total_steps=total_steps,
            cycle_momentum=config.optimizer != "sparse_sgd")
    if config.lr_schedule == "cosine":
        return torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=total_steps)
    return None
