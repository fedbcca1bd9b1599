"""Top-k benchmark: every ranker, full catalogue, seen movies excluded; one table per
(data set, protocol).

    python benchmarks/topk.py                        # ml-100k + ml-latest-small, both protocols
    python benchmarks/topk.py --data ml-100k --protocol random --models ease two-tower
    python benchmarks/topk.py --data ml-100k ml-1m --protocol leave-last-out --sampled

Protocols: "random" (80/20 of interactions, seed 42: the TensorFlow Recommenders tutorial
setting) and "leave-last-out" (each user's latest rating is the test item). Hyperparameters
are picked by NDCG@10 on a validation split carved from the training part with the same
protocol (never the test part); the chosen setting is refitted on the whole training part
and scored once on the test part (a one-setting grid skips the validation fit).

`--sampled` adds the NCF paper's SAMPLED protocol to leave-last-out runs: each user's test
movie ranked among 99 movies they never rated (HR@10, NDCG@10), reported in its own table
because it is not comparable with full-catalogue numbers. Data sets whose ratings are not
present (ml-1m here) are skipped with a message. One JSON file per (data set, protocol).
"""

from __future__ import annotations

import argparse
import os
import platform
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd

from movierec.cli.evaluation import write_json
from movierec.data import MovieLensData, SeenMovies, leave_last_out, load_movielens, random_split
from movierec.errors import MovieRecError
from movierec.evaluate.ranking import (
    factorized_top_k_accuracy,
    ranking_metrics,
    sample_negatives,
    sampled_metrics,
    top_k_indices,
)
from movierec.topk import EASE, ImplicitALS, ImplicitBPR, Popularity, interactions_from_ratings
from movierec.topk.autoencoder import DenoisingAutoencoderRanker
from movierec.topk.blend import ScoreBlend
from movierec.topk.item2vec import Item2VecRanker
from movierec.topk.neural import PresetRanker, TwoTowerRanker
from movierec.topk.retrieve_rank import RetrieveThenRank
from movierec.topk.sequential import SequentialRanker

HERE = Path(__file__).resolve().parent
SHARED = HERE.parent.parent / "shared" / "data"

PROTOCOLS: dict[str, Callable[[pd.DataFrame, int], tuple[pd.DataFrame, pd.DataFrame]]] = {
    "random": lambda r, seed: random_split(r, test_fraction=0.2, seed=seed),
    "leave-last-out": lambda r, seed: leave_last_out(r, n=1),
}
SASREC = {"max_len": 50, "lr": 3e-3, "epochs": 30, "progress": False}
DAE = {"dropout": 0.25, "l2": 100.0, "progress": False}
ITEM2VEC = {"window": 3, "epochs": 20, "progress": False}
# name -> (factory, grid of keyword settings). Retrieve-then-rank rows use the two-tower
# preset's defaults as retriever and re-order its 100 best unseen movies.
GRIDS: dict[str, tuple[Callable[..., object], list[dict]]] = {
    "popularity": (Popularity, [{}]),
    "ease": (EASE, [{"l2": v} for v in (100.0, 250.0, 500.0, 1000.0)]),
    "ials": (ImplicitALS, [{"factors": f, "regularization": r, "alpha": a}
                           for f in (64, 128) for r in (0.1, 1.0, 10.0) for a in (1.0, 5.0, 20.0)]),
    "bpr": (ImplicitBPR, [{"learning_rate": lr, "factors": 64} for lr in (0.01, 0.05)]),
    "biased-mf": (PresetRanker, [{}]),
    "two-tower": (TwoTowerRanker, [{"mixed_negatives": m} for m in (0, 256)]),
    "two-tower>biased-mf": (lambda **p: RetrieveThenRank(PresetRanker("biased-mf"), **p),
                            [{"candidates": 100}]),
    "two-tower>ease": (lambda **p: RetrieveThenRank(EASE(l2=p.pop("l2")), **p),
                       [{"candidates": 100, "l2": 500.0}]),
    # one setting each, from manual searches on validation splits only (docs/benchmarks.md):
    # sasrec on ml-100k leave-last-out, the blend weight on ml-latest-small leave-last-out
    "sasrec": (SequentialRanker, [SASREC]),
    "dae": (DenoisingAutoencoderRanker, [{**DAE, "epochs": 40},
                                         {**DAE, "epochs": 10},
                                         {**DAE, "dropout": 0.5, "l2": 200.0, "epochs": 40}]),
    "sasrec+dae": (lambda **p: ScoreBlend([SequentialRanker(**SASREC),
                                           DenoisingAutoencoderRanker(**DAE, epochs=40)],
                                          [p["sasrec"], 1.0 - p["sasrec"]]),
                   [{"sasrec": 0.8}]),
    # member settings from a manual search on ml-latest-small random validation; the
    # weight is chosen per table by the script
    "item2vec": (Item2VecRanker, [ITEM2VEC, {**ITEM2VEC, "window": 5}]),
    "dae+item2vec": (lambda **p: ScoreBlend([DenoisingAutoencoderRanker(**DAE, epochs=10),
                                             Item2VecRanker(**ITEM2VEC)],
                                            [1.0 - p["item2vec"], p["item2vec"]]),
                     [{"item2vec": w} for w in (0.2, 0.3, 0.4)]),
}
SHOWN = ["model", "recall@10", "recall@20", "ndcg@10", "ndcg@20", "hit_rate@10",
         "factorized_top_100", "coverage@10", "train_s", "query_p50_ms", "query_p99_ms"]


def fit_ranker(make: Callable[..., object], params: dict, data: MovieLensData,
               train: pd.DataFrame) -> tuple[object, float]:
    """A ranker fitted on `train` (rating-frame rankers also get the movies and users)."""
    model = make(**params)
    start = time.perf_counter()
    if hasattr(model, "fit_ratings"):
        model.fit_ratings(train, data.movies, data.users)
    else:
        model.fit(interactions_from_ratings(train, train.iloc[:0]).train)
    return model, time.perf_counter() - start


def evaluate(model, train: pd.DataFrame, test: pd.DataFrame) -> tuple[dict, SeenMovies]:
    view = interactions_from_ratings(train, test)
    rows, cols = view.train.nonzero()
    seen = SeenMovies.from_indices(rows, cols, *view.shape)
    metrics = ranking_metrics(model.score, view.test_users, view.test_movies, view.shape[1],
                              seen=seen, ks=(10, 20))
    if getattr(model, "scores_only_candidates", False):  # TFRS's metric counts seen movies
        metrics.update({"factorized_top_10": None, "factorized_top_100": None})
    else:
        metrics.update(factorized_top_k_accuracy(model.score, view.test_users,
                                                 view.test_movies, ks=(10, 100)))
    return metrics, seen


def sampled(model, train: pd.DataFrame, test: pd.DataFrame, seen: SeenMovies, seed: int
            ) -> dict[str, float]:
    """NCF protocol on a leave-one-out split: the test movie among 99 unrated movies."""
    view = interactions_from_ratings(train, test)
    negatives = sample_negatives(seen, view.test_users, view.test_movies, n=99, seed=seed)

    def pair_scores(users: np.ndarray, candidates: np.ndarray) -> np.ndarray:
        scores = np.asarray(model.score(users), dtype=np.float32)
        return np.take_along_axis(scores, candidates, axis=1)

    result: dict[str, float] = {}
    for start in range(0, len(view.test_users), 1024):
        block = slice(start, start + 1024)
        part = sampled_metrics(pair_scores, view.test_users[block], view.test_movies[block],
                               negatives[block], k=10)
        for name, value in part.items():
            result[name] = result.get(name, 0.0) + value * len(view.test_users[block])
    return {name: total / len(view.test_users) for name, total in result.items()}


def latency_ms(model, seen: SeenMovies, n: int = 200) -> tuple[float, float]:
    """p50 and p99 of scoring one user over the whole catalogue plus top-10."""
    times = []
    for user in np.random.default_rng(0).integers(0, seen.shape[0], n):
        start = time.perf_counter()
        top_k_indices(model.score, np.array([user]), 10, seen)
        times.append((time.perf_counter() - start) * 1000)
    return float(np.median(times)), float(np.percentile(times, 99))


def run_protocol(data: MovieLensData, name: str, protocol: str, models: list[str], seed: int,
                 with_sampled: bool) -> list[dict]:
    split = PROTOCOLS[protocol]
    train, test = split(data.ratings, seed)
    fit_part, val_part = split(train, seed + 1)
    rows = []
    for model_name in models:
        make, grid = GRIDS[model_name]
        val_ndcg, params = None, grid[0]
        if len(grid) > 1:
            scored = [(evaluate(fit_ranker(make, dict(p), data, fit_part)[0], fit_part,
                                val_part)[0]["ndcg@10"], p) for p in grid]
            val_ndcg, params = max(scored, key=lambda pair: pair[0])
        model, seconds = fit_ranker(make, dict(params), data, train)
        metrics, seen = evaluate(model, train, test)
        if with_sampled and protocol == "leave-last-out":
            metrics.update({"sampled_hr@10": None, "sampled_ndcg@10": None}
                           if getattr(model, "scores_only_candidates", False)
                           else sampled(model, train, test, seen, seed))
        p50, p99 = latency_ms(model, seen)
        rows.append({"model": model_name, "params": params, "val_ndcg@10": val_ndcg, **metrics,
                     "train_s": seconds, "query_p50_ms": p50, "query_p99_ms": p99})
        print(f"{name} {protocol} {model_name}: NDCG@10 {metrics['ndcg@10']:.4f} ({params})",
              flush=True)
    return rows


def write_results(out: Path, payload: dict) -> None:
    write_json(out, payload)
    print(f"wrote {out}")


def show(title: str, rows: list[dict], columns: list[str]) -> None:
    print(f"\n{title}")
    print(pd.DataFrame(rows)[columns].to_string(index=False, float_format=lambda v: f"{v:.4f}",
                                                 na_rep="n/a"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", nargs="+", default=["ml-100k", "ml-latest-small"])
    parser.add_argument("--data-dir", type=Path, help="folder holding the variants' folders")
    parser.add_argument("--protocol", nargs="+", choices=sorted(PROTOCOLS),
                        default=["random", "leave-last-out"])
    parser.add_argument("--models", nargs="+", default=list(GRIDS), choices=list(GRIDS))
    parser.add_argument("--sampled", action="store_true",
                        help="also the NCF sampled protocol on leave-last-out runs")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--out", type=Path, default=HERE / "results")
    args = parser.parse_args()
    machine = f"{platform.machine()}, {os.cpu_count()} cores, load {os.getloadavg()[0]:.1f}"
    for name in args.data:
        folder = (args.data_dir or SHARED) / name
        try:
            data = load_movielens(name, folder, progress=False)
        except (MovieRecError, FileNotFoundError) as err:
            print(f"skipped {name}: {err}")
            continue
        for protocol in args.protocol:
            rows = run_protocol(data, name, protocol, args.models, args.seed, args.sampled)
            show(f"{name}, {protocol} (seed {args.seed}), full catalogue, seen excluded",
                 rows, SHOWN)
            if "sampled_hr@10" in rows[0]:
                show(f"{name}, NCF SAMPLED protocol (leave-one-out, 99 sampled negatives; "
                     "not comparable with full-catalogue numbers)", rows,
                     ["model", "sampled_hr@10", "sampled_ndcg@10"])
            write_results(args.out / f"topk-{name}-{protocol}.json",
                       {"data": name, "protocol": protocol, "seed": args.seed,
                        "date": time.strftime("%Y-%m-%d"), "machine": machine,
                        "results": rows})


if __name__ == "__main__":
    main()
