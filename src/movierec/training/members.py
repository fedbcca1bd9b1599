"""Fitting an ensemble's members: each member's own training, its validation predictions and
its refit on every rating, one job per member, in worker processes when there are cores.
Ranking blends use the same jobs without validation ratings (training only).

A member trains with its preset's own settings (one torch thread for the autoencoders), so
running members side by side in forked processes gives bit-identical weights to running them
one after another, in less wall time.
"""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass

import torch

from movierec.devices import model_device
from movierec.models.base import Scorer
from movierec.models.presets import build_model
from movierec.training.config import TrainConfig
from movierec.training.history import EpochRecord
from movierec.training.tensors import RatingTensors


@dataclass
class MemberJob:
    """One member to fit: `config` is its preset's training config (seeded). With `refit_on`
    it then trains on those ratings: without `refit_epochs`, from a fresh `refit_seed`
    initialisation for the epoch count its validation curve chose; with it, for that many
    more epochs from its best validation weights (fine-tuning, much cheaper)."""

    member: Scorer
    config: TrainConfig
    train: RatingTensors
    validation: RatingTensors | None
    refit_on: RatingTensors | None = None
    refit_seed: int = 0
    refit_epochs: int | None = None


@dataclass
class MemberResult:
    """The fitted (or refitted) member, its validation predictions before any refit, the
    record of its best validation epoch (seconds: all its training) and that epoch."""

    member: Scorer
    val_predictions: torch.Tensor | None
    record: EpochRecord
    chosen_epochs: int


def fit_member(job: MemberJob) -> MemberResult:
    """Train, predict the validation ratings, then refit when asked (see `MemberJob`)."""
    from movierec.training.trainer import Trainer  # the trainer runs this module's jobs

    member = job.member
    history = Trainer(member, job.config).fit(job.train, job.validation)
    epochs = history.best_epoch or len(history.records)
    predictions = None
    if job.validation is not None and len(job.validation):
        validation = job.validation.to(model_device(member))
        with torch.no_grad():
            predictions = member.predict(validation.users, validation.movies)
    seconds = history.train_seconds
    if job.refit_on is not None:
        more = job.refit_epochs
        if more is None:
            member = build_model(member.preset, member.n_users, member.n_movies,
                                 member.rating_range, seed=job.refit_seed)
        refit = Trainer(member, job.config.replace(epochs=more or epochs, patience=None))
        seconds += refit.fit(job.refit_on).train_seconds
    best = history.records[epochs - 1]
    record = EpochRecord(0, best.train_loss, best.val_rmse, best.val_mae, seconds, best.lr)
    return MemberResult(member, predictions, record, epochs)


def worker_count(requested: int | None, jobs: int) -> int:
    """Processes to use: `requested`, or one per CPU core; never more than there are jobs."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return max(1, min(requested or cores or 1, jobs))


def _one_thread() -> None:
    torch.set_num_threads(1)  # members train on one thread; a forked OpenMP pool must not spin


def run_member_jobs(jobs: list[MemberJob], processes: int | None,
                    on_done: Callable[[int, MemberResult], None] | None = None,
                    ) -> list[MemberResult]:
    """Every job's result in job order; `on_done(index, result)` as each one finishes."""
    workers = worker_count(processes, len(jobs))
    results: list[MemberResult | None] = [None] * len(jobs)
    for index, result in _results(jobs, workers):
        results[index] = result
        if on_done is not None:
            on_done(index, result)
    return [r for r in results if r is not None]


def _results(jobs: list[MemberJob], workers: int) -> Iterator[tuple[int, MemberResult]]:
    if workers == 1:
        for index, job in enumerate(jobs):
            yield index, fit_member(job)
        return
    # fork shares the parent's imports and needs no `__main__` guard in the caller's script
    method = "fork" if "fork" in multiprocessing.get_all_start_methods() else "spawn"
    with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context(method),
                             initializer=_one_thread) as pool:
        # largest members first (a proxy for their cost), so no big one starts last
        order = sorted(range(len(jobs)), key=lambda i: -_parameter_count(jobs[i].member))
        futures = {pool.submit(fit_member, jobs[index]): index for index in order}
        for future in as_completed(futures):
            yield futures[future], future.result()


def _parameter_count(model: torch.nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())
