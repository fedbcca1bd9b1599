"""`TrainConfig`: typed training options with defaults in code; bad values raise ConfigError."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

from movierec.errors import ConfigError
from movierec.option_types import check_option_types

OPTIMIZERS = ("adagrad", "adam", "adamw", "lbfgs", "per_rating_adagrad", "sgd",
              "sparse_adam", "sparse_sgd")
LR_SCHEDULES = ("cosine", "none", "onecycle")


@dataclass(frozen=True)
class TrainConfig:
    """How to train. `optimizer` "sparse_adam"/"sparse_sgd" give embedding tables sparse
    gradients (only the rows a batch touches move); `patience` = epochs without
    validation-RMSE gain before stopping (None: off); `num_threads` sets torch's CPU threads
    during fit (None: leave as is; 1 avoids thread-spinning slowdowns of small steps on busy
    machines). "lbfgs" is for full-batch models (autoencoders): each epoch is one L-BFGS step
    of up to `lbfgs_iterations` iterations with a strong-Wolfe line search.
    `member_processes`: processes an ensemble fits its members in (None: one per CPU core,
    1: one after another in this process); CPU only, GPU members train one after another.
    "per_rating_adagrad" (factorisation presets only): Adagrad stepped after every rating by
    a compiled loop on the CPU, at a constant `lr`, on `num_threads` threads (None: every
    core); `batch_size` is unused there, and on an accelerator it trains as batched Adagrad."""

    epochs: int = 10
    batch_size: int = 1024
    lr: float = 1e-3
    optimizer: str = "adam"
    weight_decay: float = 0.0
    adam_eps: float = 1e-8
    momentum: float = 0.9
    lr_schedule: str = "none"
    patience: int | None = None
    seed: int = 0
    progress: bool = True
    device: str = "cpu"
    num_threads: int | None = None
    lbfgs_iterations: int = 5
    member_processes: int | None = None

    def __post_init__(self) -> None:
        problems = []
        if self.epochs < 1:
            problems.append(f"epochs must be >= 1 (got {self.epochs})")
        if self.batch_size < 1:
            problems.append(f"batch_size must be >= 1 (got {self.batch_size})")
        if not self.lr > 0:
            problems.append(f"lr must be > 0 (got {self.lr})")
        if self.weight_decay < 0 or self.adam_eps <= 0 or not 0 <= self.momentum < 1:
            problems.append("weight_decay must be >= 0, adam_eps > 0 and momentum in [0, 1)")
        if self.optimizer not in OPTIMIZERS:
            problems.append(f"optimizer must be one of {', '.join(OPTIMIZERS)} "
                            f"(got {self.optimizer!r})")
        if self.lr_schedule not in LR_SCHEDULES:
            problems.append(f"lr_schedule must be one of {', '.join(LR_SCHEDULES)} "
                            f"(got {self.lr_schedule!r})")
        if self.optimizer == "per_rating_adagrad" and self.lr_schedule != "none":
            problems.append(f"optimizer 'per_rating_adagrad' steps at a constant rate: "
                            f"lr_schedule must be 'none' (got {self.lr_schedule!r})")
        if self.patience is not None and self.patience < 1:
            problems.append(f"patience must be >= 1 or None (got {self.patience})")
        if self.num_threads is not None and self.num_threads < 1:
            problems.append(f"num_threads must be >= 1 or None (got {self.num_threads})")
        if self.lbfgs_iterations < 1:
            problems.append(f"lbfgs_iterations must be >= 1 (got {self.lbfgs_iterations})")
        if self.member_processes is not None and self.member_processes < 1:
            problems.append(f"member_processes must be >= 1 or None (got {self.member_processes})")
        if problems:
            raise ConfigError("invalid TrainConfig: " + "; ".join(problems))

    @classmethod
    def from_dict(cls, options: dict[str, Any]) -> TrainConfig:
        """Build from a mapping; unknown keys, and values of the wrong kind, raise ConfigError
        naming them."""
        valid = sorted(f.name for f in dataclasses.fields(cls))
        unknown = sorted(set(options) - set(valid))
        if unknown:
            raise ConfigError(f"unknown training option(s) {', '.join(unknown)}; "
                              f"valid options: {', '.join(valid)}")
        check_option_types(cls, options, "training")
        return cls(**options)

    @classmethod
    def for_preset(cls, preset: str, **overrides: Any) -> TrainConfig:
        """The preset's training defaults with `overrides` applied."""
        from movierec.models.presets import get_preset

        return cls.from_dict({**get_preset(preset).training, **overrides})

    @property
    def cpu_threads(self) -> int | None:
        """Torch threads to pin during fit: `num_threads` on CPU, None (leave as is) on GPU."""
        return self.num_threads if self.device == "cpu" else None

    def replace(self, **changes: Any) -> TrainConfig:
        return dataclasses.replace(self, **changes)
