"""Crash test: SIGKILL `movierec serve` during a stream of rating writes, restart, check no loss.

    python benchmarks/service_durability.py --model runs/mf --cycles 20

Each cycle starts the server on the same SQLite file, checks that every acknowledged write
is stored (the one write in flight at the kill may or may not be), writes ratings one at a
time until a timer SIGKILLs the server at a random moment, and repeats. At the end the
database must pass PRAGMA integrity_check. The test suite runs the same function with 3
cycles on a tiny model; results go to benchmarks/results/service_durability.json.
"""

from __future__ import annotations

import argparse
import json
import random
import sqlite3
import tempfile
import threading
import time
from pathlib import Path

import httpx

from movierec import Recommender
from movierec.service.process import ServerProcess

HERE = Path(__file__).resolve().parent


def kill_restart_cycles(model_dir: Path, workdir: Path, cycles: int, *, seed: int = 0,
                        kill_after: tuple[float, float] = (0.3, 1.5)) -> dict:
    """Run the crash cycles; returns counts of acknowledged and lost writes and the
    integrity-check answer."""
    rng = random.Random(seed)
    db = workdir / "profiles.sqlite3"
    movies = [int(m) for m in Recommender.load(model_dir).movie_ids.ids]
    acked: dict[int, float] = {}  # movie_id -> last acknowledged rating
    in_flight: tuple[int, float] | None = None
    profile_id: int | None = None
    lost: list[str] = []
    acknowledged = 0
    for _ in range(cycles):
        server = ServerProcess(model_dir, f"sqlite:///{db}", log_path=workdir / "server.log")
        server.start()
        with httpx.Client(base_url=server.url, timeout=10.0) as client:
            if profile_id is None:
                profile_id = client.post("/api/profiles", json={}).json()["profile"]["profile_id"]
            lost += _missing(client, profile_id, acked, in_flight)
            for movie_id, rating in _stored(client, profile_id).items():
                acked[movie_id] = rating  # the in-flight write may have landed: it counts now
            timer = threading.Timer(rng.uniform(*kill_after), server.kill)
            timer.start()
            while True:
                in_flight = (rng.choice(movies), float(rng.randint(1, 5)))
                try:
                    response = client.put(f"/api/profiles/{profile_id}/ratings/{in_flight[0]}",
                                          json={"rating": in_flight[1]})
                except httpx.TransportError:
                    break
                if response.status_code != 200:
                    raise RuntimeError(f"write answered {response.status_code}: {response.text}")
                acked[in_flight[0]] = in_flight[1]
                acknowledged += 1
            timer.join()
    with ServerProcess(model_dir, f"sqlite:///{db}") as server, httpx.Client(
            base_url=server.url, timeout=10.0) as client:
        lost += _missing(client, profile_id, acked, in_flight)
    with sqlite3.connect(db) as conn:
        integrity = conn.execute("PRAGMA integrity_check").fetchone()[0]
    return {"cycles": cycles, "acknowledged_writes": acknowledged, "lost_writes": len(lost),
            "lost": lost[:10], "integrity_check": integrity}


def _stored(client: httpx.Client, profile_id: int) -> dict[int, float]:
    ratings = client.get(f"/api/profiles/{profile_id}").json()["ratings"]
    return {r["movie_id"]: r["rating"] for r in ratings}


def _missing(client: httpx.Client, profile_id: int, acked: dict[int, float],
             in_flight: tuple[int, float] | None) -> list[str]:
    """Acknowledged writes the store does not hold (the in-flight value is also accepted)."""
    stored = _stored(client, profile_id)
    missing = []
    for movie_id, rating in acked.items():
        allowed = {rating} | ({in_flight[1]} if in_flight and in_flight[0] == movie_id else set())
        if stored.get(movie_id) not in allowed:
            missing.append(f"movie {movie_id}: acknowledged {rating}, stored "
                           f"{stored.get(movie_id)}")
    return missing


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, required=True, help="saved model folder")
    parser.add_argument("--cycles", type=int, default=20)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", type=Path, default=HERE / "results" / "service_durability.json")
    args = parser.parse_args()
    started = time.perf_counter()
    with tempfile.TemporaryDirectory() as workdir:
        result = kill_restart_cycles(args.model, Path(workdir), args.cycles, seed=args.seed)
    result["seconds"] = round(time.perf_counter() - started, 1)
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))
    return 0 if result["lost_writes"] == 0 and result["integrity_check"] == "ok" else 1


if __name__ == "__main__":
    raise SystemExit(main())
