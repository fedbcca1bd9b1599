"""Exact vs approximate top-k: recall@10 against exact search and queries/second, over a
sweep of HNSW settings (M links per node x ef_search breadth) -> table + JSON.

    python benchmarks/index_speed.py --movies 1000000        # the issue's 1M x 64 catalogue
    python benchmarks/index_speed.py --movies 100000 --queries 200 --m 32 --ef-search 128 256

Synthetic catalogue: Gaussian movie vectors with log-normal norms (popular movies have larger
norms, as in trained MF models); queries are drawn the same way. Every setting is measured in
the same run against the same exact baseline; the last line names the fastest setting with
recall@10 >= 0.95, and whether it is >= 10x the exact queries/second.
"""

from __future__ import annotations

import argparse
import os
import platform
import time
from pathlib import Path

import numpy as np

from movierec.cli.evaluation import write_json
from movierec.index import ExactIndex, FaissIndex

HERE = Path(__file__).resolve().parent


def catalogue(n: int, dim: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    vectors = rng.normal(size=(n, dim)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    return vectors * rng.lognormal(0.0, 0.25, size=(n, 1)).astype(np.float32)


def per_query_latency_ms(index, queries: np.ndarray, k: int) -> np.ndarray:
    """Latency of one-query searches (how a service calls it), in milliseconds."""
    times = []
    for query in queries:
        start = time.perf_counter()
        index.search(query[None], k)
        times.append((time.perf_counter() - start) * 1000)
    return np.array(times)


def recall_at_k(found: np.ndarray, truth: np.ndarray) -> float:
    k = truth.shape[1]
    return float(np.mean([len(set(f) & set(t)) / k for f, t in zip(found, truth, strict=True)]))


def timing(ms: np.ndarray) -> dict:
    return {"p50_ms": float(np.median(ms)), "p99_ms": float(np.percentile(ms, 99)),
            "qps": 1000 / float(np.mean(ms))}


def run(n_movies: int, dim: int, n_queries: int, k: int, ms: list[int], efs: list[int],
        ef_construction: int, seed: int) -> dict:
    vectors = catalogue(n_movies, dim, seed)
    queries = catalogue(n_queries, dim, seed + 1)
    exact = ExactIndex().build(vectors)
    truth, _ = exact.search(queries, k)
    exact_time = timing(per_query_latency_ms(exact, queries, k))
    rows = []
    for m in ms:
        start = time.perf_counter()
        hnsw = FaissIndex("hnsw", m=m, ef_construction=ef_construction).build(vectors)
        build_s = time.perf_counter() - start
        for ef in efs:
            hnsw.set_search_params(ef_search=ef)
            found, _ = hnsw.search(queries, k)
            took = timing(per_query_latency_ms(hnsw, queries, k))
            rows.append({"m": m, "ef_search": ef, f"recall@{k}": recall_at_k(found, truth),
                         **took, "speedup": took["qps"] / exact_time["qps"],
                         "build_s": build_s})
            print(f"  M {m} ef_search {ef}: recall@{k} {rows[-1][f'recall@{k}']:.3f} "
                  f"{rows[-1]['speedup']:.1f}x exact", flush=True)
    good = [r for r in rows if r[f"recall@{k}"] >= 0.95]
    best = max(good, key=lambda r: r["qps"]) if good else None
    return {"movies": n_movies, "dim": dim, "queries": n_queries, "k": k,
            "ef_construction": ef_construction, "exact": exact_time, "hnsw": rows,
            "fastest_with_recall_0.95": best,
            "meets_issue_goal": bool(best and best["speedup"] >= 10)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--movies", type=int, nargs="+", default=[1_000_000])
    parser.add_argument("--dim", type=int, default=64)
    parser.add_argument("--queries", type=int, default=500)
    parser.add_argument("--m", type=int, nargs="+", default=[32, 48])
    parser.add_argument("--ef-search", type=int, nargs="+", default=[64, 128, 256, 512])
    parser.add_argument("--ef-construction", type=int, default=200)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", type=Path, default=HERE / "results" / "index_speed.json")
    args = parser.parse_args()
    results = []
    for n in args.movies:
        print(f"{n:,} movies x {args.dim}-d, {args.queries} one-query searches, top-10")
        result = run(n, args.dim, args.queries, 10, args.m, args.ef_search,
                     args.ef_construction, args.seed)
        exact = result["exact"]
        print(f"exact: p50 {exact['p50_ms']:.3f} ms, {exact['qps']:,.0f} queries/s")
        header = ["m", "ef_search", "recall@10", "p50_ms", "p99_ms", "qps", "speedup",
                  "build_s"]
        print(" | ".join(header))
        for row in result["hnsw"]:
            print(" | ".join(f"{row[h]:,.3f}" if isinstance(row[h], float) else f"{row[h]:,}"
                             for h in header))
        best = result["fastest_with_recall_0.95"]
        print("no setting reaches recall@10 0.95" if best is None else
              f"fastest with recall@10 >= 0.95: M {best['m']} ef_search {best['ef_search']} "
              f"({best['recall@10']:.3f}, {best['speedup']:.1f}x exact; goal >= 10x "
              f"{'met' if result['meets_issue_goal'] else 'NOT met'})")
        results.append(result)
    payload = {"date": time.strftime("%Y-%m-%d"), "load": os.getloadavg()[0],
               "machine": f"{platform.machine()}, {os.cpu_count()} cores", "results": results}
    write_json(args.json, payload)
    print(f"wrote {args.json}")


if __name__ == "__main__":
    main()
