"""Memory and time of the dense item-item presets: the figures behind `fit_memory`'s bytes
per movie pair (models/fit_memory.py) and item2vec's dense scores.

    python benchmarks/dense_memory.py                        # ml-latest-small, 3 presets
    python benchmarks/dense_memory.py --data ml-100k --presets ease

Each preset runs in a fresh process on all of the data set's ratings (peak resident memory,
`ru_maxrss`, is per process): fit seconds, the rise in peak memory over the fit and then over a
first `recommend` per (movie, movie) pair, beside the bytes the fit check allows, and the
median `recommend` time of the 20 heaviest users (after the first call).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
SHARED = HERE.parent.parent / "shared" / "data"
OPTIONS = {"item2vec": {"window": 3}, "ease": {"l2": 250.0}}


def _peak_bytes() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # KiB on Linux


def measure(preset: str, folder: Path) -> dict:
    """One preset's row, measured in this process."""
    from movierec import Recommender
    from movierec.data import load_movielens
    from movierec.models import get_preset

    ratings = load_movielens(folder.name, folder, progress=False).ratings
    before = _peak_bytes()
    start = time.perf_counter()
    rec = Recommender(preset, progress=False, rater=None, **OPTIONS.get(preset, {})).fit(ratings)
    fit_s = time.perf_counter() - start
    after_fit = _peak_bytes()
    heavy = ratings["user_id"].value_counts().index[:20].to_numpy()
    start = time.perf_counter()
    rec.recommend(int(heavy[0]), k=10)
    first_ms = (time.perf_counter() - start) * 1000
    after_score = _peak_bytes()
    times = []
    for user in heavy:
        start = time.perf_counter()
        rec.recommend(int(user), k=10)
        times.append((time.perf_counter() - start) * 1000)
    n = len(rec.movie_ids)
    spec = get_preset(preset)
    allowed = spec.model_class.fit_memory(n, {**spec.model_defaults, **OPTIONS.get(preset, {})})
    return {"preset": preset, "movies": n, "fit_s": fit_s,
            "fit_bytes_per_pair": (after_fit - before) / n**2,
            "with_first_score_bytes_per_pair": (after_score - before) / n**2,
            "allowed_bytes_per_pair": allowed / n**2,
            "first_recommend_ms": first_ms,
            "heavy_users_recommend_median_ms": float(np.median(times))}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default="ml-latest-small")
    parser.add_argument("--data-dir", type=Path, help="folder holding the variants' folders")
    parser.add_argument("--presets", nargs="+", default=["ease", "dae", "item2vec"])
    parser.add_argument("--one", help=argparse.SUPPRESS)  # a child process: one preset
    parser.add_argument("--out", type=Path, default=HERE / "results" / "dense_memory.json")
    args = parser.parse_args()
    folder = (args.data_dir or SHARED) / args.data
    if args.one:
        print(json.dumps(measure(args.one, folder)))
        return
    if not folder.is_dir():
        print(f"skipped {args.data}: {folder} not present")
        return
    rows = []
    for preset in args.presets:
        child = subprocess.run([sys.executable, __file__, "--data", args.data, "--data-dir",
                                str(folder.parent), "--one", preset],
                               capture_output=True, text=True, check=True)
        rows.append(json.loads(child.stdout.strip().splitlines()[-1]))
        print(" ".join(f"{k} {v:.2f}" if isinstance(v, float) else f"{k} {v}"
                       for k, v in rows[-1].items()), flush=True)
    from movierec.cli.evaluation import write_json

    write_json(args.out, {"data": args.data, "date": time.strftime("%Y-%m-%d"),
                          "machine": f"{platform.machine()}, {os.cpu_count()} cores, "
                                     f"load {os.getloadavg()[0]:.1f}", "results": rows})
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
