"""Top-k benchmark: every ranker, full catalogue, seen movies excluded; one table per
(data set, protocol).

    python benchmarks/topk.py                        # ml-100k + ml-latest-small, both protocols
    python benchmarks/topk.py --data ml-100k --protocol random --models ease two-tower
    python benchmarks/topk.py --data ml-100k ml-1m --protocol leave-last-out --sampled
    python benchmarks/topk.py --data ml-latest-small --protocol random --models ease top-k \
        --paired ease --seed 42 1 2 3 4      # five splits, and a table across them
    python benchmarks/topk.py --validation-only ...   # try settings: the test part is not read

Every row is a preset of the one facade, fitted and scored as a user would call it:
`Recommender(preset, **options).fit(train)` with the ratings frame alone (`--side-tables`
adds the movies and users tables), lists from `recommend`'s top-k rule.

Protocols: "random" (80/20 of interactions, seed 42: the TensorFlow Recommenders tutorial
setting) and "leave-last-out" (each user's latest rating is the test item; same-second ties
broken at random with the seed). Hyperparameters
are picked by NDCG@10 on a validation split carved from the training part with the same
protocol (never the test part); the chosen setting is refitted on the whole training part
and scored once on the test part (a one-setting grid skips the validation fit).

`--paired REF` adds, for every row, the mean per-user NDCG@10 difference to row REF and its
95% paired bootstrap interval over test users (is a gap larger than the users' spread?).

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
import torch
from paired import paired_bootstrap

from movierec import Recommender
from movierec.cli.evaluation import write_json
from movierec.data import MovieLensData, leave_last_out, load_movielens, random_split
from movierec.devices import as_index, model_device, to_numpy
from movierec.errors import MovieRecError
from movierec.evaluate.ranking import factorized_top_k_accuracy, sample_negatives, sampled_metrics

HERE = Path(__file__).resolve().parent
SHARED = HERE.parent.parent / "shared" / "data"

PROTOCOLS: dict[str, Callable[[pd.DataFrame, int], tuple[pd.DataFrame, pd.DataFrame]]] = {
    "random": lambda r, seed: random_split(r, test_fraction=0.2, seed=seed),
    "leave-last-out": lambda r, seed: leave_last_out(r, n=1, seed=seed),
}
DAE_SMALL = {"dropout": 0.25, "l2": 100.0}
# row name -> (preset, grid of its options). Every row is a preset of the one facade.
GRIDS: dict[str, tuple[str, list[dict]]] = {
    "popularity": ("popularity", [{}]),
    "ease": ("ease", [{"l2": v} for v in (100.0, 250.0, 500.0, 1000.0)]),
    "item-ridge": ("item-ridge", [{"l2": v} for v in (250.0, 500.0, 1000.0)]),
    "ease-window": ("ease-window", [{"window": w, "l2": v} for w in (9, 19, 39)
                                    for v in (50.0, 100.0, 250.0)]),
    "ials": ("ials", [{"factors": f, "regularization": r, "alpha": a}
                      for f in (64, 128) for r in (0.1, 1.0, 10.0) for a in (1.0, 5.0, 20.0)]),
    "bpr": ("bpr", [{"learning_rate": lr, "factors": 64} for lr in (0.01, 0.05)]),
    "biased-mf": ("biased-mf", [{}]),
    "two-tower": ("two-tower", [{"mixed_negatives": m} for m in (0, 256)]),
    "two-tower>ease": ("retrieve-rank", [{"members": ("two-tower", "ease"), "candidates": 100}]),
    # one setting each, from manual searches on validation splits only (docs/benchmarks.md)
    "sasrec": ("sasrec", [{}]),
    "dae": ("dae", [{}, {**DAE_SMALL, "epochs": 10}, {**DAE_SMALL, "epochs": 40}]),
    "sasrec+dae": ("ranking-blend", [{"members": ("sasrec", "dae"), "weights": (0.8, 0.2),
                                      "member_options": ({}, {**DAE_SMALL, "epochs": 40})}]),
    "item2vec": ("item2vec", [{"window": 3}, {"window": 5}]),
    # the blend's weight is chosen by the preset itself, on a held-out part of `train`
    "dae+item2vec": ("ranking-blend", [{"members": ("dae", "item2vec"),
                                        "member_options": ({**DAE_SMALL, "epochs": 10},
                                                           {"window": 3})}]),
    "top-k": ("top-k", [{}]),
}
# candidates for top-k's members (tried with --validation-only; not run by default), each
# member as its preset (ease-window: window 19, l2 250; item-ridge: l2 500)
CANDIDATES: dict[str, tuple[str, list[dict]]] = {
    name: ("ranking-blend", [{"members": members, "member_options": options}])
    for name, members, options in [
        ("dae+item2vec+ew", ("dae", "item2vec", "ease-window"), ({}, {"window": 3}, {})),
        ("dae+ease+ew", ("dae", "ease", "ease-window"), ({}, {"l2": 250.0}, {})),
        ("dae+ew", ("dae", "ease-window"), ({}, {})),
        ("dae+item2vec+ease+ew", ("dae", "item2vec", "ease", "ease-window"),
         ({}, {"window": 3}, {"l2": 250.0}, {})),
        ("dae+item2vec+ridge", ("dae", "item2vec", "item-ridge"), ({}, {"window": 3}, {})),
        ("dae+ridge", ("dae", "item-ridge"), ({}, {})),
    ]}
# top-k choosing its weights on a held-out 5% of its training ratings, not 10%
CANDIDATES["top-k-hold05"] = ("top-k", [{"weight_holdout": 0.05}])
# top-k with fixed equal weights: members fit once, no weight search
CANDIDATES["top-k-equal"] = ("top-k", [{"weights": (1 / 3, 1 / 3, 1 / 3)}])
# top-k with its dae member at the 10-epoch setting (4x fewer epochs)
CANDIDATES["top-k-dae10"] = ("top-k", [{"member_options": ({**DAE_SMALL, "epochs": 10},
                                                          {"window": 3}, {"l2": 250.0})}])
GRIDS.update(CANDIDATES)
SHOWN = ["model", "recall@10", "recall@20", "ndcg@10", "ndcg@20", "hit_rate@10",
         "factorized_top_100", "coverage@10", "train_s", "query_p50_ms", "query_p99_ms"]


def fit_preset(row: str, options: dict, data: MovieLensData, train: pd.DataFrame,
               side_tables: bool) -> tuple[Recommender, float]:
    """`Recommender(preset, **options)` fitted on `train` (plus the movies and users tables
    when `side_tables`), and its fit seconds."""
    preset, _ = GRIDS[row]
    rec = Recommender(preset, progress=False, rater=None, **options)
    start = time.perf_counter()
    if side_tables:
        rec.fit(train, movies=data.movies, users=data.users)
    else:
        rec.fit(train)
    return rec, time.perf_counter() - start


def evaluate(rec: Recommender, test: pd.DataFrame) -> dict:
    """Full-catalogue metrics of the facade's lists, plus TFRS's factorized top-k where the
    model scores every movie."""
    metrics = rec.ranking_metrics(test, ks=(10, 20))
    if rec.preset == "retrieve-rank":  # scores only its candidates; TFRS's metric counts all
        return {**metrics, "factorized_top_10": None, "factorized_top_100": None}
    users, movies = known_indices(rec, test)
    device = model_device(rec.model)
    metrics.update(factorized_top_k_accuracy(lambda b: rec.model.score(as_index(b, device)),
                                             users, movies, ks=(10, 100)))
    return metrics


def known_indices(rec: Recommender, test: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    users = rec.user_ids.to_index(test["user_id"].to_numpy(), missing="negative")
    movies = rec.movie_ids.to_index(test["movie_id"].to_numpy(), missing="negative")
    known = (users >= 0) & (movies >= 0)
    return users[known], movies[known]


def sampled(rec: Recommender, test: pd.DataFrame, seed: int) -> dict[str, float]:
    """NCF protocol on a leave-one-out split: the test movie among 99 unrated movies."""
    users, movies = known_indices(rec, test)
    negatives = sample_negatives(rec.seen, users, movies, n=99, seed=seed)

    def pair_scores(block: np.ndarray, candidates: np.ndarray) -> np.ndarray:
        with torch.no_grad():
            scores = to_numpy(rec.model.score(as_index(block, model_device(rec.model))))
        return np.take_along_axis(scores, candidates, axis=1)

    result: dict[str, float] = {}
    for start in range(0, len(users), 1024):
        block = slice(start, start + 1024)
        part = sampled_metrics(pair_scores, users[block], movies[block], negatives[block], k=10)
        for name, value in part.items():
            result[name] = result.get(name, 0.0) + value * len(users[block])
    return {name: total / len(users) for name, total in result.items()}


def latency_ms(rec: Recommender, n: int = 200) -> tuple[float, float]:
    """p50 and p99 of `recommend(user, k=10)` through the facade (raw ids, a DataFrame)."""
    times = []
    for user in np.random.default_rng(0).choice(rec.user_ids.ids, n):
        start = time.perf_counter()
        rec.recommend(int(user), k=10)
        times.append((time.perf_counter() - start) * 1000)
    return float(np.median(times)), float(np.percentile(times, 99))


def run_protocol(data: MovieLensData, name: str, protocol: str, models: list[str], seed: int,
                 with_sampled: bool, side_tables: bool, paired: str | None = None,
                 carve: int | None = None, carve_fraction: float = 0.2) -> list[dict]:
    """Every model's row on the test part, or with `carve` on the validation split that
    seed carves from the training part (the test part is then never read)."""
    split = PROTOCOLS[protocol]
    train, test = split(data.ratings, seed)
    if carve is not None:
        train, test = (random_split(train, test_fraction=carve_fraction, seed=carve)
                       if protocol == "random" else split(train, carve))
    fit_part, val_part = split(train, seed + 1)
    rows, per_user = [], {}
    for model_name in models:
        _, grid = GRIDS[model_name]
        val_ndcg, params, scored = None, grid[0], []
        if len(grid) > 1:
            scored = [(fit_preset(model_name, dict(p), data, fit_part, side_tables)[0]
                       .ranking_metrics(val_part, ks=(10,))["ndcg@10"], p) for p in grid]
            val_ndcg, params = max(scored, key=lambda pair: pair[0])
        rec, seconds = fit_preset(model_name, dict(params), data, train, side_tables)
        metrics = evaluate(rec, test)
        if with_sampled and protocol == "leave-last-out":
            metrics.update({"sampled_hr@10": None, "sampled_ndcg@10": None}
                           if rec.preset == "retrieve-rank" else sampled(rec, test, seed))
        if paired is not None:
            per_user[model_name] = rec.user_ranking_metrics(test, ks=(10,))["ndcg@10"]
        p50, p99 = latency_ms(rec)
        rows.append({"model": model_name, "params": params, "ranker": rec.roles()["ranker"],
                     "val_ndcg@10": val_ndcg,
                     "val_grid": [{"params": p, "val_ndcg@10": v} for v, p in scored],
                     **metrics,
                     "train_s": seconds, "query_p50_ms": p50, "query_p99_ms": p99})
        print(f"{name} {protocol} {model_name}: NDCG@10 {metrics['ndcg@10']:.4f} ({params})",
              flush=True)
    if paired in per_user:
        for row in rows:
            diff, low, high = paired_bootstrap(per_user[row["model"]], per_user[paired])
            row.update({f"ndcg@10 - {paired}": diff, "95% low": low, "95% high": high})
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
    parser.add_argument("--models", nargs="+", choices=list(GRIDS),
                        default=[row for row in GRIDS if row not in CANDIDATES])
    parser.add_argument("--sampled", action="store_true",
                        help="also the NCF sampled protocol on leave-last-out runs")
    parser.add_argument("--seed", type=int, nargs="+", default=[42],
                        help="split seeds; several add a table of every seed's NDCG@10 (and "
                             "gap to --paired) with their mean")
    parser.add_argument("--side-tables", action="store_true",
                        help="also give fit() the movies and users tables (two-tower reads "
                             "them); by default every model sees the ratings frame alone")
    parser.add_argument("--paired", metavar="REF", choices=list(GRIDS),
                        help="per-user NDCG@10 difference of every row to row REF, with its 95%% "
                             "paired bootstrap interval over test users")
    parser.add_argument("--validation-only", type=int, nargs="?", const=1, default=0,
                        metavar="CARVES",
                        help="fit on the fit part and score on the validation split carved "
                             "from the training part (CARVES different carves, seeds seed+1.."
                             "; the test part is never read): for trying settings")
    parser.add_argument("--first-carve", type=int, metavar="SEED",
                        help="with --validation-only: the first carve's seed (default: the "
                             "split seed + 1), so a decision can be made on carves that no "
                             "earlier setting was chosen on")
    parser.add_argument("--carve-fraction", type=float, default=0.2,
                        help="with --validation-only on the random protocol: the share of the "
                             "training part each carve holds out (smaller: a fit part nearer "
                             "the final training size)")
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
            splits = ([(seed, None) for seed in args.seed] if not args.validation_only else
                      [(seed, (args.first_carve or seed + 1) + c) for seed in args.seed
                       for c in range(args.validation_only)])
            by_seed = {f"seed {seed}" + (f" carve {carve}" if carve else ""):
                       run_seed(data, name, protocol, seed, carve, args, machine)
                       for seed, carve in splits}
            if len(by_seed) > 1:
                summarise_seeds(name, protocol, by_seed, args.paired,
                                args.out / f"topk-{name}-{protocol}-seeds"
                                f"{'-validation' if args.validation_only else ''}.json")


def run_seed(data: MovieLensData, name: str, protocol: str, seed: int, carve: int | None,
             args: argparse.Namespace, machine: str) -> list[dict]:
    """One split (or validation carve): every model's table (and paired table), written to
    its JSON file."""
    rows = run_protocol(data, name, protocol, args.models, seed, args.sampled,
                        args.side_tables, args.paired, carve, args.carve_fraction)
    scored_on = f"VALIDATION carve {carve}" if carve else "full catalogue"
    show(f"{name}, {protocol} (seed {seed}), {scored_on}, seen excluded", rows, SHOWN)
    if args.paired in args.models:
        show(f"NDCG@10 minus {args.paired}'s, per test user: mean and 95% paired "
             "bootstrap interval", rows, ["model", f"ndcg@10 - {args.paired}", "95% low",
                                          "95% high"])
    if "sampled_hr@10" in rows[0]:
        show(f"{name}, NCF SAMPLED protocol (leave-one-out, 99 sampled negatives; "
             "not comparable with full-catalogue numbers)", rows,
             ["model", "sampled_hr@10", "sampled_ndcg@10"])
    suffix = ("" if seed == 42 else f"-seed{seed}") + (f"-validation{carve}" if carve else "")
    write_results(args.out / f"topk-{name}-{protocol}{suffix}.json",
                  {"data": name, "protocol": protocol, "seed": seed,
                   "date": time.strftime("%Y-%m-%d"), "machine": machine,
                   "side_tables": args.side_tables, "results": rows})
    return rows


def summarise_seeds(name: str, protocol: str, by_seed: dict[str, list[dict]],
                    paired: str | None, out: Path) -> None:
    """NDCG@10 of every model on every split (or validation carve), their mean and standard
    deviation, and (with a paired reference) on how many each model scored at least the
    reference."""
    table = pd.DataFrame({label: {row["model"]: row["ndcg@10"] for row in rows}
                          for label, rows in by_seed.items()})
    summary = table.assign(mean=table.mean(axis=1), std=table.std(axis=1))
    if paired in table.index:
        gaps = table.sub(table.loc[paired], axis=1)
        summary[f"mean - {paired}"] = gaps.mean(axis=1)
        summary[f"splits >= {paired}"] = (gaps >= 0).sum(axis=1)
    summary.index.name = "model"
    print(f"\n{name}, {protocol}: NDCG@10 on {len(by_seed)} splits")
    print(summary.to_string(float_format=lambda v: f"{v:.4f}"))
    write_results(out,
                  {"data": name, "protocol": protocol, "splits": list(by_seed),
                   "date": time.strftime("%Y-%m-%d"),
                   "ndcg@10": summary.reset_index().to_dict(orient="records")})


if __name__ == "__main__":
    main()
