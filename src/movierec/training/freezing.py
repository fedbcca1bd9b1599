"""Freezing: train only some named parts, or only some user rows (fold-in)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager

import torch
from torch import nn

from movierec.errors import ConfigError
from movierec.models.base import RatingModel


class UserRowGuard:
    """Keeps every user-table row outside `rows` bit-identical during fold-in.

    Gradients of other rows are zeroed before each step, and after each step those rows are
    copied back from a snapshot, so weight decay and momentum cannot move them either.
    """

    def __init__(self, model: RatingModel, rows: torch.Tensor) -> None:
        self.tables = [table.weight for table in model.user_tables()]
        rows = torch.as_tensor(rows, dtype=torch.long, device=self.tables[0].device)
        if len(rows) and (rows.min() < 0 or rows.max() >= model.n_users):
            raise ConfigError(f"trainable_user_rows must lie in 0..{model.n_users - 1}")
        mask = torch.zeros(model.n_users, dtype=torch.bool, device=rows.device)
        mask[rows] = True
        self.keep = (~mask).unsqueeze(1)
        self.snapshots = [weight.detach().clone() for weight in self.tables]

    def mask_gradients(self) -> None:
        for weight in self.tables:
            if weight.grad is not None:
                weight.grad.masked_fill_(self.keep, 0.0)

    @torch.no_grad()
    def restore_frozen_rows(self) -> None:
        for weight, snapshot in zip(self.tables, self.snapshots, strict=True):
            torch.where(self.keep, snapshot, weight, out=weight)


def _parameters_of(modules: Sequence[nn.Module]) -> list[nn.Parameter]:
    seen: dict[int, nn.Parameter] = {}
    for module in modules:
        for param in module.parameters():
            seen.setdefault(id(param), param)
    return list(seen.values())


@contextmanager
def frozen_except(model: RatingModel, train_parts: Sequence[str] | None,
                  trainable_user_rows: torch.Tensor | None
                  ) -> Iterator[tuple[list[nn.Parameter], list[str], UserRowGuard | None]]:
    """Within the block only the chosen parameters have requires_grad; yields
    (trainable params, names of frozen parts, row guard or None). Flags are restored on exit."""
    parts = model.parts()
    if train_parts is not None and trainable_user_rows is not None:
        raise ConfigError("give either train_parts or trainable_user_rows, not both")
    if train_parts is not None:
        unknown = sorted(set(train_parts) - set(parts))
        if unknown:
            raise ConfigError(f"unknown part(s) {', '.join(unknown)}; this model's parts: "
                              f"{', '.join(parts)}")
        trainable = _parameters_of([parts[name] for name in train_parts])
        frozen_parts = [name for name in parts if name not in train_parts]
    elif trainable_user_rows is not None:
        trainable = [table.weight for table in model.user_tables()]
        frozen_parts = [name for name in parts if name != "user"]
    else:
        trainable, frozen_parts = list(model.parameters()), []
    guard = UserRowGuard(model, trainable_user_rows) if trainable_user_rows is not None else None
    chosen = {id(p) for p in trainable}
    flags = [(param, param.requires_grad) for param in model.parameters()]
    try:
        for param, _ in flags:
            param.requires_grad_(id(param) in chosen)
        yield trainable, frozen_parts, guard
    finally:
        for param, flag in flags:
            param.requires_grad_(flag)
