"""Factorisation epochs on an accelerator: the ratings live on the device for the whole fit.

`ScaleTrainer`'s own loop is built for the CPU: a host-side permutation, a thread that
gathers and sorts each batch, a copy per batch, `torch.unique` per table and a `float()` of
every loss. On a GPU each of those makes the device wait for the host (2.7 s per 25M-rating
epoch on an H200, where moving the rows costs ~0.02 s). Here the int32/float32 columns are
uploaded once, each epoch is one permutation drawn on the device (the columns are gathered
through it once, so a batch is a slice), a step is the model's closed-form `row_gradients`
(no autograd) and a row-wise Adagrad update, and the loss is summed on the device and read
once per epoch: no host round trip per batch.

The update is `RowwiseAdagrad`'s, on its own state (checkpoints move between the two paths),
computed without a sort: when a batch touches a good share of a table's rows, `index_add_`
sums each row's occurrences into a table-sized scratch and a few whole-table operations step
every row (an untouched row has a zero gradient, so it and its accumulator stay as they
are). Smaller batches take `RowwiseAdagrad.apply_rows`. The batch size and learning rate are
the caller's, so the held-out RMSE per epoch is that of the CPU path with the same settings.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import torch
from torch import nn

from movierec.data.columnar import RatingColumns
from movierec.models.base import RatingModel
from movierec.training.progress import TrainingProgress
from movierec.training.rowwise import RowwiseAdagrad
from movierec.training.tasks import Task

# A table steps through the whole-table scratch when a batch holds at least this share of
# its row count in row occurrences (below it, the sort in `apply_rows` reads less).
DENSE_SHARE = 0.25


def takes_device_path(model: RatingModel, task: Task, device: torch.device,
                      processes: int) -> bool:
    """True for a factorisation model with closed-form gradients trained by one process on
    an accelerator: the case this module serves."""
    closed_form = type(task).loss_and_grad is not Task.loss_and_grad
    return (device.type != "cpu" and processes == 1 and closed_form
            and hasattr(model, "row_gradients"))


class DeviceMFEpochs:
    """Epochs of `model` over `train`, whose columns are copied to `device` once."""

    def __init__(self, model: RatingModel, task: Task, train: RatingColumns,
                 batch_size: int, device: torch.device | str) -> None:
        if batch_size < 1:
            raise ValueError(f"batch_size must be >= 1, got {batch_size}")
        self.model, self.task, self.batch_size = model, task, int(batch_size)
        self.device = torch.device(device)
        data = train.gather()  # a view's rows as arrays of their own
        self.columns = tuple(torch.tensor(np.asarray(column)).to(self.device)
                             for column in (data.users, data.movies, data.ratings))
        self._scratch: dict[nn.Parameter, torch.Tensor] = {}

    def __len__(self) -> int:
        return len(self.columns[2])

    @property
    def steps(self) -> int:
        """Batches per epoch."""
        return -(-len(self) // self.batch_size)

    def run(self, generator: torch.Generator, optimizer: RowwiseAdagrad,
            progress: TrainingProgress | None = None) -> float:
        """One epoch in an order drawn from `generator` (a CPU generator, so the host's
        checkpointed random state fixes it); returns the mean task loss over the epoch."""
        total = torch.zeros((), dtype=torch.float64, device=self.device)
        groups = {param: group for group in optimizer.param_groups for param in group["params"]}
        for users, movies, ratings in self._batches(generator):
            loss, gradients = self.model.row_gradients(  # type: ignore[attr-defined]
                users, movies, lambda out, r=ratings: self.task.loss_and_grad(out, r))
            for param, rows, grad in gradients:
                if param in groups:  # frozen parameters are not in the optimiser
                    self._update(optimizer, groups[param], param, rows, grad)
            total += loss.detach().double() * len(ratings)
            if progress is not None:
                progress.advance()
        return float(total) / len(self)

    def _batches(self, generator: torch.Generator
                 ) -> Iterator[tuple[torch.Tensor, torch.Tensor, torch.Tensor]]:
        seed = int(torch.randint(0, 2**62, (), generator=generator))
        on_device = torch.Generator(device=self.device).manual_seed(seed)
        order = torch.randperm(len(self), generator=on_device, device=self.device)
        users, movies, ratings = (column[order] for column in self.columns)
        for start in range(0, len(self), self.batch_size):
            batch = slice(start, start + self.batch_size)
            yield users[batch], movies[batch], ratings[batch]

    @torch.no_grad()
    def _update(self, optimizer: RowwiseAdagrad, group: dict, param: nn.Parameter,
                rows: torch.Tensor | None, grad: torch.Tensor) -> None:
        """Row-wise Adagrad of `param` by the gradients of row occurrences `rows`."""
        if rows is None or len(rows) < DENSE_SHARE * param.shape[0]:
            optimizer.apply_rows(param, rows, grad)
            return
        table = param.data.view(param.shape[0], -1)
        state = optimizer.state[param]
        if "sum" not in state:
            state["sum"] = table.new_zeros(table.shape[0])
        total: torch.Tensor = state["sum"]
        scratch = self._scratch.get(param)
        if scratch is None or scratch.shape != table.shape:
            scratch = self._scratch[param] = torch.zeros_like(table)
        scratch.index_add_(0, rows, grad.reshape(len(rows), -1))
        total.add_(torch.linalg.vector_norm(scratch, dim=1).square_().div_(table.shape[1]))
        table.addcdiv_(scratch, total.sqrt().add_(group["eps"]).unsqueeze(1),
                       value=-group["lr"])
        scratch.zero_()
