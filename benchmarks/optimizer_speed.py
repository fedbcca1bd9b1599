"""biased-mf through movierec's Trainer vs a plain autograd loop with dense torch.optim.Adam.

Same model, initial weights, batch size, learning rate, schedule and epochs (no early
stopping) on ml-100k u1; prints ratings/s and u1.test RMSE of each, and the speed ratio.

    python benchmarks/optimizer_speed.py [--data-dir ../shared/data/ml-100k] [--repeats 3]
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from pathlib import Path

import torch
import torch.nn.functional as F

from movierec.data import IdMap, load_movielens
from movierec.models import build_model
from movierec.training import RatingTensors, TrainConfig, Trainer, rating_errors
from movierec.training.trainer import batch_slices

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data" / "ml-100k"


def plain_adam_loop(model: torch.nn.Module, train: RatingTensors, cfg: TrainConfig) -> float:
    """The textbook loop: shuffle, forward, MSE + l2, backward, Adam.step; returns seconds."""
    optimizer = torch.optim.Adam(model.parameters(), lr=cfg.lr, eps=cfg.adam_eps)
    steps = len(batch_slices(len(train), cfg.batch_size))
    schedule = torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=cfg.lr,
                                                   total_steps=cfg.epochs * steps)
    generator = torch.Generator().manual_seed(cfg.seed)
    started = time.perf_counter()
    for _ in range(cfg.epochs):
        shuffled = train.take(torch.randperm(len(train), generator=generator))
        for batch in batch_slices(len(train), cfg.batch_size):
            users, movies = shuffled.users[batch], shuffled.movies[batch]
            optimizer.zero_grad()
            loss = F.mse_loss(model(users, movies), shuffled.ratings[batch])
            (loss + model.penalty(users, movies)).backward()
            optimizer.step()
            schedule.step()
    return time.perf_counter() - started


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, default=SHARED)
    parser.add_argument("--repeats", type=int, default=3, help="best-of timing repeats")
    args = parser.parse_args()
    if not args.data_dir.exists():
        print(f"skipped: {args.data_dir} not found")
        return 0
    torch.set_num_threads(1)
    train_frame, test_frame = load_movielens("ml-100k", args.data_dir).canonical_folds("u")[0]
    users = IdMap.from_ids(train_frame["user_id"].to_numpy())
    movies = IdMap.from_ids(train_frame["movie_id"].to_numpy())

    def tensors(frame):  # test rows with unseen ids are dropped, for both contenders alike
        u = users.to_index(frame["user_id"].to_numpy(), missing="negative")
        m = movies.to_index(frame["movie_id"].to_numpy(), missing="negative")
        keep = (u >= 0) & (m >= 0)
        return RatingTensors(u[keep], m[keep], frame["rating"].to_numpy()[keep])

    train, test = tensors(train_frame), tensors(test_frame)
    cfg = TrainConfig.for_preset("biased-mf", patience=None, progress=False)
    rows = {}
    for name in ("movierec Trainer", "plain Adam autograd"):
        best = math.inf
        for _ in range(args.repeats):
            model = build_model("biased-mf", len(users), len(movies), seed=0)
            if name == "movierec Trainer":
                seconds = Trainer(model, cfg).fit(train).train_seconds
            else:
                seconds = plain_adam_loop(model, train, cfg)
            best = min(best, seconds)
        rows[name] = (len(train) * cfg.epochs / best, rating_errors(model, test)[0])
    print(f"biased-mf, ml-100k u1, batch {cfg.batch_size}, {cfg.epochs} epochs, 1 thread")
    for name, (speed, rmse) in rows.items():
        print(f"{name:22s} {speed:12,.0f} ratings/s   u1 test RMSE {rmse:.4f}")
    ratio = rows["movierec Trainer"][0] / rows["plain Adam autograd"][0]
    print(f"speed ratio {ratio:.2f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
