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
    record = ScaleTrainer(model, config).fit(columns).records[0]
    return {"model": model_name, "ratings": len(columns), "users": len(columns.user_ids),
            "movies": len(columns.movie_ids), "dim": dim, "batch_size": batch_size,
            "threads": threads, "load_seconds": round(load_seconds, 2),
            "epoch_seconds": round(record.seconds, 2),
            "ratings_per_second": round(len(columns) / record.seconds),
            "train_loss": round(record.train_loss, 4),
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
    parser.add_argument("--child", nargs=2, metavar=("PARQUET", "MODEL"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        parquet, model = args.child
        print(json.dumps(measure(Path(parquet), model, args.dim, BATCH[model], args.threads,
                                 args.lr)))
        return
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
                  f" s  {row['ratings_per_second']:>10,} ratings/s  peak "
                  f"{row['peak_rss_gib']:.2f} GiB  (load {row['load_seconds']:.1f} s)", flush=True)
    slopes = {m: slope([r for r in rows if r["model"] == m]) for m in args.models}
    for model, fit in slopes.items():
        print(f"{model}: {fit['seconds_per_million']} s per million ratings "
              f"(+{fit['intercept_seconds']} s), worst point {fit['max_relative_residual']:.0%} "
              "off the line")
    result = {"machine": {"cpus": os.cpu_count(), "platform": platform.platform(),
                          "load_average_at_start": os.getloadavg()},
              "load_average_at_end": os.getloadavg(), "runs": rows, "slope": slopes}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    tmp = args.out.with_suffix(".tmp")
    tmp.write_text(json.dumps(result, indent=2))
    tmp.replace(args.out)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
