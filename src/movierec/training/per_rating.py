"""Per-rating Adagrad epochs for the `Trainer`: factorisation models through the compiled
kernel (`mf_kernel.py`) instead of batched PyTorch steps.

On small data a batched step is mostly per-call overhead; the kernel steps after every
rating, in place on the model's own tables. The `Trainer` keeps its loop (progress,
validation per epoch, early stopping, best epoch restored) and asks this for each epoch.
"""

from __future__ import annotations

import numpy as np
import torch

from movierec.errors import ConfigError
from movierec.models.base import Scorer
from movierec.training.config import TrainConfig
from movierec.training.freezing import UserRowGuard
from movierec.training.mf_kernel import (
    AdagradState,
    FactorTables,
    KernelSettings,
    mf_epoch,
    mf_rating_errors,
    trains,
)
from movierec.training.tasks import Task
from movierec.training.tensors import RatingTensors

PER_RATING = "per_rating_adagrad"
# Adagrad's sums start here rather than at 0: the first steps of a row, and every step of a
# rarely seen one, are damped (a regulariser; 0.1 chosen on validation carves of ml-100k)
DAMPING = 0.1


def takes_per_rating_path(model: Scorer, config: TrainConfig, task: Task | None) -> bool:
    """True when `config` asks for per-rating Adagrad and the kernel trains `model` with its
    own loss (on the CPU); on an accelerator, or with another task, it trains with batched
    Adagrad instead. Models without closed-form row gradients refuse it."""
    if config.optimizer != PER_RATING:
        return False
    if not hasattr(model, "row_gradients"):
        raise ConfigError(f"optimizer {PER_RATING!r} is for the factorisation presets (dot, "
                          f"biased-mf); preset {model.preset!r} trains with a batched one "
                          "such as 'adam'")
    return config.device == "cpu" and trains(model, task)


class PerRatingEpochs:
    """Epochs over `train` in a fresh seeded permutation each, one Adagrad step per rating,
    on `config.num_threads` threads (None: every core). Build it while the model's frozen
    parts have requires_grad off (`frozen_except`): those tables are left as they are."""

    def __init__(self, model: Scorer, train: RatingTensors, validation: RatingTensors | None,
                 config: TrainConfig, generator: torch.Generator,
                 guard: UserRowGuard | None) -> None:
        self.columns = _columns(train)
        self.held = _columns(validation) if validation is not None else None
        self.rating_range = model.rating_range  # type: ignore[attr-defined]
        self.tables = FactorTables.of(model)
        self.state = AdagradState.zeros(self.tables)
        self.settings = KernelSettings.of(model, config.lr, eps=DAMPING)
        self.threads, self.generator, self.guard = config.num_threads, generator, guard

    def run(self) -> float:
        """One epoch; returns the mean task loss of the outputs before each step."""
        n = len(self.columns[2])
        order = torch.randperm(n, generator=self.generator, dtype=torch.int32).numpy()
        total = mf_epoch(*self.columns, order, self.tables, self.state, self.settings,
                         threads=self.threads)
        if self.guard is not None:  # fold-in: rows of users outside it go back
            self.guard.restore_frozen_rows()
        return total / n

    def validation_errors(self) -> tuple[float, float]:
        """(RMSE, MAE) on the validation ratings, as `rating_errors` measures them."""
        if self.held is None:
            raise ValueError("PerRatingEpochs was built without validation ratings")
        return mf_rating_errors(*self.held, self.tables, self.settings, self.rating_range)


def _columns(data: RatingTensors) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(users, movies, ratings) as the kernel takes them: int32, int32, float32 arrays."""
    return (data.users.numpy().astype(np.int32), data.movies.numpy().astype(np.int32),
            np.ascontiguousarray(data.ratings.numpy()))
