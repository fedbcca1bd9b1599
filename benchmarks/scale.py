"""Training at scale: ratings/s, epoch time and peak memory at 1M, 5M and 25M synthetic
ratings (162k users x 62k movies, ml-25m's shape) for biased-mf and two-tower, and the
slope of epoch time against ratings.

Each (size, model) runs in a fresh child process, so its peak resident memory
(getrusage ru_maxrss) covers loading the parquet file and one training epoch, nothing else.
Synthetic data is generated once per size under --data (never in the repository).

    python benchmarks/scale.py                                   # all sizes, both models
    python benchmarks/scale.py --sizes 1 5 --models biased-mf    # a quick look
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

RESULTS = Path(__file__).parent / "results"
DEFAULT_DATA = Path(os.environ.get("MOVIEREC_HOME", "/tmp/movierec")) / "synth"
BATCH = {"biased-mf": 65_536, "two-tower": 1_024}


def measure(parquet: Path, model_name: str, dim: int, batch_size: int, threads: int,
            lr: float) -> dict:
    """One epoch of `model_name` on `parquet` in this process; returns its numbers."""
    from movierec.data.columnar import RatingColumns
    from movierec.models import build_model
    from movierec.training.scale import ScaleConfig, ScaleTrainer

    started = time.perf_counter()
    columns = RatingColumns.from_parquet(parquet)
    load_seconds = time.perf_counter() - started
    options = {"dim": dim} if model_name == "biased-mf" else {"dim": dim, "out_dim": dim}
    model = build_model(model_name, len(columns.user_ids), len(columns.movie_ids),
                        rating_range=columns.rating_range, seed=0, **options)
    config = ScaleConfig(epochs=1, batch_size=batch_size, lr=lr, num_threads=threads,
                         progress=False)
    cpu_started = time.process_time()
    record = ScaleTrainer(model, config).fit(columns).records[0]
    cpu_seconds = time.process_time() - cpu_started  # all threads; robust to a busy machine
    return {"model": model_name, "ratings": len(columns), "users": len(columns.user_ids),
            "movies": len(columns.movie_ids), "dim": dim, "batch_size": batch_size,
            "threads": threads, "load_seconds": round(load_seconds, 2),
            "epoch_seconds": round(record.seconds, 2), "epoch_cpu_seconds": round(cpu_seconds, 2),
            "ratings_per_second": round(len(columns) / record.seconds),
            "train_loss": round(record.train_loss, 4),
            "peak_rss_gib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20, 3)}


def measure_topk(parquet: Path, dim: int, threads: int, lr: float) -> dict:
    """Full-catalogue top-10 metrics for every user with a held-out rating (1% of ratings),
    after one biased-mf epoch on the rest: seconds and peak memory of the whole child."""
    import torch

    from movierec.data import SeenMovies
    from movierec.data.columnar import RatingColumns
    from movierec.evaluate.ranking import ranking_metrics
    from movierec.models import build_model
    from movierec.training.scale import ScaleConfig, ScaleTrainer

    train, test = RatingColumns.from_parquet(parquet).holdout(0.01)
    model = build_model("biased-mf", len(train.user_ids), len(train.movie_ids),
                        rating_range=train.rating_range, seed=0, dim=dim)
    ScaleTrainer(model, ScaleConfig(epochs=1, lr=lr, num_threads=threads,
                                    progress=False)).fit(train)
    seen = SeenMovies.from_indices(train.users, train.movies, len(train.user_ids),
                                   len(train.movie_ids))
    torch.set_num_threads(threads)
    started = time.perf_counter()
    metrics = ranking_metrics(lambda users: model.score(torch.from_numpy(users)),
                              test.users.astype(np.int64), test.movies.astype(np.int64),
                              len(train.movie_ids), seen=seen, ks=(10,), progress=True)
    return {"model": "biased-mf top-k", "ratings": len(train), "users": len(train.user_ids),
            "movies": len(train.movie_ids), "test_users": len(np.unique(test.users)),
            "topk_seconds": round(time.perf_counter() - started, 1),
            "ndcg@10": round(metrics["ndcg@10"], 4),
            "peak_rss_gib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20, 3)}


def ensure_data(folder: Path, millions: float, users: int, movies: int) -> Path:
    parquet = folder / "ratings.parquet"
    if not parquet.is_file():
        from movierec.data.synth import SynthSpec, write_synthetic_movielens

        print(f"generating {millions:g}M ratings into {folder} ...", flush=True)
        write_synthetic_movielens(folder, SynthSpec(int(millions * 1e6), users, movies))
    return parquet


def slope(rows: list[dict]) -> dict:
    """Least-squares epoch seconds = a + b * ratings; b as seconds per million ratings,
    and how far each point is from the line."""
    x = np.array([r["ratings"] for r in rows], dtype=float) / 1e6
    y = np.array([r["epoch_seconds"] for r in rows], dtype=float)
    b, a = np.polyfit(x, y, 1) if len(rows) > 1 else (y[0] / x[0], 0.0)
    residual = y - (a + b * x)
    return {"seconds_per_million": round(float(b), 3), "intercept_seconds": round(float(a), 2),
            "max_relative_residual": round(float(np.max(np.abs(residual) / y)), 3)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=float, nargs="+", default=[1, 5, 25],
                        help="millions of ratings")
    parser.add_argument("--models", nargs="+", default=list(BATCH), choices=list(BATCH))
    parser.add_argument("--users", type=int, default=162_000)
    parser.add_argument("--movies", type=int, default=62_000)
    parser.add_argument("--dim", type=int, default=64)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--lr", type=float, default=0.05)
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--out", type=Path, default=RESULTS / "scale.json")
    parser.add_argument("--topk", action="store_true",
                        help="also time top-10 metrics over every user x every movie at the "
                             "largest size")
    parser.add_argument("--child", nargs=2, metavar=("PARQUET", "MODEL"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        parquet, model = args.child
        if model == "topk":
            print(json.dumps(measure_topk(Path(parquet), args.dim, args.threads, args.lr)))
        else:
            print(json.dumps(measure(Path(parquet), model, args.dim, BATCH[model],
                                     args.threads, args.lr)))
        return
    load_at_start = os.getloadavg()
    rows = []
    for millions in args.sizes:
        parquet = ensure_data(args.data / f"{millions:g}m-{args.users}x{args.movies}",
                              millions, args.users, args.movies)
        for model in args.models:
            child = subprocess.run(
                [sys.executable, __file__, "--child", str(parquet), model, "--dim",
                 str(args.dim), "--threads", str(args.threads), "--lr", str(args.lr)],
                capture_output=True, text=True, check=True)
            row = json.loads(child.stdout.strip().splitlines()[-1])
            rows.append(row)
            print(f"{model:10s} {row['ratings']:>11,} ratings  epoch {row['epoch_seconds']:7.2f}"
                  f" s (CPU {row['epoch_cpu_seconds']:.1f} s)  {row['ratings_per_second']:>10,}"
                  " ratings/s  peak "
                  f"{row['peak_rss_gib']:.2f} GiB  (load {row['load_seconds']:.1f} s)", flush=True)
    topk = None
    if args.topk:
        child = subprocess.run(
            [sys.executable, __file__, "--child", str(parquet), "topk", "--dim", str(args.dim),
             "--threads", str(args.threads), "--lr", str(args.lr)],
            capture_output=True, text=True, check=True)
        topk = json.loads(child.stdout.strip().splitlines()[-1])
        print(f"top-10 over {topk['test_users']:,} users x {topk['movies']:,} movies: "
              f"{topk['topk_seconds']} s, peak {topk['peak_rss_gib']:.2f} GiB", flush=True)
    slopes = {m: slope([r for r in rows if r["model"] == m]) for m in args.models}
    for model, fit in slopes.items():
        print(f"{model}: {fit['seconds_per_million']} s per million ratings "
              f"(+{fit['intercept_seconds']} s), worst point {fit['max_relative_residual']:.0%} "
              "off the line")
    result = {"machine": {"cpus": os.cpu_count(), "platform": platform.platform(),
                          "load_average_at_start": load_at_start},
              "load_average_at_end": os.getloadavg(), "runs": rows, "slope": slopes,
              "topk": topk}
    from movierec.cli.evaluation import write_json  # the parent stays torch-free until here

    write_json(args.out, result)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
