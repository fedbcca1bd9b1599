"""Fitting a `RankingBlend`: members on most of the training data, blend weights by NDCG@10
on the held-out rest (never on test data), then every member again on all of it."""

from __future__ import annotations

import time

import numpy as np
import torch

from movierec.data import SeenMovies
from movierec.devices import as_index, model_device, to_numpy
from movierec.evaluate.ranking import ranking_metrics
from movierec.models.ranking_blend import RankingBlend
from movierec.training.config import TrainConfig
from movierec.training.history import EpochRecord, History
from movierec.training.members import MemberJob, MemberResult, run_member_jobs
from movierec.training.tensors import RatingTensors

MAX_VALIDATION_USERS = 5000  # weights are chosen on at most this many users' held-out rows
PARALLEL_FROM = 20_000  # ratings from which members fit side by side by default


def holdout_mask(users: np.ndarray, fraction: float, seed: int) -> np.ndarray:
    """Held-out rows: `fraction` of each user's rows at random; users with fewer than 3
    rows keep all of theirs, so every user keeps a history to be scored from."""
    held = np.random.default_rng(seed).random(len(users)) < fraction
    counts = np.bincount(users)
    return held & (counts[users] >= 3)


def fit_ranking_members(model: RankingBlend, train: RatingTensors,
                        validation: RatingTensors | None, config: TrainConfig) -> History:
    """Records: one per member fit on the reduced data, one for the weight search (its
    `val_ndcg`), one per member weighted above 0 refit on all of `train`. With fixed weights
    the members fit once, on all of `train`."""
    history = History(n_train=len(train))
    model.to(config.device)  # the blend's weights beside its members' scores
    candidates = model.candidate_weights()
    if len(candidates) == 1:
        _fit_members(model, train, config, history)
        model.set_weights(candidates[0])
        history.best_epoch = len(history.records)
        return history
    if validation is None or len(validation) == 0:
        held = torch.from_numpy(holdout_mask(to_numpy(train.users), model.weight_holdout,
                                             config.seed)).to(train.users.device)
        part, validation = train.take(~held), train.take(held)
    else:
        part = train
    _fit_members(model, part, config, history)
    started = time.perf_counter()
    weights, ndcg = _choose_weights(model, part, validation, candidates, config.seed)
    model.set_weights(weights)
    history.records.append(EpochRecord(len(history.records) + 1, None, None, None,
                                       time.perf_counter() - started, 0.0, float(ndcg)))
    if part is not train:  # a member weighted 0 is never asked for scores: not refitted
        _fit_members(model, train, config, history, only=[w > 0 for w in weights])
    history.best_epoch = len(history.records)
    return history


def _fit_members(model: RankingBlend, data: RatingTensors, config: TrainConfig,
                 history: History, only: list[bool] | None = None) -> None:
    """Fit every member (or those flagged in `only`) on `data`, one History record each, in
    `member_processes` processes (None: one per core from PARALLEL_FROM ratings, else one).
    Members train on one torch thread each, so side by side they give the same weights."""
    numbers = [n for n in range(1, len(model.member_models) + 1) if only is None or only[n - 1]]
    jobs = [MemberJob(model.member_models[n - 1], TrainConfig.for_preset(
                model.member_models[n - 1].preset,
                **{"seed": config.seed + n, "progress": False, "device": config.device,
                   **model.member_training[n - 1]}), data, None)
            for n in numbers]
    processes = config.member_processes
    if config.device != "cpu" or (processes is None and len(data) < PARALLEL_FROM):
        processes = 1  # no CUDA after fork; small fits are quicker than starting workers

    def report(index: int, result: MemberResult) -> None:
        if config.progress:
            print(f"member {numbers[index]}/{len(model.member_models)} "
                  f"{result.member.preset}: {result.record.seconds:.1f}s", flush=True)

    for number, result in zip(numbers, run_member_jobs(jobs, processes, report), strict=True):
        model.member_models[number - 1] = result.member
        history.records.append(EpochRecord(len(history.records) + 1, None, None, None,
                                           result.record.seconds, 0.0))


def _choose_weights(model: RankingBlend, part: RatingTensors, validation: RatingTensors,
                    candidates: list[tuple[float, ...]], seed: int
                    ) -> tuple[tuple[float, ...], float]:
    """The candidate with the best NDCG@10 on `validation` (seen = `part`); ties go to the
    first candidate."""
    val_users, val_movies = to_numpy(validation.users), to_numpy(validation.movies)
    users = np.unique(val_users)
    if len(users) > MAX_VALIDATION_USERS:
        users = np.sort(np.random.default_rng(seed).choice(users, MAX_VALIDATION_USERS,
                                                           replace=False))
    keep = np.isin(val_users, users)
    row_of = np.full(model.n_users, -1)
    row_of[users] = np.arange(len(users))
    blocks = np.array_split(users, max(1, len(users) // 1024))
    scores = torch.empty(len(model.member_models), len(users), model.n_movies,
                         device=model.blend_weights.device)
    with torch.no_grad():
        model.eval()
        for block in blocks:
            rows = as_index(row_of[block], scores.device)
            for member, member_scores in enumerate(
                    model.member_scores(as_index(block, model_device(model)))):
                scores[member, rows] = member_scores
    # seen movies are masked once here, not per candidate: -inf in every member's scores
    # blends to -inf (or NaN where a weight is 0), which the one top-k rule never lists
    seen = SeenMovies.from_indices(to_numpy(part.users), to_numpy(part.movies), model.n_users,
                                   model.n_movies)
    rows, cols = seen.seen_positions(users)
    scores[:, as_index(rows, scores.device), as_index(cols, scores.device)] = -torch.inf
    best, best_ndcg = candidates[0], -1.0
    for weights in candidates:
        blended = torch.tensordot(torch.tensor(weights, dtype=scores.dtype,
                                               device=scores.device), scores, dims=1)
        ndcg = ranking_metrics(lambda b, s=blended: s[as_index(row_of[b], s.device)],
                               val_users[keep], val_movies[keep],
                               model.n_movies, seen=None, ks=(10,))["ndcg@10"]
        if ndcg > best_ndcg + 1e-12:
            best, best_ndcg = weights, ndcg
    return best, best_ndcg
