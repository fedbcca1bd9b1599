"""Accuracy and speed of the model presets on the canonical ml-100k folds u1..u5.

Trains on uN.base (5% of it, seeded, held out for early stopping), reports RMSE/MAE on uN.test.
Usage: python benchmarks/biased_mf_speed.py [--data DIR] [--presets biased-mf,mlp-tiny]
       [--folds 1,2,3,4,5]
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import pandas as pd
import torch

from movierec.models import build_model
from movierec.training import RatingTensors, TrainConfig, Trainer, rating_errors

DEFAULT_DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "ml-100k"


def read_fold(path: Path) -> pd.DataFrame:
    return pd.read_csv(path, sep="\t", names=["user_id", "movie_id", "rating", "timestamp"])


def to_tensors(frame: pd.DataFrame, users: pd.Index, movies: pd.Index) -> RatingTensors:
    return RatingTensors(torch.as_tensor(users.get_indexer(frame.user_id)),
                         torch.as_tensor(movies.get_indexer(frame.movie_id)),
                         torch.as_tensor(frame.rating.to_numpy(np.float32)))


def run_fold(data: Path, fold: int, preset: str, seed: int = 0) -> dict:
    base, test = read_fold(data / f"u{fold}.base"), read_fold(data / f"u{fold}.test")
    users = pd.Index(sorted(set(base.user_id) | set(test.user_id)))
    movies = pd.Index(sorted(set(base.movie_id) | set(test.movie_id)))
    train = to_tensors(base, users, movies)
    order = torch.randperm(len(train), generator=torch.Generator().manual_seed(seed))
    n_val = len(train) // 20
    validation, fit_part = train.take(order[:n_val]), train.take(order[n_val:])
    model = build_model(preset, len(users), len(movies), seed=seed)
    history = Trainer(model, TrainConfig.for_preset(preset, progress=False, seed=seed)).fit(
        fit_part, validation)
    rmse, mae = rating_errors(model, to_tensors(test, users, movies))
    return {"preset": preset, "fold": fold, "rmse": rmse, "mae": mae,
            "epochs": len(history.records), "best_epoch": history.best_epoch,
            "train_s": history.train_seconds, "ratings_per_s": history.ratings_per_second}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--presets", default="biased-mf")
    parser.add_argument("--folds", default="1,2,3,4,5")
    args = parser.parse_args()
    rows = [run_fold(args.data, int(fold), preset)
            for preset in args.presets.split(",") for fold in args.folds.split(",")]
    frame = pd.DataFrame(rows)
    pd.set_option("display.width", 160)
    print(frame.round(4).to_string(index=False))
    summary = frame.groupby("preset", sort=False).agg(
        rmse=("rmse", "mean"), mae=("mae", "mean"), train_s=("train_s", "sum"),
        ratings_per_s=("ratings_per_s", "median"))
    print("\nmean over folds (ratings/s: median):")
    print(summary.round(4).to_string())


if __name__ == "__main__":
    main()
