"""Optimiser and learning-rate schedule from a `TrainConfig`."""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from movierec.training.config import TrainConfig


def build_optimizer(params: Sequence[nn.Parameter], config: TrainConfig) -> torch.optim.Optimizer:
    """Adam/AdamW use the fused kernel (one call per step for all tensors)."""
    params = list(params)
    if config.optimizer in ("adam", "adamw"):
        cls = torch.optim.Adam if config.optimizer == "adam" else torch.optim.AdamW
        return cls(params, lr=config.lr, weight_decay=config.weight_decay, eps=config.adam_eps,
                   fused=True)
    if config.optimizer == "sgd":
        return torch.optim.SGD(params, lr=config.lr, momentum=config.momentum,
                               weight_decay=config.weight_decay)
    return torch.optim.Adagrad(params, lr=config.lr, weight_decay=config.weight_decay)


def build_schedule(optimizer: torch.optim.Optimizer, config: TrainConfig,
                   total_steps: int) -> torch.optim.lr_scheduler.LRScheduler | None:
    """Per-batch schedule over the whole run; None for a constant rate."""
    if config.lr_schedule == "onecycle":
        return torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=config.lr,
                                                   total_steps=total_steps)
    if config.lr_schedule == "cosine":
        return torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=total_steps)
    return None
