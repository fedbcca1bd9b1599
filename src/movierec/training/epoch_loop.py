"""The one epoch loop of every gradient-trained fit: the `Trainer` (ratings as tensors) and
the `ScaleTrainer` (ratings as columns, checkpoints, DDP) both run their epochs here, each
with its own way of training one epoch, so progress, validation, records, early stopping and
the best weights follow one rule at every size."""

from __future__ import annotations

import copy
import math
import time
from collections.abc import Callable

import torch
from torch import nn

from movierec.training.history import EpochRecord, History
from movierec.training.progress import TrainingProgress

# one epoch: its number -> (mean training loss, learning rate at its end)
TrainEpoch = Callable[[int], tuple[float, float]]
# validation after an epoch: (RMSE, MAE, class accuracy), each None when not measured
Errors = Callable[[], tuple[float | None, float | None, float | None]]


def run_epochs(model: nn.Module, history: History, progress: TrainingProgress, *,
               epochs: int, train_epoch: TrainEpoch, errors: Errors,
               patience: int | None = None, keep_best: bool = True,
               after_epoch: Callable[[], None] | None = None) -> History:
    """Epochs `len(history.records) + 1 .. epochs` (a resumed history goes on from its
    last); `after_epoch` runs after each record (checkpoints). With `keep_best` the model
    ends with the weights of its best validation-RMSE epoch, and `patience` epochs without
    a better one stop early; otherwise it keeps the last epoch's."""
    best_rmse, best_state, stale = math.inf, None, 0
    for epoch in range(len(history.records) + 1, epochs + 1):
        progress.start_epoch(epoch)
        started = time.perf_counter()
        loss, lr = train_epoch(epoch)
        seconds = time.perf_counter() - started
        rmse, mae, accuracy = errors()
        record = EpochRecord(epoch, loss, rmse, mae, seconds, lr, val_accuracy=accuracy)
        history.records.append(record)
        progress.end_epoch(record)
        if after_epoch is not None:
            after_epoch()
        if rmse is None or not keep_best:
            continue
        if rmse < best_rmse:
            best_rmse, best_state, stale = rmse, _snapshot(model), 0
            history.best_epoch = epoch
        else:
            stale += 1
            if patience is not None and stale >= patience:
                break
    if best_state is not None:
        model.load_state_dict(best_state)
    else:
        history.best_epoch = len(history.records)
    return history


def _snapshot(model: nn.Module) -> dict[str, object]:
    """A copy of the model's state dict (tensors cloned: much cheaper than deepcopy)."""
    return {name: value.detach().clone() if isinstance(value, torch.Tensor)
            else copy.deepcopy(value) for name, value in model.state_dict().items()}
