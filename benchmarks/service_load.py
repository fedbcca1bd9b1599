"""Bounded load test of `movierec serve` on 127.0.0.1: requests/s, p50/p95/p99, errors -> JSON.

    python benchmarks/service_load.py --model runs/mf            # a saved model folder
    python benchmarks/service_load.py                             # trains biased-mf on ml-100k

Each scenario sends a fixed number of requests (with a time cap) from `--concurrency`
asyncio tasks over keep-alive connections; the server runs in its own process.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import httpx
import numpy as np

from movierec import Recommender
from movierec.service.process import ServerProcess

HERE = Path(__file__).resolve().parent
SHARED = HERE.parent.parent / "shared" / "data"

Request = Callable[[random.Random], tuple[str, str, dict | None]]  # -> method, path, json


def scenarios(rec: Recommender) -> dict[str, tuple[Request, int, int]]:
    """name -> (request maker, requests, concurrency)."""
    users = [int(u) for u in rec.user_ids.ids]
    movies = [int(m) for m in rec.movie_ids.ids]
    words = ["star", "love", "man", "night", "the", "king", "blue", "life"]

    def profile(rng: random.Random) -> tuple[str, str, dict]:
        rated = rng.sample(movies, 10)
        body = {"ratings": [{"movie_id": m, "rating": rng.randint(1, 5)} for m in rated]}
        return "POST", "/api/profiles", body

    return {
        "recommend": (lambda r: ("GET", f"/api/users/{r.choice(users)}/recommendations?k=10",
                                 None), 6000, 8),
        "similar": (lambda r: ("GET", f"/api/movies/{r.choice(movies)}/similar?k=10", None),
                    1000, 8),
        "predict": (lambda r: ("GET", f"/api/users/{r.choice(users)}/predictions/"
                                      f"{r.choice(movies)}", None), 1000, 8),
        "search": (lambda r: ("GET", f"/api/movies/search?q={r.choice(words)}", None), 1000, 8),
        "create_profile_10_ratings": (profile, 150, 2),
    }


async def run_scenario(url: str, make: Request, total: int, concurrency: int,
                       time_cap: float, seed: int) -> dict:
    rng = random.Random(seed)
    latencies: list[float] = []
    errors = 0
    sent = 0
    deadline = time.perf_counter() + time_cap

    async def worker(client: httpx.AsyncClient) -> None:
        nonlocal errors, sent
        while sent < total and time.perf_counter() < deadline:
            sent += 1
            method, path, body = make(rng)
            start = time.perf_counter()
            try:
                response = await client.request(method, path, json=body)
                ok = response.status_code < 400
            except httpx.HTTPError:
                ok = False
            latencies.append(time.perf_counter() - start)
            errors += not ok

    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(base_url=url, limits=limits, timeout=30.0) as client:
        started = time.perf_counter()
        await asyncio.gather(*(worker(client) for _ in range(concurrency)))
        elapsed = time.perf_counter() - started
    ms = np.array(latencies) * 1000
    return {"requests": len(latencies), "concurrency": concurrency,
            "seconds": round(elapsed, 2), "requests_per_s": round(len(latencies) / elapsed, 1),
            "p50_ms": round(float(np.percentile(ms, 50)), 2),
            "p95_ms": round(float(np.percentile(ms, 95)), 2),
            "p99_ms": round(float(np.percentile(ms, 99)), 2), "errors": errors}


def trained_ml100k(folder: Path) -> Path:
    from movierec.data import load_movielens

    data = load_movielens("ml-100k", SHARED / "ml-100k")
    rec = Recommender("biased-mf", progress=False).fit(data.ratings, movies=data.movies)
    return rec.save(folder / "model")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, help="saved model (default: train on ml-100k)")
    parser.add_argument("--time-cap", type=float, default=60.0, help="seconds per scenario")
    parser.add_argument("--only", nargs="+", help="run only these scenarios")
    parser.add_argument("--json", type=Path, default=HERE / "results" / "service_load.json")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as workdir:
        if args.model is None and not (SHARED / "ml-100k").exists():
            print(f"skipped: no --model and {SHARED / 'ml-100k'} not found")
            return 0
        model_dir = args.model or trained_ml100k(Path(workdir))
        rec = Recommender.load(model_dir)
        db = f"sqlite:///{Path(workdir) / 'profiles.sqlite3'}"
        results = {}
        with ServerProcess(model_dir, db, log_path=Path(workdir) / "server.log") as server:
            for seed, (name, (make, total, concurrency)) in enumerate(scenarios(rec).items()):
                if args.only and name not in args.only:
                    continue
                asyncio.run(run_scenario(server.url, make, 50, concurrency, 10, seed))  # warm
                results[name] = asyncio.run(run_scenario(server.url, make, total, concurrency,
                                                         args.time_cap, seed))
                print(name, json.dumps(results[name]))
    report = {"model": str(args.model or "biased-mf on ml-100k"), "host": "127.0.0.1",
              "scenarios": results}
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(report, indent=2) + "\n")
    return 0 if all(r["errors"] == 0 for r in results.values()) else 1


if __name__ == "__main__":
    raise SystemExit(main())
