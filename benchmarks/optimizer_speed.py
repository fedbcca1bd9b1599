"""biased-mf training speed on ml-100k u1, side by side in one process: Surprise's SVD, the
whole `Recommender("biased-mf").fit` (the compiled per-rating kernel), the kernel's epochs
alone, the batched PyTorch path it replaced, and a plain autograd + dense Adam loop.

Ratings/s = ratings trained on x epochs run / wall seconds (Surprise: 80,000 x 20 epochs /
`SVD.fit`; the Recommender rows count their whole `fit` call: id mapping, validation carve,
epochs, validation, fallback biases, seen movies). Each row: one first run (reported apart:
it pays numba's one-off start-up in a fresh process), then the median of `--repeats` fresh
fits, the rows taking turns. u1 RMSE: `predict` on every u1.test row (Surprise: `test`). Writes
benchmarks/results/optimizer_speed.json.

    python benchmarks/optimizer_speed.py [--data-dir ../shared/data/ml-100k] [--repeats 3]

Surprise is a benchmark-only dependency: `pip install -e ".[bench]"` (scikit-surprise);
without it its row is skipped.
"""

from __future__ import annotations

import argparse
import json
import math
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import torch
import torch.nn.functional as F

from movierec import Recommender
from movierec.data import IdMap, load_movielens
from movierec.models import build_model
from movierec.training import RatingTensors, TrainConfig
from movierec.training.trainer import batch_slices

HERE = Path(__file__).resolve().parent
SHARED = HERE.parents[1] / "shared" / "data" / "ml-100k"
# the batched path biased-mf trained with before the kernel: Adam, batch 4096, one-cycle
BATCHED = {"optimizer": "adam", "batch_size": 4096, "lr": 0.03, "adam_eps": 1e-4,
           "lr_schedule": "onecycle"}

Run = Callable[[], tuple[float, int, float]]  # -> (seconds, ratings x epochs, u1 RMSE)


def recommender_run(train: pd.DataFrame, test: pd.DataFrame, epochs_only: bool = False,
                    **options: object) -> Run:
    """A fresh `Recommender("biased-mf", **options).fit(train)`: whole fit seconds, or
    only its epochs' (training, not validation) seconds with `epochs_only`."""
    def run() -> tuple[float, int, float]:
        rec = Recommender("biased-mf", progress=False, **options)
        started = time.perf_counter()
        rec.fit(train)
        seconds = time.perf_counter() - started
        history = rec.history
        if epochs_only:
            seconds = sum(record.seconds for record in history.records)
        return seconds, history.n_train * len(history.records), _rmse(rec.predict(test), test)
    return run


def surprise_run(train: pd.DataFrame, test: pd.DataFrame) -> Run | None:
    """Surprise's SVD with its defaults (100 factors, 20 epochs); None when not installed."""
    try:
        from surprise import SVD, Dataset, Reader
    except ImportError:
        return None
    trainset = Dataset.load_from_df(train[["user_id", "movie_id", "rating"]],
                                    Reader(rating_scale=(1, 5))).build_full_trainset()
    pairs = list(zip(test["user_id"], test["movie_id"], test["rating"], strict=True))

    def run() -> tuple[float, int, float]:
        algo = SVD(random_state=0)
        started = time.perf_counter()
        algo.fit(trainset)
        seconds = time.perf_counter() - started
        predicted = np.array([p.est for p in algo.test(pairs)])
        return seconds, trainset.n_ratings * algo.n_epochs, _rmse(predicted, test)
    return run


def plain_adam_run(train: pd.DataFrame, test: pd.DataFrame) -> Run:
    """The textbook loop: shuffle, forward, MSE + l2, backward, Adam.step, one-cycle; 20
    epochs on all of u1.base, no validation. Its seconds are the epochs'."""
    users = IdMap.from_ids(train["user_id"].to_numpy())
    movies = IdMap.from_ids(train["movie_id"].to_numpy())
    data = RatingTensors(users.to_index(train["user_id"].to_numpy()),
                         movies.to_index(train["movie_id"].to_numpy()),
                         train["rating"].to_numpy(np.float32))
    cfg = TrainConfig.for_preset("biased-mf", progress=False, **BATCHED)

    def run() -> tuple[float, int, float]:
        model = build_model("biased-mf", len(users), len(movies), seed=0)
        optimizer = torch.optim.Adam(model.parameters(), lr=cfg.lr, eps=cfg.adam_eps)
        batches = batch_slices(len(data), cfg.batch_size)
        schedule = torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=cfg.lr,
                                                       total_steps=cfg.epochs * len(batches))
        generator = torch.Generator().manual_seed(0)
        started = time.perf_counter()
        for _ in range(cfg.epochs):
            shuffled = data.take(torch.randperm(len(data), generator=generator))
            for batch in batches:
                u, m = shuffled.users[batch], shuffled.movies[batch]
                optimizer.zero_grad()
                loss = F.mse_loss(model(u, m), shuffled.ratings[batch])
                (loss + model.penalty(u, m)).backward()
                optimizer.step()
                schedule.step()
        seconds = time.perf_counter() - started
        return seconds, len(data) * cfg.epochs, _model_rmse(model, users, movies, test)
    return run


def _rmse(predicted: np.ndarray, test: pd.DataFrame) -> float:
    return float(np.sqrt(np.mean((predicted - test["rating"].to_numpy()) ** 2)))


def _model_rmse(model: torch.nn.Module, users: IdMap, movies: IdMap, test: pd.DataFrame
                ) -> float:
    """RMSE on the test rows whose user and movie the model knows (the others: 3.5)."""
    u = users.to_index(test["user_id"].to_numpy(), missing="negative")
    m = movies.to_index(test["movie_id"].to_numpy(), missing="negative")
    known = (u >= 0) & (m >= 0)
    predicted = np.full(len(test), 3.5, dtype=np.float32)
    with torch.no_grad():
        predicted[known] = model.eval().predict(torch.from_numpy(u[known]),
                                                torch.from_numpy(m[known])).numpy()
    return _rmse(predicted, test)


def measure(runs: dict[str, Run], repeats: int) -> dict[str, dict[str, float]]:
    """Each row's first run, then `repeats` rounds of one run per row (interleaved, so a
    change in machine load hits every row alike); per row the medians of the rounds."""
    first = {name: run()[0] for name, run in runs.items()}
    rounds = [{name: run() for name, run in runs.items()} for _ in range(repeats)]
    results = {}
    for name in runs:
        seconds = statistics.median(r[name][0] for r in rounds)
        updates = statistics.median(r[name][1] for r in rounds)
        results[name] = {"first_seconds": first[name], "seconds": seconds,
                         "rating_updates": updates, "ratings_per_s": updates / seconds,
                         "u1_rmse": rounds[-1][name][2]}
    return results


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, default=SHARED)
    parser.add_argument("--repeats", type=int, default=3, help="timed fits per row (median)")
    parser.add_argument("--json", type=Path, default=HERE / "results" / "optimizer_speed.json")
    args = parser.parse_args()
    if not args.data_dir.exists():
        print(f"skipped: {args.data_dir} not found")
        return 0
    torch.set_num_threads(1)
    train, test = load_movielens("ml-100k", args.data_dir).canonical_folds("u")[0]
    rows: dict[str, Run | None] = {
        "Surprise SVD (100 factors, 20 epochs), SVD.fit": surprise_run(train, test),
        "Recommender('biased-mf').fit, whole fit": recommender_run(train, test),
        "  its kernel epochs alone (1 thread)": recommender_run(train, test, epochs_only=True),
        "Recommender('biased-mf', num_threads=2).fit": recommender_run(train, test,
                                                                       num_threads=2),
        "batched PyTorch path (Adam 4096, one-cycle), fit": recommender_run(train, test,
                                                                            **BATCHED),
        "plain autograd + Adam loop, 20 epochs": plain_adam_run(train, test),
    }
    for name in [name for name, run in rows.items() if run is None]:
        print(f"{name}: skipped (pip install -e '.[bench]' for scikit-surprise)")
    results = measure({name: run for name, run in rows.items() if run is not None},
                      args.repeats)
    surprise = next((r for n, r in results.items() if n.startswith("Surprise")), None)
    print(f"\nml-100k u1, medians of {args.repeats} interleaved rounds after a first run each, "
          "torch 1 thread")
    print(f"{'':52s} {'ratings/s':>12s} {'x Surprise':>10s} {'fit s':>7s} {'first s':>8s} "
          f"{'u1 RMSE':>8s}")
    for name, r in results.items():
        ratio = r["ratings_per_s"] / surprise["ratings_per_s"] if surprise else math.nan
        print(f"{name:52s} {r['ratings_per_s']:12,.0f} {ratio:10.2f} {r['seconds']:7.3f} "
              f"{r['first_seconds']:8.3f} {r['u1_rmse']:8.4f}")
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps({"data": "ml-100k u1", "repeats": args.repeats,
                                     "rows": results}, indent=2) + "\n")
    print(f"wrote {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
