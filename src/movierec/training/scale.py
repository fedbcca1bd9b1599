"""`ScaleTrainer`: epochs over tens of millions of ratings held as `RatingColumns`.

What makes it fast and small: int32/float32 columns (memory-mapped when loaded that way, a
train part or validation carve is an index into them), and one of three epoch strategies:

- factorisation models on the CPU in one process: the compiled per-rating kernel
  (`mf_kernel.py`), visiting the ratings in random blocks and, inside a block, in stored
  order, so with ratings grouped by user the tables are read in ascending rows;
- factorisation models on an accelerator: `device_mf.py` (ratings resident on the device);
- every other model, and DDP: big batches gathered through a per-epoch int32 permutation
  (no shuffled copy) and sorted by user, row-wise Adagrad that touches only the batch's rows,
  closed-form gradients where the model has them (else autograd); a background thread
  gathers the next batch while the current one trains.

All three step the same `RowwiseAdagrad` state (the kernel writes into its accumulators),
so checkpoints carry over. It checkpoints after every epoch (model, optimiser, random
state, history) and resumes from the last one. Under torchrun the model trains as
DistributedDataParallel: each process takes its share of every global batch, and gradients
are averaged over processes.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Protocol

import numpy as np
import torch
from torch import nn
from torch.nn.parallel import DistributedDataParallel

from movierec.data.columnar import RatingColumns
from movierec.errors import ConfigError
from movierec.models.base import RatingModel
from movierec.training.device_mf import DeviceMFEpochs, takes_device_path
from movierec.training.distributed import World
from movierec.training.epoch_loop import run_epochs
from movierec.training.history import History
from movierec.training.kernel_epochs import KernelEpochs, takes_kernel_path
from movierec.training.progress import TrainingProgress
from movierec.training.rowwise import RowwiseAdagrad
from movierec.training.tasks import Task, task_for
from movierec.training.tensors import RatingTensors
from movierec.training.trainer import rating_errors

CHECKPOINT = "checkpoint.pt"
KERNEL_LR, BATCH_LR = 0.1, 0.05  # see ScaleConfig


@dataclass(frozen=True)
class ScaleConfig:
    """Training at scale: `batch_size` is the global batch (split over processes), `lr`
    the Adagrad rate, None for the strategy's own (chosen on validation carves of synthetic
    5M and 25M sets: 0.1 per weight in the kernel, 0.05 row-wise on batches), `num_threads`
    torch's and the kernel's CPU threads per process, `device` "cpu" or "cuda" (under
    torchrun each process takes the GPU of its local rank). `kernel=False` trains
    factorisation models on batches even where the kernel could (the arithmetic of several
    processes, for comparisons)."""

    epochs: int = 5
    batch_size: int = 65_536
    lr: float | None = None
    seed: int = 0
    num_threads: int | None = None
    progress: bool = True
    device: str = "cpu"
    kernel: bool = True

    def __post_init__(self) -> None:
        if self.epochs < 1 or self.batch_size < 1 or not (self.lr is None or self.lr > 0):
            raise ConfigError(f"invalid ScaleConfig: need epochs >= 1, batch_size >= 1 and "
                              f"lr > 0, got {self}")
        if self.num_threads is not None and self.num_threads < 1:
            raise ConfigError(f"num_threads must be >= 1 or None (got {self.num_threads})")


@dataclass
class _Batch:
    users: torch.Tensor
    movies: torch.Tensor
    ratings: torch.Tensor

    def to(self, device: torch.device) -> _Batch:
        if device.type == "cpu":
            return self
        return _Batch(*(t.to(device, non_blocking=True)
                        for t in (self.users, self.movies, self.ratings)))


class ScaleTrainer:
    """Trains a `RatingModel` on `RatingColumns`; see the module docstring."""

    def __init__(self, model: RatingModel, config: ScaleConfig, *, world: World | None = None,
                 checkpoints: str | Path | None = None, task: Task | None = None) -> None:
        self.model, self.config = model, config
        self.world = world or World()
        self.checkpoints = Path(checkpoints) if checkpoints is not None else None
        self.task = task if task is not None else task_for(model)

    def fit(self, train: RatingColumns, validation: RatingColumns | None = None, *,
            resume: bool = False) -> History:
        """Train `config.epochs` epochs (counting those already in a resumed checkpoint)."""
        cfg = self.config
        self.device = self.world.device(cfg.device)
        model = self.model.to(self.device)
        if len(train) < self.world.size:
            raise ValueError(f"cannot fit {len(train)} ratings on {self.world.size} processes")
        torch.manual_seed(cfg.seed)
        generator = torch.Generator().manual_seed(cfg.seed)
        val = None
        if validation is not None and len(validation):
            held = validation.gather()
            val = RatingTensors(torch.from_numpy(np.asarray(held.users, np.int64)),
                                torch.from_numpy(np.asarray(held.movies, np.int64)),
                                torch.from_numpy(np.asarray(held.ratings))).to(self.device)
        with _threads(cfg.num_threads), self._epochs(model, train) as epochs:
            history = (self._restore(epochs, generator) if resume else None) or History(
                n_train=len(train))

            def train_epoch(epoch: int) -> tuple[float, float]:
                model.train()
                return epochs.run(generator, progress), epochs.lr

            def errors() -> tuple[float | None, float | None, None]:
                return (*rating_errors(model, val), None) if val is not None else (None,) * 3

            with TrainingProgress(cfg.progress and self.world.is_main, cfg.epochs,
                                  epochs.steps) as progress:
                run_epochs(model, history, progress, epochs=cfg.epochs, train_epoch=train_epoch,
                           errors=errors, keep_best=False,  # checkpoints hold the last epoch
                           after_epoch=lambda: self._save_checkpoint(epochs, generator, history))
        model.eval()
        return history

    @contextlib.contextmanager
    def _epochs(self, model: RatingModel, train: RatingColumns) -> Iterator[_Epochs]:
        """The epoch strategy for this model, device and world (see the module docstring).
        Only the batched ones build a torch optimiser (its first one imports torch._dynamo:
        seconds)."""
        cfg, world = self.config, self.world
        if cfg.kernel and takes_kernel_path(model, self.task, self.device, world.size):
            yield KernelEpochs(model, train, cfg.lr or KERNEL_LR, cfg.num_threads)
            return
        optimizer = RowwiseAdagrad([p for p in model.parameters() if p.requires_grad],
                                   lr=cfg.lr or BATCH_LR)
        if takes_device_path(model, self.task, self.device, world.size):
            yield _OnDevice(DeviceMFEpochs(model, self.task, train.gather(), cfg.batch_size,
                                           self.device), optimizer)
            return
        with _trainable(model, world, self.task, self.device) as step:
            yield _BatchEpochs(train, step, self.task, world, cfg.batch_size, self.device,
                               optimizer)

    # ----------------------------------------------------------------- checkpoints
    def _save_checkpoint(self, epochs: _Epochs, generator: torch.Generator,
                         history: History) -> None:
        """checkpoint.pt written to a temporary name and renamed (rank 0 only)."""
        if self.checkpoints is None or not self.world.is_main:
            return
        self.checkpoints.mkdir(parents=True, exist_ok=True)
        state = {"model_config": self.model.config(), "scale_config": asdict(self.config),
                 "model": self.model.state_dict(), "strategy": type(epochs).__name__,
                 "optimizer": epochs.state_dict(), "generator": generator.get_state(),
                 "history": history.to_dict()}
        fd, tmp = tempfile.mkstemp(prefix=".checkpoint.", dir=self.checkpoints)
        os.close(fd)
        try:
            torch.save(state, tmp)
            os.replace(tmp, self.checkpoints / CHECKPOINT)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    def _restore(self, epochs: _Epochs, generator: torch.Generator) -> History | None:
        """Load the last checkpoint into model, optimiser state and generator; None if there
        is none."""
        path = self.checkpoints / CHECKPOINT if self.checkpoints is not None else None
        if path is None or not path.is_file():
            return None
        state = torch.load(path, weights_only=True, map_location="cpu")
        if state["model_config"] != self.model.config():
            raise ConfigError(f"{path} was written for model {state['model_config']}, not "
                              f"{self.model.config()}; use another checkpoint folder")
        if state.get("strategy", "_BatchEpochs") != type(epochs).__name__:
            raise ConfigError(f"{path} was written by {state.get('strategy')}, which keeps "
                              f"other optimiser state than {type(epochs).__name__}; resume "
                              "with the same processes, device and kernel setting")
        self.model.load_state_dict(state["model"])
        epochs.load_state_dict(state["optimizer"])
        generator.set_state(state["generator"])
        return History.from_dict(state["history"])


class _Epochs(Protocol):
    """One epoch strategy: `steps` progress steps per epoch, `run` returns the mean loss,
    and the optimiser state it keeps goes into checkpoints."""

    steps: int
    lr: float

    def run(self, generator: torch.Generator, progress: TrainingProgress | None = None
            ) -> float: ...

    def state_dict(self) -> dict: ...

    def load_state_dict(self, state: dict) -> None: ...


class _WithOptimizer:
    """Strategies whose state is a `RowwiseAdagrad`'s."""

    optimizer: RowwiseAdagrad

    @property
    def lr(self) -> float:
        return self.optimizer.param_groups[0]["lr"]

    def state_dict(self) -> dict:
        return self.optimizer.state_dict()

    def load_state_dict(self, state: dict) -> None:
        self.optimizer.load_state_dict(state)


class _OnDevice(_WithOptimizer):
    """`DeviceMFEpochs` (factorisation on an accelerator) with its optimiser."""

    def __init__(self, epochs: DeviceMFEpochs, optimizer: RowwiseAdagrad) -> None:
        self.epochs, self.optimizer = epochs, optimizer
        self.steps = -(-len(epochs) // epochs.batch_size)

    def run(self, generator: torch.Generator, progress: TrainingProgress | None = None
            ) -> float:
        return self.epochs.run(generator, self.optimizer, progress)


class _BatchEpochs(_WithOptimizer):
    """Global batches gathered from the columns through a per-epoch permutation, each
    process training on its share with `step`."""

    def __init__(self, train: RatingColumns, step: _Step, task: Task, world: World,
                 batch_size: int, device: torch.device, optimizer: RowwiseAdagrad) -> None:
        self.train, self.step, self.task, self.world = train, step, task, world
        self.batch_size, self.device, self.optimizer = batch_size, device, optimizer
        self.steps = len(_batch_bounds(len(train), batch_size, world.size))

    def run(self, generator: torch.Generator, progress: TrainingProgress | None = None
            ) -> float:
        train, world = self.train, self.world
        order = torch.randperm(len(train), generator=generator, dtype=torch.int32).numpy()
        if train.rows is not None:
            order = train.rows[order]
        bounds = _batch_bounds(len(order), self.batch_size, world.size)
        total = count = 0.0
        with ThreadPoolExecutor(1) as pool:  # gathers batch i+1 while batch i trains
            pending = pool.submit(_gather, train, order[slice(*bounds[0])], world)
            for i in range(len(bounds)):
                batch = pending.result().to(self.device)
                if i + 1 < len(bounds):
                    pending = pool.submit(_gather, train, order[slice(*bounds[i + 1])], world)
                loss = self.step(batch, self.task, self.optimizer)
                total += loss * len(batch.ratings)
                count += len(batch.ratings)
                if progress is not None:
                    progress.advance()
        return world.all_sum(total) / world.all_sum(count)


class _Step:
    """One training step on a batch; returns the batch's mean task loss."""

    def __call__(self, batch: _Batch, task: Task, optimizer: RowwiseAdagrad) -> float:
        raise NotImplementedError


class _ClosedFormStep(_Step):
    """Factorisation models: closed-form row gradients straight into the optimiser."""

    def __init__(self, model: RatingModel) -> None:
        self.model = model

    def __call__(self, batch: _Batch, task: Task, optimizer: RowwiseAdagrad) -> float:
        loss, gradients = self.model.row_gradients(  # type: ignore[attr-defined]
            batch.users, batch.movies, lambda out: task.loss_and_grad(out, batch.ratings))
        for param, rows, grad in gradients:
            optimizer.apply_rows(param, rows, grad)
        return float(loss)


class _AutogradStep(_Step):
    """Any model (or its DistributedDataParallel wrapper): backward, then a step."""

    def __init__(self, module: nn.Module, model: RatingModel) -> None:
        self.module, self.model = module, model

    def __call__(self, batch: _Batch, task: Task, optimizer: RowwiseAdagrad) -> float:
        optimizer.zero_grad(set_to_none=True)
        loss = task.loss(self.module(batch.users, batch.movies), batch.ratings)
        (loss + self.model.penalty(batch.users, batch.movies)).backward()
        optimizer.step()
        return float(loss.detach())


@contextlib.contextmanager
def _trainable(model: RatingModel, world: World, task: Task,
               device: torch.device) -> Iterator[_Step]:
    """The step for this model and world; embeddings give sparse gradients meanwhile."""
    closed_form = type(task).loss_and_grad is not Task.loss_and_grad
    if world.size == 1 and closed_form and hasattr(model, "row_gradients"):
        yield _ClosedFormStep(model)
        return
    tables = [m for m in model.modules() if isinstance(m, nn.Embedding)]
    flags = [t.sparse for t in tables]
    for table in tables:
        table.sparse = True
    try:
        module: nn.Module = model
        if world.size > 1:
            ids = [device.index] if device.type == "cuda" else None
            module = DistributedDataParallel(model, device_ids=ids)
        yield _AutogradStep(module, model)
    finally:
        for table, flag in zip(tables, flags, strict=True):
            table.sparse = flag


def _batch_bounds(n: int, batch_size: int, processes: int) -> list[tuple[int, int]]:
    """(start, end) of each global batch; a last batch too small to give every process a
    row joins the one before it."""
    starts = list(range(0, n, batch_size))
    if len(starts) > 1 and n - starts[-1] < processes:
        starts.pop()
    return list(zip(starts, [*starts[1:], n], strict=True))


def _gather(train: RatingColumns, rows: np.ndarray, world: World) -> _Batch:
    """This process's share of a global batch (`rows`: positions in the stored arrays),
    sorted by user (sequential table access)."""
    rows = rows[world.rank::world.size]
    users = torch.from_numpy(np.asarray(train.users[rows], dtype=np.int64))
    users, order = torch.sort(users)
    keep = order.numpy()
    return _Batch(users, torch.from_numpy(np.asarray(train.movies[rows][keep], dtype=np.int64)),
                  torch.from_numpy(np.asarray(train.ratings[rows][keep])))


@contextlib.contextmanager
def _threads(num_threads: int | None) -> Iterator[None]:
    threads = torch.get_num_threads()
    if num_threads is not None:
        torch.set_num_threads(num_threads)
    try:
        yield
    finally:
        torch.set_num_threads(threads)
