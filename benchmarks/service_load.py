"""Bounded load test of `movierec serve` on 127.0.0.1: requests/s, p50/p95/p99, errors -> JSON.

    python benchmarks/service_load.py --model runs/mf            # a saved model folder
    python benchmarks/service_load.py                             # trains biased-mf on ml-100k
    python benchmarks/service_load.py --preset ease               # trains ease on ml-100k
    python benchmarks/service_load.py --clients 2 --only recommend

Each scenario sends a fixed number of requests (with a time cap) over keep-alive
connections from `--clients` load-generator processes (aiohttp, `concurrency` connections
in all); the server runs in its own process. Client and server share this machine's cores,
so every scenario reports the CPU both sides used (in cores: CPU seconds per wall second)
and the load average before and after: a client that eats a core, or other work on the
machine, shows there instead of hiding in the server's numbers. `recommend_during_writes`
is the recommend load while one more connection creates profiles back to back: fold-in runs
in a worker thread and holds the GIL for much of its time, so this shows what writes cost
the reads. Scenarios the model cannot serve (predictions from a model without a rater) are
reported as skipped.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing as mp
import os
import random
import tempfile
import time
from pathlib import Path
from urllib.parse import quote

import numpy as np

HERE = Path(__file__).resolve().parent
SHARED = HERE.parent.parent / "shared" / "data"
WORDS = ("star", "love", "man", "night", "the", "king", "blue", "life")
TARGET = {"scenario": "recommend", "requests_per_s": 1000, "p99_ms": 20, "errors": 0}

# name -> (requests, concurrency)
SCENARIOS = {
    "recommend": (10000, 8),
    "recommend_genre": (5000, 8),
    "similar": (2000, 8),
    "predict": (2000, 8),
    "search": (1000, 8),
    "create_profile_10_ratings": (150, 2),
    "recommend_during_writes": (5000, 8),  # plus one connection creating profiles meanwhile
}
DURING_WRITES = "_during_writes"
Ids = tuple[list[int], list[int], list[str]]  # user ids, movie ids, genres


def make_request(name: str, rng: random.Random, users: list[int], movies: list[int],
                 genres: list[str]) -> tuple[str, str, dict | None]:
    """(method, path, JSON body) of one request of a scenario."""
    if name == "recommend":
        return "GET", f"/api/users/{rng.choice(users)}/recommendations?k=10", None
    if name == "recommend_genre":
        return ("GET", f"/api/users/{rng.choice(users)}/recommendations?k=10"
                f"&genre={quote(rng.choice(genres))}", None)
    if name == "similar":
        return "GET", f"/api/movies/{rng.choice(movies)}/similar?k=10", None
    if name == "predict":
        return "GET", f"/api/users/{rng.choice(users)}/predictions/{rng.choice(movies)}", None
    if name == "search":
        return "GET", f"/api/movies/search?q={rng.choice(WORDS)}", None
    if name == "create_profile_10_ratings":
        body = {"ratings": [{"movie_id": m, "rating": rng.randint(1, 5)}
                            for m in rng.sample(movies, 10)]}
        return "POST", "/api/profiles", body
    raise ValueError(f"unknown scenario {name!r}")


async def send_requests(url: str, name: str, total: int, concurrency: int, deadline: float,
                        seed: int, ids: Ids, writer: bool) -> dict:
    """One client's share: latencies (s), error count, first start and last end (wall).

    For a `..._during_writes` scenario the reads are the named scenario's and, when `writer`
    is set, one more connection creates profiles back to back until the reads are done; its
    latencies and errors are reported apart.
    """
    import aiohttp

    rng = random.Random(seed)
    reads = name.removesuffix(DURING_WRITES)
    latencies: list[float] = []
    write_latencies: list[float] = []
    errors = write_errors = 0
    sent = 0

    async def timed(session: aiohttp.ClientSession, scenario: str) -> tuple[float, bool]:
        method, path, body = make_request(scenario, rng, *ids)
        start = time.perf_counter()
        try:
            async with session.request(method, path, json=body) as response:
                await response.read()
                ok = response.status < 400
        except aiohttp.ClientError:
            ok = False
        return time.perf_counter() - start, ok

    async def reader(session: aiohttp.ClientSession) -> None:
        nonlocal errors, sent
        while sent < total and time.time() < deadline:
            sent += 1
            seconds, ok = await timed(session, reads)
            latencies.append(seconds)
            errors += not ok

    async def profile_writer(session: aiohttp.ClientSession) -> None:
        nonlocal write_errors
        while sent < total and time.time() < deadline:
            seconds, ok = await timed(session, "create_profile_10_ratings")
            write_latencies.append(seconds)
            write_errors += not ok

    writers = int(writer and reads != name)
    connector = aiohttp.TCPConnector(limit=concurrency + writers)
    timeout = aiohttp.ClientTimeout(total=30)
    async with aiohttp.ClientSession(url, connector=connector, timeout=timeout) as session:
        began, cpu = time.time(), time.process_time()
        await asyncio.gather(*(reader(session) for _ in range(concurrency)),
                             *(profile_writer(session) for _ in range(writers)))
        return {"latencies": latencies, "errors": errors, "began": began, "ended": time.time(),
                "cpu_s": time.process_time() - cpu, "write_latencies": write_latencies,
                "write_errors": write_errors}


def client_process(args: tuple, start_at: float, results: mp.Queue) -> None:
    """Entry point of one load-generator process: wait for the common start, then send."""
    url, name, total, concurrency, time_cap, seed, ids, writer = args
    time.sleep(max(0.0, start_at - time.time()))
    results.put(asyncio.run(send_requests(url, name, total, concurrency,
                                          start_at + time_cap, seed, ids, writer)))


def run_scenario(url: str, server_pid: int, name: str, total: int, concurrency: int,
                 clients: int, time_cap: float, seed: int,
                 ids: Ids) -> dict:
    """Split `total` requests and `concurrency` connections over `clients` processes."""
    context = mp.get_context("spawn")
    results = context.Queue()
    clients = max(1, min(clients, concurrency))
    start_at = time.time() + 3.0 + clients  # spawned processes import first
    procs = [context.Process(target=client_process, args=(
        (url, name, total // clients + (i < total % clients),
         concurrency // clients + (i < concurrency % clients), time_cap, seed * 100 + i, ids,
         i == 0),
        start_at, results)) for i in range(clients)]
    for proc in procs:
        proc.start()
    load_before = os.getloadavg()
    time.sleep(max(0.0, start_at - time.time()))
    server_cpu = process_cpu_seconds(server_pid)
    parts = [results.get(timeout=time_cap + 120) for _ in procs]
    server_cpu = process_cpu_seconds(server_pid) - server_cpu if server_cpu is not None else None
    for proc in procs:
        proc.join()
    elapsed = max(p["ended"] for p in parts) - min(p["began"] for p in parts)
    latencies = np.concatenate([p["latencies"] for p in parts]) * 1000
    n = len(latencies)
    return {"requests": n, "concurrency": concurrency, "client_processes": clients,
            "seconds": round(elapsed, 2), "requests_per_s": round(n / elapsed, 1),
            "p50_ms": round(float(np.percentile(latencies, 50)), 2),
            "p95_ms": round(float(np.percentile(latencies, 95)), 2),
            "p99_ms": round(float(np.percentile(latencies, 99)), 2),
            "errors": sum(p["errors"] for p in parts),
            "client_cpu_cores": round(sum(p["cpu_s"] for p in parts) / elapsed, 2),
            "server_cpu_cores": round(server_cpu / elapsed, 2) if server_cpu is not None else None,
            "server_cpu_ms_per_request": (round(server_cpu / n * 1000, 3)
                                          if server_cpu is not None else None),
            "load_average_before": [round(x, 2) for x in load_before],
            "load_average_after": [round(x, 2) for x in os.getloadavg()],
            **write_stats(parts)}


def write_stats(parts: list[dict]) -> dict:
    """Profile writes sent alongside the reads (none outside `..._during_writes`)."""
    latencies = np.concatenate([p["write_latencies"] for p in parts]) * 1000
    if len(latencies) == 0:
        return {}
    return {"profile_writes": len(latencies),
            "profile_write_p50_ms": round(float(np.percentile(latencies, 50)), 2),
            "profile_write_p99_ms": round(float(np.percentile(latencies, 99)), 2),
            "profile_write_errors": sum(p["write_errors"] for p in parts)}


def process_cpu_seconds(pid: int) -> float | None:
    """User + system CPU seconds of a process (Linux /proc), or None elsewhere."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def trained_ml100k(folder: Path, preset: str) -> Path:
    from movierec import Recommender
    from movierec.data import load_movielens

    data = load_movielens("ml-100k", SHARED / "ml-100k")
    rec = Recommender(preset, progress=False).fit(data.ratings, movies=data.movies)
    return rec.save(folder / "model")


def cannot_serve(name: str, roles: dict[str, str | None], genres: list[str]) -> str | None:
    """Why the model cannot serve a scenario (None when it can)."""
    if name == "predict" and roles["rater"] is None:
        return f"{roles['ranker']} predicts no ratings (no rater)"
    if name == "recommend_genre" and not genres:
        return "the model has no movie genres"
    return None


def meets_target(results: dict) -> bool | None:
    found = results.get(TARGET["scenario"])
    if found is None:
        return None
    return (found["requests_per_s"] >= TARGET["requests_per_s"]
            and found["p99_ms"] < TARGET["p99_ms"] and found["errors"] == TARGET["errors"])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, help="saved model (default: train --preset on "
                        "ml-100k)")
    parser.add_argument("--preset", default="biased-mf",
                        help="preset trained on ml-100k when no --model is given")
    parser.add_argument("--time-cap", type=float, default=60.0, help="seconds per scenario")
    parser.add_argument("--clients", type=int, default=1, help="load-generator processes")
    parser.add_argument("--scale", type=float, default=1.0,
                        help="multiply every scenario's request count (e.g. 0.2 for a check)")
    parser.add_argument("--only", nargs="+", choices=list(SCENARIOS),
                        help="run only these scenarios")
    parser.add_argument("--json", type=Path, help="results file (default: results/"
                        "service_load.json, or service_load_<preset>.json for other presets)")
    args = parser.parse_args()
    if args.json is None:
        suffix = "" if args.model or args.preset == "biased-mf" else f"_{args.preset}"
        args.json = HERE / "results" / f"service_load{suffix}.json"
    # imported here, not at the top: the spawned client processes import this module too
    from movierec import Recommender
    from movierec.service.process import ServerProcess

    with tempfile.TemporaryDirectory() as workdir:
        if args.model is None and not (SHARED / "ml-100k").exists():
            print(f"skipped: no --model and {SHARED / 'ml-100k'} not found")
            return 0
        model_dir = args.model or trained_ml100k(Path(workdir), args.preset)
        rec = Recommender.load(model_dir)
        genres = ([] if rec.movies is None
                  else sorted({g for gs in rec.movies["genres"] for g in gs}))
        ids = ([int(u) for u in rec.user_ids.ids], [int(m) for m in rec.movie_ids.ids], genres)
        db = f"sqlite:///{Path(workdir) / 'profiles.sqlite3'}"
        results = {}
        with ServerProcess(model_dir, db, log_path=Path(workdir) / "server.log") as server:
            for seed, (name, (total, concurrency)) in enumerate(SCENARIOS.items()):
                if args.only and name not in args.only:
                    continue
                reason = cannot_serve(name, rec.roles(), genres)
                if reason is not None:
                    results[name] = {"skipped": reason}
                    print(name, "skipped:", reason)
                    continue
                run_scenario(server.url, server.process.pid, name, 50, concurrency, 1, 10,
                             seed, ids)  # warm-up
                results[name] = run_scenario(server.url, server.process.pid, name,
                                             max(1, round(total * args.scale)), concurrency,
                                             args.clients, args.time_cap, seed, ids)
                print(name, json.dumps(results[name]))
    report = {"model": str(args.model or f"{args.preset} on ml-100k"), "roles": rec.roles(),
              "host": "127.0.0.1",
              "cpu_count": os.cpu_count(), "client": "aiohttp", "target": TARGET,
              "meets_target": meets_target(results), "scenarios": results}
    args.json.parent.mkdir(parents=True, exist_ok=True)
    partial = args.json.with_suffix(".json.tmp")
    partial.write_text(json.dumps(report, indent=2) + "\n")
    partial.replace(args.json)
    return 0 if all(r.get("errors", 0) == 0 and r.get("profile_write_errors", 0) == 0
                    for r in results.values()) else 1


if __name__ == "__main__":
    raise SystemExit(main())
