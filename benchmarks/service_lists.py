"""The lists people get over HTTP: NDCG@10 of `movierec serve`'s recommendations for known
users and for new profiles built from the same people's ratings, beside EASE in the same run.

    python benchmarks/service_lists.py                      # top-k, ml-100k 80/20 (seed 42)
    python benchmarks/service_lists.py --preset ease --data ml-latest-small

Protocol (issue #14): split ml-100k's ratings 80/20 at random (seed 42, the split of
benchmarks/topk.py); fit the preset on the 80% with the ratings frame alone and serve it;
GET /api/users/{u}/recommendations?k=10 for every test user, NDCG@10 against their test
movies. Then POST /api/profiles with the training ratings (oldest first) of `--profiles` test
users and score the profile's list the same way: a profile should get lists as good as the
same person gets as a known user. Profile creation latency: p50/p99 of those POSTs. EASE
(l2 250, as benchmarks/topk.py chooses on validation) is scored through the facade on the same
split as the reference. Writes JSON to results/service_lists[-<data>].json.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent
SHARED = HERE.parent.parent / "shared" / "data"


def ndcg_at_10(listed: list[int], relevant: set[int]) -> float:
    gains = np.array([m in relevant for m in listed[:10]], dtype=float)
    dcg = float((gains / np.log2(np.arange(2, len(gains) + 2))).sum())
    ideal = float((1.0 / np.log2(np.arange(2, min(len(relevant), 10) + 2))).sum())
    return dcg / ideal


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--preset", default="top-k")
    parser.add_argument("--data", default="ml-100k")
    parser.add_argument("--profiles", type=int, default=150)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    folder = SHARED / args.data
    if not folder.exists():
        print(f"skipped: {folder} not found")
        return 0
    import httpx

    from movierec import Recommender
    from movierec.data import load_movielens, random_split
    from movierec.service.process import ServerProcess

    data = load_movielens(args.data, folder, progress=False)
    train, test = random_split(data.ratings, test_fraction=0.2, seed=args.seed)
    started = time.perf_counter()
    rec = Recommender(args.preset, progress=False).fit(train)
    fit_seconds = time.perf_counter() - started
    ease = Recommender("ease", l2=250.0, progress=False).fit(train)
    known = test[test["user_id"].isin(rec.user_ids.ids) & test["movie_id"].isin(rec.movie_ids.ids)]
    relevant = known.groupby("user_id")["movie_id"].apply(set)
    users = [int(u) for u in relevant.index]
    rng = np.random.default_rng(args.seed)
    profiled = sorted(rng.choice(users, min(args.profiles, len(users)), replace=False).tolist())
    with tempfile.TemporaryDirectory() as workdir:
        model_dir = rec.save(Path(workdir) / "model")
        db = f"sqlite:///{Path(workdir) / 'profiles.sqlite3'}"
        with ServerProcess(model_dir, db, log_path=Path(workdir) / "server.log") as server, \
                httpx.Client(base_url=server.url, timeout=30.0) as http:
            served = {}
            for user in users:
                reply = http.get(f"/api/users/{user}/recommendations", params={"k": 10})
                reply.raise_for_status()
                served[user] = [m["movie_id"] for m in reply.json()]
            as_profile, latencies = {}, []
            for user in profiled:
                rated = train[train["user_id"] == user].sort_values("timestamp", kind="stable")
                body = {"name": f"user {user}", "ratings": [
                    {"movie_id": int(m), "rating": float(r)}
                    for m, r in zip(rated["movie_id"], rated["rating"], strict=True)]}
                start = time.perf_counter()
                reply = http.post("/api/profiles", json=body, params={"k": 10})
                latencies.append((time.perf_counter() - start) * 1000)
                reply.raise_for_status()
                as_profile[user] = [m["movie_id"] for m in reply.json()["recommendations"]]
    ease_lists = ease.recommend_many(users, k=10).groupby("user_id")["movie_id"].apply(list)
    result = {
        "data": args.data, "preset": args.preset, "roles": rec.roles(), "seed": args.seed,
        "date": time.strftime("%Y-%m-%d"), "fit_s": fit_seconds,
        "machine": f"{platform.machine()}, {os.cpu_count()} cores",
        "test_users": len(users),
        "served_known_ndcg@10": float(np.mean([ndcg_at_10(served[u], relevant[u])
                                               for u in users])),
        "ease_facade_ndcg@10": float(np.mean([ndcg_at_10(ease_lists[u], relevant[u])
                                              for u in users])),
        "profiles": len(profiled),
        "profiles_known_ndcg@10": float(np.mean([ndcg_at_10(served[u], relevant[u])
                                                 for u in profiled])),
        "profiles_ndcg@10": float(np.mean([ndcg_at_10(as_profile[u], relevant[u])
                                           for u in profiled])),
        "profile_create_p50_ms": float(np.percentile(latencies, 50)),
        "profile_create_p99_ms": float(np.percentile(latencies, 99)),
        "seen_movies_listed": int(sum(
            len(set(served[u]) & set(train.loc[train["user_id"] == u, "movie_id"]))
            for u in users)),
    }
    result["profiles_share_of_known"] = (result["profiles_ndcg@10"]
                                         / result["profiles_known_ndcg@10"])
    print(pd.Series(result).to_string())
    out = args.json or HERE / "results" / (
        "service_lists.json" if args.data == "ml-100k" else f"service_lists-{args.data}.json")
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_suffix(".tmp")
    tmp.write_text(json.dumps(result, indent=2))
    tmp.replace(out)
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
