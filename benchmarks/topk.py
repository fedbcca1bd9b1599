"""Top-k benchmark: every ranker on one protocol, full catalogue, seen movies excluded.

    python benchmarks/topk.py                                  # ml-100k, random 80/20 seed 42
    python benchmarks/topk.py --data ml-latest-small --protocol leave-last-out
    python benchmarks/topk.py --models popularity ease two-tower

Hyperparameters are picked by NDCG@10 on a validation split carved from the training part
with the same protocol (never the test part); the chosen setting is then refitted on the
whole training part and scored once on the test part. Prints one table, writes JSON.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd

from movierec.data import SeenMovies, leave_last_out, load_movielens, random_split
from movierec.evaluate.ranking import factorized_top_k_accuracy, ranking_metrics, top_k_indices
from movierec.topk import EASE, ImplicitALS, ImplicitBPR, Popularity, interactions_from_ratings
from movierec.topk.neural import PresetRanker, TwoTowerRanker

HERE = Path(__file__).resolve().parent
SHARED = HERE.parent.parent / "shared" / "data"

PROTOCOLS: dict[str, Callable[[pd.DataFrame, int], tuple[pd.DataFrame, pd.DataFrame]]] = {
    "random": lambda r, seed: random_split(r, test_fraction=0.2, seed=seed),
    "leave-last-out": lambda r, seed: leave_last_out(r, n=1),
}
GRIDS: dict[str, tuple[Callable[..., object], list[dict]]] = {
    "popularity": (Popularity, [{}]),
    "ease": (EASE, [{"l2": v} for v in (100.0, 250.0, 500.0, 1000.0)]),
    "ials": (ImplicitALS, [{"factors": f, "regularization": r, "alpha": a}
                           for f in (64, 128) for r in (0.1, 1.0, 10.0) for a in (1.0, 5.0, 20.0)]),
    "bpr": (ImplicitBPR, [{"learning_rate": lr, "factors": 64} for lr in (0.01, 0.05)]),
    "biased-mf": (PresetRanker, [{}]),
    "two-tower": (TwoTowerRanker, [{"temperature": t} for t in (0.05, 0.1)]),
}


def evaluate(make: Callable[..., object], params: dict, train: pd.DataFrame,
             test: pd.DataFrame) -> tuple[dict, object, float]:
    view = interactions_from_ratings(train, test)
    model = make(**params)
    start = time.perf_counter()
    if hasattr(model, "fit_ratings"):
        model.fit_ratings(train)
    else:
        model.fit(view.train)
    seconds = time.perf_counter() - start
    rows, cols = view.train.nonzero()
    seen = SeenMovies.from_indices(rows, cols, *view.shape)
    metrics = ranking_metrics(model.score, view.test_users, view.test_movies, view.shape[1],
                              seen=seen, ks=(10, 20))
    metrics.update(factorized_top_k_accuracy(model.score, view.test_users, view.test_movies,
                                             ks=(10, 100)))
    return metrics, (model, seen), seconds


def latency_ms(model, seen: SeenMovies, n_users: int, n: int = 200) -> tuple[float, float]:
    """p50 and p99 of scoring one user over the whole catalogue plus top-10."""
    times = []
    for user in np.random.default_rng(0).integers(0, n_users, n):
        start = time.perf_counter()
        top_k_indices(model.score, np.array([user]), 10, seen)
        times.append((time.perf_counter() - start) * 1000)
    return float(np.median(times)), float(np.percentile(times, 99))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default="ml-100k")
    parser.add_argument("--data-dir", type=Path)
    parser.add_argument("--protocol", choices=sorted(PROTOCOLS), default="random")
    parser.add_argument("--models", nargs="+", default=list(GRIDS), choices=list(GRIDS))
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    folder = args.data_dir or SHARED / args.data
    if not folder.exists():
        print(f"skipped: {folder} not found (pass --data-dir)")
        return
    ratings = load_movielens(args.data, folder, progress=False).ratings
    split = PROTOCOLS[args.protocol]
    train, test = split(ratings, args.seed)
    fit_part, val_part = split(train, args.seed + 1)
    rows = []
    for name in args.models:
        make, grid = GRIDS[name]
        scored = [(evaluate(make, p, fit_part, val_part)[0]["ndcg@10"], p) for p in grid]
        val_ndcg, params = max(scored, key=lambda pair: pair[0])
        metrics, (model, seen), seconds = evaluate(make, params, train, test)
        p50, p99 = latency_ms(model, seen, seen.shape[0])
        rows.append({"model": name, "params": params, "val_ndcg@10": val_ndcg, **metrics,
                     "train_s": seconds, "query_p50_ms": p50, "query_p99_ms": p99})
        print(f"{name}: NDCG@10 {metrics['ndcg@10']:.4f} ({params})", flush=True)
    shown = ["model", "recall@10", "recall@20", "ndcg@10", "ndcg@20", "hit_rate@10",
             "factorized_top_100", "coverage@10", "train_s", "query_p50_ms", "query_p99_ms"]
    frame = pd.DataFrame(rows)
    print(f"\n{args.data}, {args.protocol} (seed {args.seed}), full catalogue, seen excluded")
    print(frame[shown].to_string(index=False, float_format=lambda v: f"{v:.4f}"))
    out = args.json or HERE / "results" / f"topk-{args.data}-{args.protocol}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    payload = {"data": args.data, "protocol": args.protocol, "seed": args.seed,
               "date": time.strftime("%Y-%m-%d"),
               "machine": f"{platform.machine()}, {os.cpu_count()} cores", "results": rows}
    tmp = out.with_suffix(".tmp")
    tmp.write_text(json.dumps(payload, indent=2, default=str))
    tmp.replace(out)
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
