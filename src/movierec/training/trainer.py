"""`Trainer`: one training loop for every model: tensor batching, validation, early stopping,
freezing, progress and history."""

from __future__ import annotations

import contextlib
import dataclasses
import math
import time
from collections.abc import Iterator, Sequence

import numpy as np
import torch
from torch import nn

from movierec.errors import ConfigError
from movierec.evaluate import metrics
from movierec.models.base import RatingModel, Scorer
from movierec.training.blending import cross_validated_l2, ridge_blend
from movierec.training.config import TrainConfig
from movierec.training.epoch_loop import run_epochs
from movierec.training.freezing import UserRowGuard, frozen_except
from movierec.training.history import EpochRecord, History
from movierec.training.members import MemberJob, MemberResult, run_member_jobs
from movierec.training.optim import build_optimizer, build_schedule
from movierec.training.per_rating import PerRatingEpochs, takes_per_rating_path
from movierec.training.progress import TrainingProgress
from movierec.training.ranking_members import fit_ranking_members
from movierec.training.tasks import CrossEntropyTask, Task, task_for
from movierec.training.tensors import RatingTensors

_EVAL_BLOCK = 1 << 16


@torch.no_grad()
def rating_errors(model: RatingModel, data: RatingTensors) -> tuple[float, float]:
    """(RMSE, MAE) of `model.predict` on `data`, in large blocks, in eval mode."""
    was_training = model.training
    model.eval()
    squared = absolute = 0.0
    for start in range(0, len(data), _EVAL_BLOCK):
        block = slice(start, start + _EVAL_BLOCK)
        error = model.predict(data.users[block], data.movies[block]) - data.ratings[block]
        squared += error.double().square().sum().item()
        absolute += error.double().abs().sum().item()
    model.train(was_training)
    return math.sqrt(squared / len(data)), absolute / len(data)


@torch.no_grad()
def class_accuracy(model: RatingModel, task: CrossEntropyTask, data: RatingTensors) -> float:
    """Share of `data` whose rating class is the model's most probable one, in eval mode."""
    was_training = model.training
    model.eval()
    hits = 0
    for start in range(0, len(data), _EVAL_BLOCK):
        block = slice(start, start + _EVAL_BLOCK)
        predicted = model(data.users[block], data.movies[block]).argmax(dim=1)
        hits += int((predicted == task.classes(data.ratings[block])).sum())
    model.train(was_training)
    return hits / len(data)


def batch_slices(n: int, batch_size: int) -> list[slice]:
    """Consecutive batches; a trailing batch of one row joins the previous one (batch norm
    cannot train on a single row)."""
    starts = list(range(0, n, batch_size))
    if len(starts) > 1 and n - starts[-1] == 1:
        starts.pop()
    return [slice(start, end) for start, end in zip(starts, [*starts[1:], n], strict=True)]


@contextlib.contextmanager
def _sparse_embeddings(model: nn.Module, enabled: bool) -> Iterator[list[nn.Parameter]]:
    """While enabled, every nn.Embedding yields sparse gradients; yields their weights."""
    tables = [m for m in model.modules() if isinstance(m, nn.Embedding)] if enabled else []
    flags = [table.sparse for table in tables]
    for table in tables:
        table.sparse = True
    try:
        yield [table.weight for table in tables]
    finally:
        for table, flag in zip(tables, flags, strict=True):
            table.sparse = flag


@contextlib.contextmanager
def cpu_settings(num_threads: int | None) -> Iterator[None]:
    """Flush denormals (Adam state of rarely seen rows decays into them and slows CPU math
    by orders of magnitude) and optionally pin the thread count; both restored on exit."""
    threads = torch.get_num_threads()
    torch.set_flush_denormal(True)
    if num_threads is not None:
        torch.set_num_threads(num_threads)
    try:
        yield
    finally:
        torch.set_flush_denormal(False)
        torch.set_num_threads(threads)


class Trainer:
    """Trains a `RatingModel` with the loss of `task` (by default from `model.loss_name`).

    Factorisation models with a closed-form gradient (`manual_gradients`) train without
    autograd, which removes most per-step overhead on small data; the result is the same
    gradient (tested against autograd). With optimizer "per_rating_adagrad" they step after
    every rating in a compiled kernel (`per_rating.py`), inside the same epoch loop.
    The model's `training_regime` picks the loop:
    "minibatch" (shuffled rating triples), "full_batch" (the model's `matrix_objective`,
    one L-BFGS step per epoch), "closed_form" (fitted by `observe_ratings` alone: one record,
    no epochs), "self_supervised" (rankers that define their own examples and loss:
    `training_batches` and `batch_loss`), "members" (each member preset with its own
    training defaults, then the blend weights by ridge regression on the validation split)
    or "ranking_members" (a blend of rankers: members, then weights by validation NDCG).
    """

    def __init__(self, model: Scorer, config: TrainConfig, task: Task | None = None) -> None:
        self.model = model
        self.config = config
        self.task = (task if task is not None or not isinstance(model, RatingModel)
                     else task_for(model))

    def fit(self, train: RatingTensors, validation: RatingTensors | None = None, *,
            train_parts: Sequence[str] | None = None,
            trainable_user_rows: torch.Tensor | None = None) -> History:
        """Train; with `validation`, keep the weights of the best validation-RMSE epoch.

        `train_parts` trains only those named parts; `trainable_user_rows` trains only those
        rows of the user tables (fold-in). Everything else stays bit-identical.
        """
        cfg, regime = self.config, self.model.training_regime
        if len(train) == 0:
            raise ValueError("cannot fit on an empty training set")
        if regime != "minibatch" and (train_parts is not None or trainable_user_rows is not None):
            raise ConfigError(f"preset {self.model.preset!r} trains as a whole ({regime}); it "
                              "cannot retrain some parts or fold in users: refit on all ratings")
        if regime == "members":
            return self._fit_members(train, validation)
        if regime == "closed_form":
            return self._fit_closed_form(train, validation)
        if regime == "self_supervised":
            return self._fit_self_supervised(train)
        if regime == "ranking_members":
            return fit_ranking_members(self.model, train, validation,  # type: ignore[arg-type]
                                       self.config)
        if (regime == "full_batch") != (cfg.optimizer == "lbfgs"):
            raise ConfigError(f"preset {self.model.preset!r} trains {regime}; optimizer "
                              f"{cfg.optimizer!r} does not fit it (full-batch models use "
                              "'lbfgs', and only they do)")
        sparse = cfg.optimizer.startswith("sparse_")
        if sparse and trainable_user_rows is not None:
            raise ConfigError(f"optimizer {cfg.optimizer!r} cannot fold in user rows; "
                              "use a dense optimizer such as 'adam' for fold-in")
        torch.manual_seed(cfg.seed)
        np.random.seed(cfg.seed)
        generator = torch.Generator(device=cfg.device).manual_seed(cfg.seed)
        model = self.model.to(cfg.device)
        train = train.to(cfg.device)
        validation = validation.to(cfg.device) if validation is not None else None
        model.observe_ratings(train.users, train.movies, train.ratings)
        full_batch = regime == "full_batch"
        per_rating = takes_per_rating_path(model, cfg, self.task)
        batches = batch_slices(len(train), cfg.batch_size)
        batch_sizes = torch.tensor([b.stop - b.start for b in batches], dtype=torch.float64)
        steps = 1 if full_batch or per_rating else len(batches)
        history = History(n_train=len(train))
        with (cpu_settings(cfg.cpu_threads),
              frozen_except(model, train_parts, trainable_user_rows) as (params, frozen, guard),
              _sparse_embeddings(model, sparse) as sparse_params,
              TrainingProgress(cfg.progress, cfg.epochs, steps) as progress):
            if per_rating:
                kernel = PerRatingEpochs(model, train, validation, cfg, generator, guard)
                optimizer = schedule = None
            else:
                optimizer = build_optimizer(params, cfg, sparse_params)
                schedule = build_schedule(optimizer, cfg, cfg.epochs * steps)

            def train_epoch(epoch: int) -> tuple[float, float]:
                model.train()
                for name in frozen:  # frozen parts keep batch-norm statistics and no dropout
                    model.parts()[name].eval()
                if per_rating:
                    loss = kernel.run()
                    progress.advance()
                elif full_batch:
                    loss = self._run_full_batch_epoch(optimizer, progress)
                else:
                    losses = self._run_epoch(train, generator, optimizer, schedule, guard,
                                             progress)
                    history.batch_losses.extend(losses.tolist())
                    loss = float(losses @ batch_sizes) / len(train)
                return loss, cfg.lr if optimizer is None else optimizer.param_groups[0]["lr"]

            def errors() -> tuple[float | None, float | None, float | None]:
                if not validation:
                    return None, None, None
                rmse, mae = (kernel.validation_errors() if per_rating
                             else rating_errors(model, validation))
                accuracy = (class_accuracy(model, self.task, validation)
                            if isinstance(self.task, CrossEntropyTask) else None)
                return rmse, mae, accuracy

            run_epochs(model, history, progress, epochs=cfg.epochs, train_epoch=train_epoch,
                       errors=errors, patience=cfg.patience)
        model.eval()
        return history

    def _fit_closed_form(self, train: RatingTensors,
                         validation: RatingTensors | None) -> History:
        """Fit from the ratings in one go; the record's train loss is the training MSE."""
        model = self.model.to(self.config.device).eval()
        train = train.to(self.config.device)
        started = time.perf_counter()
        with cpu_settings(self.config.cpu_threads):
            model.observe_ratings(train.users, train.movies, train.ratings, train.timestamps)
            seconds = time.perf_counter() - started
            loss = rmse = mae = None
            if model.predicts_ratings:
                loss = rating_errors(model, train)[0] ** 2
                rmse, mae = (rating_errors(model, validation.to(self.config.device))
                             if validation else (None, None))
        history = History(n_train=len(train), best_epoch=1)
        history.records.append(EpochRecord(1, loss, rmse, mae, seconds, 0.0))
        return history

    def _fit_self_supervised(self, train: RatingTensors) -> History:
        """Store the histories (`observe_ratings`, which may start from a closed form), then
        each epoch steps the optimiser once per batch of the model's own examples; the
        record's loss is the model's mean batch loss. No validation: rankers keep every
        epoch (their epoch counts are chosen on validation splits by the benchmarks)."""
        cfg, model = self.config, self.model.to(self.config.device)
        train = train.to(cfg.device)
        history = History(n_train=len(train))
        with cpu_settings(cfg.cpu_threads):
            torch.manual_seed(cfg.seed)
            generator = torch.Generator(device=cfg.device).manual_seed(cfg.seed)
            model.observe_ratings(train.users, train.movies, train.ratings, train.timestamps)
            params = [p for p in model.parameters() if p.requires_grad]
            optimizer = build_optimizer(params, cfg)
            steps = model.steps_per_epoch(cfg.batch_size)  # type: ignore[operator]
            with TrainingProgress(cfg.progress, cfg.epochs, steps) as progress:
                for epoch in range(1, cfg.epochs + 1):
                    progress.start_epoch(epoch)
                    model.train()
                    started, total, count = time.perf_counter(), 0.0, 0
                    for batch in model.training_batches(cfg.batch_size, generator):  # type: ignore[operator]
                        loss, examples = model.batch_loss(batch, generator)  # type: ignore[operator]
                        optimizer.zero_grad()
                        loss.backward()
                        optimizer.step()
                        model.after_step(batch)  # type: ignore[operator]
                        total, count = total + float(loss.detach()) * examples, count + examples
                        progress.advance()
                    model.end_epoch()  # type: ignore[operator]
                    record = EpochRecord(epoch, total / max(count, 1), None, None,
                                         time.perf_counter() - started,
                                         optimizer.param_groups[0]["lr"])
                    history.records.append(record)
                    progress.end_epoch(record)
        history.best_epoch = len(history.records)
        model.eval()
        return history

    def _run_full_batch_epoch(self, optimizer: torch.optim.Optimizer,
                              progress: TrainingProgress) -> float:
        """One L-BFGS step on the whole stored matrix; returns the loss per observed rating
        at the step's start."""
        count = 1

        def closure() -> torch.Tensor:
            nonlocal count
            optimizer.zero_grad()
            loss, count = self.model.matrix_objective()  # type: ignore[operator]
            loss.backward()
            return loss

        loss = optimizer.step(closure)
        progress.advance()
        return float(loss.detach()) / max(count, 1)

    def _fit_members(self, train: RatingTensors, validation: RatingTensors | None) -> History:
        """Fit each member with its preset's training defaults (and refit it on every rating
        when the ensemble asks), in `member_processes` processes, then blend on validation.

        History: one record per member (its best epoch's losses, all its training seconds),
        then one for the blend. Without validation the blend stays an equal-weight average.
        """
        cfg, model = self.config, self.model
        blending = validation is not None and len(validation) > 0
        refit_on = (train.concat(validation) if blending and model.refit  # type: ignore[attr-defined]
                    else None)
        jobs = [MemberJob(member, self._member_config(member.preset, number), train, validation,
                          refit_on, refit_seed=cfg.seed + number,
                          refit_epochs=model.refit_epochs)  # type: ignore[attr-defined]
                for number, member in enumerate(model.member_models, start=1)]  # type: ignore[attr-defined]
        processes = cfg.member_processes if cfg.device == "cpu" else 1  # no CUDA after fork
        results = run_member_jobs(jobs, processes, self._report_member)
        history = History(n_train=len(train))
        for number, result in enumerate(results, start=1):
            model.member_models[number - 1] = result.member  # type: ignore[attr-defined]
            history.records.append(dataclasses.replace(result.record, epoch=number))
        model.to(cfg.device).eval()
        if not blending:
            history.best_epoch = len(history.records)
            return history
        started = time.perf_counter()
        validation = validation.to(cfg.device)
        model.observe_ratings(train.users, train.movies, train.ratings)  # blend features
        inputs = model.blend_inputs_from(  # type: ignore[attr-defined]
            torch.stack([r.val_predictions for r in results], dim=1).to(cfg.device),
            validation.users, validation.movies)
        l2 = model.blend_l2  # type: ignore[attr-defined]
        if l2 is None:
            l2 = cross_validated_l2(inputs, validation.ratings, seed=cfg.seed)
        model.set_blend(*ridge_blend(inputs, validation.ratings, l2))  # type: ignore[operator]
        predicted = model.blend(inputs)[:, 0].clamp(*model.rating_range).detach().cpu()
        truth = validation.ratings.cpu()
        rmse, mae = metrics.rmse(predicted, truth), metrics.mae(predicted, truth)
        # the blend is fitted on validation: its training loss is the validation MSE
        history.records.append(EpochRecord(len(history.records) + 1, rmse**2, rmse, mae,
                                           time.perf_counter() - started, 0.0))
        history.best_epoch = len(history.records)
        return history

    def _report_member(self, index: int, result: MemberResult) -> None:
        if self.config.progress:
            record = result.record
            score = f"val RMSE {record.val_rmse:.4f}, " if record.val_rmse is not None else ""
            print(f"member {index + 1}/{len(self.model.member_models)} "  # type: ignore[attr-defined]
                  f"{result.member.preset}: {score}{result.chosen_epochs} epochs, "
                  f"{record.seconds:.1f}s", flush=True)

    def _member_config(self, preset: str, number: int) -> TrainConfig:
        """Member `number`'s own preset training defaults, seeded from the ensemble's seed."""
        cfg = self.config
        return TrainConfig.for_preset(preset, seed=cfg.seed + number, progress=False,
                                      device=cfg.device)

    def _run_epoch(self, train: RatingTensors, generator: torch.Generator,
                   optimizer: torch.optim.Optimizer,
                   schedule: torch.optim.lr_scheduler.LRScheduler | None,
                   guard: UserRowGuard | None, progress: TrainingProgress) -> torch.Tensor:
        """One pass over a seeded permutation of `train`; returns each batch's mean task
        loss (float64, on CPU, read once per epoch so steps never wait on the device)."""
        batch_size, model, task = self.config.batch_size, self.model, self.task
        shuffled = train.take(torch.randperm(len(train), generator=generator,
                                             device=train.users.device))
        manual = getattr(model, "manual_gradients", None)
        sparse = self.config.optimizer.startswith("sparse_")
        if sparse or type(task).loss_and_grad is Task.loss_and_grad:  # autograd needed
            manual = None
        losses = []
        for batch in batch_slices(len(shuffled), batch_size):
            users, movies = shuffled.users[batch], shuffled.movies[batch]
            ratings = shuffled.ratings[batch]
            optimizer.zero_grad(set_to_none=sparse)
            if manual is not None:
                loss = manual(users, movies, lambda out, r=ratings: task.loss_and_grad(out, r))
            else:
                loss = task.loss(model(users, movies), ratings)
                (loss + model.penalty(users, movies)).backward()
            if guard is not None:
                guard.mask_gradients()
            optimizer.step()
            if guard is not None:
                guard.restore_frozen_rows()
            if schedule is not None:
                schedule.step()
            losses.append(loss.detach())
            progress.advance()
        return torch.stack(losses).double().cpu()
