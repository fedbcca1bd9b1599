"""Training at scale, the two ways in side by side: the Python facade
(`Recommender("biased-mf", epochs=1).fit(df)` on a DataFrame read with `pd.read_parquet`) and
the command line (`movierec train --ratings FILE -m biased-mf -o epochs=1`), at 1M, 5M and
25M synthetic ratings (162k users x 62k movies, ml-25m's shape).

Per row: whole-call seconds (the facade's `fit`; the CLI's whole command: columns written and
memory-mapped, training, model saved), ratings/s over that call (ratings x epochs / seconds),
the epoch alone, peak resident memory and held-out RMSE (the facade's 5% validation carve;
the CLI's 5% --test-fraction: the same draw, so nearly the same ratings). Every run is a
fresh child process: its peak memory (getrusage ru_maxrss) covers reading the data too, and
"fit peak" is the peak of the fit call alone (the kernel's high-water mark reset first).
Synthetic data is generated once per size under --data (never in the repository); the
linear fit of seconds against ratings shows how far from linear the scaling is.

    flock /tmp/bench.lock python benchmarks/scale.py                 # 1M, 5M, 25M; 3 repeats
    python benchmarks/scale.py --sizes 1 5 --repeats 1                # a quick look
    python benchmarks/scale.py --paths two-tower --sizes 1            # ScaleTrainer autograd
    python benchmarks/scale.py --paths topk --sizes 25 --repeats 1    # top-10 of every user
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

RESULTS = Path(__file__).parent / "results"
DEFAULT_DATA = Path(os.environ.get("MOVIEREC_HOME", "/tmp/movierec")) / "synth"
PATHS = ("facade", "cli", "two-tower", "topk")
HOLDOUT = 0.05


def _peak_gib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20


def _reset_peak() -> bool:
    """Reset this process's high-water mark of resident memory (Linux 4.0+)."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
        return True
    except OSError:
        return False


def _hwm_gib() -> float | None:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 2**20
    return None


def measure_facade(parquet: Path, epochs: int) -> dict:
    """`Recommender("biased-mf", epochs=...).fit(df)` on the frame `pd.read_parquet` gives."""
    import pandas as pd

    from movierec import Recommender

    df = pd.read_parquet(parquet)
    load_peak = _peak_gib()
    reset = _reset_peak()
    started = time.perf_counter()
    rec = Recommender("biased-mf", epochs=epochs, progress=False,
                      validation_fraction=HOLDOUT).fit(df)
    seconds = time.perf_counter() - started
    record = rec.history.records[-1]
    return {"path": "facade", "ratings": len(df), "seconds": seconds,
            "epoch_seconds": rec.history.train_seconds, "rmse": record.val_rmse,
            "load_peak_gib": load_peak, "fit_peak_gib": _hwm_gib() if reset else None,
            "peak_rss_gib": _peak_gib()}


def measure_cli(parquet: Path, epochs: int) -> dict:
    """`movierec train --ratings` run in this process, into a temporary folder."""
    from movierec.cli.app import app

    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "model"
        started = time.perf_counter()
        app(["train", "--out", str(out), "--ratings", str(parquet), "--model", "biased-mf",
             "--test-fraction", str(HOLDOUT), "--no-plot", "-o", f"epochs={epochs}",
             "-o", "progress=false"], standalone_mode=False)
        seconds = time.perf_counter() - started
        history = json.loads((out / "history.json").read_text())
    records = history["records"]
    n = history["n_train"]
    return {"path": "cli", "ratings": round(n / (1 - HOLDOUT)), "seconds": seconds,
            "epoch_seconds": sum(r["seconds"] for r in records), "rmse": records[-1]["val_rmse"],
            "peak_rss_gib": _peak_gib()}


def measure_two_tower(parquet: Path, epochs: int) -> dict:
    """One ScaleTrainer run of two-tower (the batched autograd strategy) on the columns."""
    from movierec.data.columnar import RatingColumns
    from movierec.models import build_model
    from movierec.training.scale import ScaleConfig, ScaleTrainer

    started = time.perf_counter()
    columns = RatingColumns.from_parquet(parquet)
    model = build_model("two-tower", len(columns.user_ids), len(columns.movie_ids), seed=0,
                        dim=64, out_dim=64)
    history = ScaleTrainer(model, ScaleConfig(epochs=epochs, batch_size=1024,
                                              progress=False)).fit(columns)
    return {"path": "two-tower", "ratings": len(columns),
            "seconds": time.perf_counter() - started, "epoch_seconds": history.train_seconds,
            "rmse": None, "peak_rss_gib": _peak_gib()}


def measure_topk(parquet: Path, epochs: int) -> dict:
    """Full-catalogue top-10 metrics for every user with a held-out rating (1% of ratings),
    after biased-mf trained on the rest: seconds and peak memory of the whole child."""
    import torch

    from movierec.data import SeenMovies
    from movierec.data.columnar import RatingColumns
    from movierec.evaluate.ranking import ranking_metrics
    from movierec.models import build_model
    from movierec.training.scale import ScaleConfig, ScaleTrainer

    train, test = RatingColumns.from_parquet(parquet).holdout(0.01)
    model = build_model("biased-mf", len(train.user_ids), len(train.movie_ids),
                        rating_range=(0.5, 5.0), seed=0)
    ScaleTrainer(model, ScaleConfig(epochs=epochs, progress=False)).fit(train)
    train, test = train.gather(), test.gather()
    seen = SeenMovies.from_indices(train.users, train.movies, len(train.user_ids),
                                   len(train.movie_ids))
    started = time.perf_counter()
    metrics = ranking_metrics(lambda users: model.score(torch.from_numpy(users)),
                              test.users.astype(np.int64), test.movies.astype(np.int64),
                              len(train.movie_ids), seen=seen, ks=(10,), progress=True)
    return {"path": "topk", "ratings": len(train), "seconds": time.perf_counter() - started,
            "epoch_seconds": float("nan"), "rmse": None, "ndcg@10": metrics["ndcg@10"],
            "test_users": len(np.unique(test.users)), "peak_rss_gib": _peak_gib()}


MEASURES = {"facade": measure_facade, "cli": measure_cli, "two-tower": measure_two_tower,
            "topk": measure_topk}


def ensure_data(folder: Path, millions: float, users: int, movies: int) -> Path:
    parquet = folder / "ratings.parquet"
    if not parquet.is_file():
        from movierec.data.synth import SynthSpec, write_synthetic_movielens

        print(f"generating {millions:g}M ratings into {folder} ...", flush=True)
        write_synthetic_movielens(folder, SynthSpec(int(millions * 1e6), users, movies))
    return parquet


def slope(rows: list[dict]) -> dict:
    """Least-squares seconds = a + b * ratings (b: seconds per million ratings), how far
    each point is from that line, and the ratings/s of the largest size over the smallest."""
    x = np.array([r["ratings"] for r in rows], dtype=float) / 1e6
    y = np.array([r["seconds"] for r in rows], dtype=float)
    b, a = np.polyfit(x, y, 1) if len(rows) > 1 else (y[0] / x[0], 0.0)
    residual = y - (a + b * x)
    rates = [r["ratings_per_second"] for r in sorted(rows, key=lambda r: r["ratings"])]
    return {"seconds_per_million": round(float(b), 3), "intercept_seconds": round(float(a), 2),
            "max_relative_residual": round(float(np.max(np.abs(residual) / y)), 3),
            "rate_largest_over_smallest": round(rates[-1] / rates[0], 3)}


def median_row(runs: list[dict], epochs: int) -> dict:
    """The run of median seconds, with every repeat's seconds beside it."""
    chosen = dict(sorted(runs, key=lambda r: r["seconds"])[len(runs) // 2])
    chosen["seconds_each"] = [round(r["seconds"], 2) for r in runs]
    chosen["ratings_per_second"] = round(chosen["ratings"] * epochs / chosen["seconds"])
    if chosen["epoch_seconds"] > 0:  # (NaN for top-k rows, which time no epoch)
        chosen["epoch_ratings_per_second"] = round(chosen["ratings"] * (1 - HOLDOUT) * epochs
                                                   / chosen["epoch_seconds"])
    for key, value in list(chosen.items()):
        if isinstance(value, float):
            chosen[key] = round(value, 4 if key == "rmse" else 3)
    return chosen


def table(rows: list[dict]) -> str:
    head = (f"{'path':9s} {'ratings':>11s} {'fit s':>7s} {'M ratings/s':>11s} {'epoch s':>8s} "
            f"{'peak GiB':>8s} {'fit peak':>8s} {'RMSE':>7s}")
    lines = [head, "-" * len(head)]
    for r in rows:
        fit_peak = f"{r['fit_peak_gib']:.2f}" if r.get("fit_peak_gib") is not None else "-"
        rmse = f"{r['rmse']:.4f}" if r.get("rmse") is not None else "-"
        lines.append(f"{r['path']:9s} {r['ratings']:>11,} {r['seconds']:7.2f} "
                     f"{r['ratings_per_second'] / 1e6:11.2f} {r['epoch_seconds']:8.2f} "
                     f"{r['peak_rss_gib']:8.2f} {fit_peak:>8s} {rmse:>7s}")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=float, nargs="+", default=[1, 5, 25],
                        help="millions of ratings")
    parser.add_argument("--paths", nargs="+", default=["facade", "cli"], choices=PATHS)
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--repeats", type=int, default=3, help="fresh runs per row (median)")
    parser.add_argument("--users", type=int, default=162_000)
    parser.add_argument("--movies", type=int, default=62_000)
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--out", type=Path, default=RESULTS / "scale.json")
    parser.add_argument("--child", nargs=2, metavar=("PARQUET", "PATH"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        parquet, path = args.child
        print(json.dumps(MEASURES[path](Path(parquet), args.epochs)))
        return
    load_at_start = os.getloadavg()
    rows = []
    for millions in args.sizes:
        parquet = ensure_data(args.data / f"{millions:g}m-{args.users}x{args.movies}",
                              millions, args.users, args.movies)
        for path in args.paths:
            runs = []
            for _ in range(args.repeats):
                child = subprocess.run(
                    [sys.executable, __file__, "--child", str(parquet), path,
                     "--epochs", str(args.epochs)], capture_output=True, text=True)
                if child.returncode:
                    sys.exit(f"{path} at {millions:g}M failed:\n{child.stderr[-3000:]}")
                runs.append(json.loads(child.stdout.strip().splitlines()[-1]))
            rows.append(median_row(runs, args.epochs))
            print(table(rows[-1:]).splitlines()[-1], flush=True)
    slopes = {p: slope([r for r in rows if r["path"] == p]) for p in args.paths}
    print()
    print(table(rows))
    for path, fit in slopes.items():
        print(f"{path}: {fit['seconds_per_million']} s per million ratings "
              f"(+{fit['intercept_seconds']} s), worst point "
              f"{fit['max_relative_residual']:.0%} off the line; ratings/s at the largest size "
              f"{fit['rate_largest_over_smallest']:.2f}x the smallest's")
    result = {"machine": {"cpus": os.cpu_count(), "platform": platform.platform(),
                          "load_average_at_start": load_at_start},
              "load_average_at_end": os.getloadavg(), "epochs": args.epochs,
              "repeats": args.repeats, "holdout": HOLDOUT, "runs": rows, "slope": slopes}
    from movierec.cli.evaluation import write_json  # the parent stays torch-free until here

    write_json(args.out, result)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
