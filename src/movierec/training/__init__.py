"""Training: one Trainer for every model, typed configs, tasks (losses) and history."""

from movierec.training.config import LR_SCHEDULES, OPTIMIZERS, TrainConfig
from movierec.training.history import EpochRecord, History
from movierec.training.tasks import BCETask, CrossEntropyTask, MSETask, Task, task_for
from movierec.training.tensors import RatingTensors
from movierec.training.trainer import Trainer, rating_errors

__all__ = [
    "LR_SCHEDULES",
    "OPTIMIZERS",
    "BCETask",
    "CrossEntropyTask",
    "EpochRecord",
    "History",
    "MSETask",
    "RatingTensors",
    "Task",
    "TrainConfig",
    "Trainer",
    "rating_errors",
    "task_for",
]
