"""Exact vs approximate top-k: recall@10 against exact search and queries/second -> JSON.

    python benchmarks/index_speed.py                      # 1,000,000 x 64 catalogue + 60,000
    python benchmarks/index_speed.py --movies 200000 --queries 200

Synthetic catalogue: Gaussian movie vectors with log-normal norms (popular movies have larger
norms, as in trained MF models); queries are drawn the same way.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time
from pathlib import Path

import numpy as np

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


def run(n_movies: int, dim: int, n_queries: int, k: int, ef_search: int, seed: int) -> dict:
    vectors = catalogue(n_movies, dim, seed)
    queries = catalogue(n_queries, dim, seed + 1)
    exact = ExactIndex().build(vectors)
    start = time.perf_counter()
    hnsw = FaissIndex("hnsw", m=32, ef_construction=80, ef_search=ef_search).build(vectors)
    build_s = time.perf_counter() - start
    truth, _ = exact.search(queries, k)
    found, _ = hnsw.search(queries, k)
    recall = float(np.mean([len(set(f) & set(t)) / k for f, t in zip(found, truth, strict=True)]))
    exact_ms = per_query_latency_ms(exact, queries, k)
    hnsw_ms = per_query_latency_ms(hnsw, queries, k)
    return {"movies": n_movies, "dim": dim, "queries": n_queries, "k": k,
            "hnsw_build_s": build_s, "hnsw_ef_search": ef_search, f"hnsw_recall@{k}": recall,
            "exact_p50_ms": float(np.median(exact_ms)),
            "exact_p99_ms": float(np.percentile(exact_ms, 99)),
            "hnsw_p50_ms": float(np.median(hnsw_ms)),
            "hnsw_p99_ms": float(np.percentile(hnsw_ms, 99)),
            "exact_qps": 1000 / float(np.mean(exact_ms)),
            "hnsw_qps": 1000 / float(np.mean(hnsw_ms)),
            "speedup": float(np.mean(exact_ms) / np.mean(hnsw_ms))}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--movies", type=int, nargs="+", default=[60_000, 1_000_000])
    parser.add_argument("--dim", type=int, default=64)
    parser.add_argument("--queries", type=int, default=500)
    parser.add_argument("--ef-search", type=int, default=128)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", type=Path, default=HERE / "results" / "index_speed.json")
    args = parser.parse_args()
    rows = [run(n, args.dim, args.queries, 10, args.ef_search, args.seed) for n in args.movies]
    header = ["movies", "hnsw_recall@10", "exact_p50_ms", "hnsw_p50_ms", "exact_qps",
              "hnsw_qps", "speedup", "hnsw_build_s"]
    print(" | ".join(header))
    for row in rows:
        print(" | ".join(f"{row[h]:,.3f}" if isinstance(row[h], float) else f"{row[h]:,}"
                         for h in header))
    args.json.parent.mkdir(parents=True, exist_ok=True)
    payload = {"date": time.strftime("%Y-%m-%d"),
               "machine": f"{platform.machine()}, {os.cpu_count()} cores", "results": rows}
    tmp = args.json.with_suffix(".tmp")
    tmp.write_text(json.dumps(payload, indent=2))
    tmp.replace(args.json)
    print(f"wrote {args.json}")


if __name__ == "__main__":
    main()
