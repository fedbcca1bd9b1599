"""Factorisation epochs over `RatingColumns` through the compiled kernel (`mf_kernel.py`).

The kernel visits ratings one by one; at tens of millions of ratings its time goes to
fetching table rows from memory. A random permutation reads the tables at random (7.5 s a
25M-rating epoch on two cores); here each epoch deals the ratings into random blocks and
visits every block in stored order, so ratings grouped by user read the user table in
ascending rows (4.5 s) while each epoch still sees the ratings in a new order. No torch
optimiser is built (the first one a process builds imports torch._dynamo: seconds); the
kernel's Adagrad sums are this object's state, for checkpoints.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import torch

from movierec.data.columnar import RatingColumns
from movierec.models.base import RatingModel
from movierec.training.mf_kernel import (
    AdagradState,
    FactorTables,
    KernelSettings,
    mf_epoch,
    trains,
)
from movierec.training.per_rating import DAMPING
from movierec.training.progress import TrainingProgress
from movierec.training.tasks import Task

BLOCKS = 64  # blocks an epoch deals the ratings into (at most 256: one byte per rating)
_CHUNK = 1 << 21  # ratings per kernel call (the progress bar moves once per call)
_SLICE = 1 << 22  # rows dealt into blocks at a time


def takes_kernel_path(model: RatingModel, task: Task, device: torch.device,
                      processes: int) -> bool:
    """True for a model the kernel trains (`covers`: factorisation, MSE or BCE) with its own
    loss, in one process on the CPU."""
    return device.type == "cpu" and processes == 1 and trains(model, task)


def block_order(columns: RatingColumns, generator: torch.Generator,
                blocks: int = BLOCKS) -> np.ndarray:
    """int32 positions of `columns`' rows: each row dealt into one of `blocks` random blocks,
    blocks one after another, rows of a block in stored order. Built a slice of rows at a
    time (a stable radix sort of its block numbers), so no int64 index of every row."""
    keys = torch.randint(0, blocks, (len(columns),), generator=generator,
                         dtype=torch.uint8).numpy()
    slices = [slice(start, start + _SLICE) for start in range(0, len(keys), _SLICE)]
    counts = np.stack([np.bincount(keys[part], minlength=blocks) for part in slices])
    # where (block b, slice s) starts: every earlier block, then block b of earlier slices
    starts = (np.cumsum(counts.sum(axis=0)) - counts.sum(axis=0))[None, :] + (
        np.cumsum(counts, axis=0) - counts)
    order = np.empty(len(keys), dtype=np.int32)
    for s, part in enumerate(slices):
        rows = np.argsort(keys[part], kind="stable") + part.start
        if columns.rows is not None:
            rows = columns.rows[rows]
        ends = np.cumsum(counts[s])
        for b in range(blocks):
            order[starts[s, b]:starts[s, b] + counts[s, b]] = rows[ends[b] - counts[s, b]:ends[b]]
    return order


class KernelEpochs:
    """Epochs of a `MatrixFactorization` over `train` with the kernel's Adagrad at `lr`, on
    `threads` threads (None: every core)."""

    def __init__(self, model: RatingModel, train: RatingColumns, lr: float,
                 threads: int | None = None) -> None:
        self.train, self.threads, self.lr = train, threads, lr
        self.arrays = tuple(np.asarray(a) for a in (train.users, train.movies, train.ratings))
        self.tables = FactorTables.of(model)
        self.state = AdagradState.zeros(self.tables)
        self.settings = KernelSettings.of(model, lr, eps=DAMPING)  # the Trainer's arithmetic
        self.steps = -(-len(train) // _CHUNK)

    def run(self, generator: torch.Generator, progress: TrainingProgress | None = None
            ) -> float:
        """One epoch; returns the mean task loss of the outputs before each update."""
        order = block_order(self.train, generator)
        sse = 0.0
        for start in range(0, len(order), _CHUNK):
            sse += mf_epoch(*self.arrays, order[start:start + _CHUNK], self.tables, self.state,
                            self.settings, threads=self.threads)
            if progress is not None:
                progress.advance()
        return sse / len(order)

    def state_dict(self) -> dict[str, torch.Tensor]:
        return {f.name: torch.from_numpy(getattr(self.state, f.name))
                for f in dataclasses.fields(self.state)}

    def load_state_dict(self, state: dict[str, torch.Tensor]) -> None:
        for f in dataclasses.fields(self.state):
            getattr(self.state, f.name)[...] = state[f.name].numpy()
