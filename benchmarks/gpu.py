"""The GPU checks of issue #15 in one run: one table, one JSON.

In order of importance (a time budget skips what is left, and says so):
1. the 25M-rating scale path (162k users x 62k movies, biased-mf dim 64, synthetic data made
   here by data/synth.py): seconds, ratings/s and held-out RMSE after epochs 1, 2, 3 for the
   batch loop GPU fits took before (`ScaleTrainer`'s gather-and-step loop) and for
   `training/device_mf.py` at the same settings and at 1,048,576-rating batches;
2. top-10 metrics for every user of that set (one held-out rating each) against every movie;
3. dae and sasrec, then every other preset: fit seconds on ml-100k u1 and the test NDCG@10
   (RMSE too for rating models), on this device; the CPU column comes from a reference JSON
   written by `--device cpu --only presets` on the CPU the GPU is compared with.

    PYTHONPATH=src python benchmarks/gpu.py --device cpu --quick          # end to end, small
    PYTHONPATH=src python benchmarks/gpu.py --device cpu --only presets \\
        --data ../shared/data/ml-100k --out benchmarks/results/gpu_cpu.json   # CPU reference
    bash benchmarks/gpu_run.sh                                           # the H200 run

Without --data (or when the folder is missing) the presets fit an ml-100k-shaped synthetic
set instead (943 users x 1,682 movies, 100k ratings, random 80/20); the output says so.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import os
import platform
import statistics
import sys
import tempfile
import time
import traceback
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import torch

RESULTS = Path(__file__).parent / "results"
REFERENCE = RESULTS / "gpu_cpu.json"
FIRST_PRESETS = ("dae", "sasrec")  # the 10x claims: measured before the others
BATCH, LR, EPOCHS = 65_536, 0.05, 3  # the scale path's defaults (ScaleConfig)
BIG_BATCH = 1_048_576
# Row-wise Adagrad moves a row ~lr * sqrt(its steps); 16x fewer, 16x larger batches take
# lr * 4. Checked on the CPU on a 2.5M-rating synthetic set (16.2k users x 6.2k movies, dim
# 64, 2% validation split): RMSE after epochs 1-3 0.636 0.562 0.536 at 16x the batch and
# lr 0.2, against 0.704 0.654 0.625 for the batch loop at 65,536/10 and lr 0.05.
BIG_LR = LR * math.sqrt(BIG_BATCH / BATCH)
FULL = {"ratings": 25_000_000, "users": 162_000, "movies": 62_000, "dim": 64}
QUICK = {"ratings": 200_000, "users": 2_000, "movies": 1_000, "dim": 16}
# --quick: 2 epochs per preset, "best" with one member of each kind (tests' settings)
QUICK_OPTIONS = {"epochs": 2, "member_processes": 1}
QUICK_PRESET_OPTIONS = {"best": {"members": ("autorec", "biased-mf", "item-knn")},
                        "retrieve-rank": {"candidates": 20}}


class Run:
    """Collects rows, keeps time against the budget, never lets one check end the run, and
    rewrites the JSON after every check (a run stopped from outside keeps what it measured)."""

    def __init__(self, device: str, budget_s: float, out: Path) -> None:
        self.device, self.budget_s, self.out = device, budget_s, out
        self.started = time.perf_counter()
        self.rows: list[dict] = []
        self.notes: list[str] = []
        self.preset_data: str | None = None  # "ml-100k u1" or "synthetic": what CPU refs match

    def save(self) -> None:
        from movierec.cli.evaluation import write_json

        write_json(self.out, {"when": time.strftime("%Y-%m-%d %H:%M:%S"),
                              "command": " ".join(sys.argv),
                              "environment": environment(self.device),
                              "seconds": round(time.perf_counter() - self.started, 1),
                              "preset_data": self.preset_data, "notes": self.notes,
                              "rows": self.rows})

    def left(self) -> float:
        return self.budget_s - (time.perf_counter() - self.started)

    def check(self, section: str, name: str, work: Callable[[], dict]) -> dict | None:
        """Run one check; its row, or an error row (with the traceback in the JSON)."""
        if self.left() <= 0:
            row = {"section": section, "name": name, "skipped": "time budget spent"}
        else:
            try:
                row = {"section": section, "name": name, **work()}
            except Exception as err:  # one failing check must not lose the others' numbers
                row = {"section": section, "name": name, "error": f"{type(err).__name__}: "
                       f"{str(err).splitlines()[0] if str(err) else ''}",
                       "traceback": traceback.format_exc()}
        self.rows.append(row)
        self.save()
        print(f"  {section} / {name}: " + ", ".join(
            f"{k}={v}" for k, v in row.items() if k not in ("section", "name", "traceback")),
            flush=True)
        return row


def sync(device: str) -> None:
    if device.startswith("cuda"):
        torch.cuda.synchronize()


def timed(device: str, work: Callable[[], object]) -> tuple[object, float]:
    sync(device)
    started = time.perf_counter()
    result = work()
    sync(device)
    return result, time.perf_counter() - started


# ----------------------------------------------------------------------------- scale path
@contextlib.contextmanager
def epoch_loop(kind: str) -> Iterator[None]:
    """Make ScaleTrainer take "batch" (its gather-and-step loop: what GPU factorisation fits
    ran before device_mf.py) or "device" (device_mf.py), on any device."""
    from movierec.training import scale

    saved = scale.takes_kernel_path, scale.takes_device_path
    scale.takes_kernel_path = lambda *args: False
    scale.takes_device_path = lambda *args: kind == "device"
    try:
        yield
    finally:
        scale.takes_kernel_path, scale.takes_device_path = saved


def synthetic_columns(sizes: dict, folder: Path):
    """The synthetic set (made once under `folder`) split into train and one held-out
    rating per user (so every user is ranked), both as plain arrays."""
    from movierec.data.columnar import RatingColumns
    from movierec.data.synth import SynthSpec, write_synthetic_movielens

    parquet = folder / "ratings.parquet"
    if not parquet.is_file():
        write_synthetic_movielens(folder, SynthSpec(sizes["ratings"], sizes["users"],
                                                    sizes["movies"]))
    columns = RatingColumns.from_parquet(parquet).gather()
    order = np.random.default_rng(0).permutation(len(columns))
    _, first = np.unique(np.asarray(columns.users)[order], return_index=True)
    held = np.zeros(len(columns), dtype=bool)
    held[order[first]] = True
    return columns.take(~held).gather(), columns.take(held).gather()


def scale_rows(run: Run, sizes: dict, train, test) -> object | None:
    """Three epochs per loop; returns the model of the big-batch device loop (for top-k)."""
    from movierec.models import build_model
    from movierec.training.scale import ScaleConfig, ScaleTrainer

    share = len(train) / FULL["ratings"]  # --quick scales the batches with the data
    batch, big = max(256, round(BATCH * share)), max(1024, round(BIG_BATCH * share))
    cases = [("batch", batch, LR, f"batch loop (before) {batch:,}"),
             ("device", batch, LR, f"device_mf {batch:,}"),
             ("device", big, BIG_LR, f"device_mf {big:,}, lr {BIG_LR:g}")]
    fitted = None
    for kind, batch_size, lr, name in cases:
        model = build_model("biased-mf", len(train.user_ids), len(train.movie_ids),
                            rating_range=train.rating_range, seed=0, dim=sizes["dim"])
        config = ScaleConfig(epochs=EPOCHS, batch_size=batch_size, lr=lr, progress=False,
                             device=run.device)

        def work(model=model, config=config, kind=kind) -> dict:
            with epoch_loop(kind):
                records = ScaleTrainer(model, config).fit(train, test).records
            seconds = [r.seconds for r in records]
            return {"epoch_s": [round(s, 4) for s in seconds],
                    "median_epoch_s": round(statistics.median(seconds), 4),
                    "ratings_per_s": round(len(train) / statistics.median(seconds)),
                    "heldout_rmse": [round(r.val_rmse, 4) for r in records]}

        row = run.check("scale epoch", name, work)
        if row is not None and "error" not in row and "skipped" not in row:
            fitted = model
    return fitted


def topk_row(run: Run, model, train, test) -> None:
    """Top-10 metrics of every user with a held-out rating against every movie."""
    from movierec.data import SeenMovies
    from movierec.devices import as_index, model_device
    from movierec.evaluate.ranking import ranking_metrics

    def work() -> dict:
        seen = SeenMovies.from_indices(np.asarray(train.users), np.asarray(train.movies),
                                       len(train.user_ids), len(train.movie_ids))
        device = model_device(model)
        block = 8192 if device.type == "cuda" else 1024

        def scorer(users: np.ndarray) -> torch.Tensor:
            return model.score(as_index(users, device))

        with torch.no_grad():
            metrics, seconds = timed(run.device, lambda: ranking_metrics(
                scorer, np.asarray(test.users, np.int64), np.asarray(test.movies, np.int64),
                len(train.movie_ids), seen=seen, ks=(10,), block=block))
        return {"seconds": round(seconds, 3), "users": len(np.unique(test.users)),
                "movies": len(train.movie_ids), "block": block,
                **{k: round(v, 4) for k, v in metrics.items()}}

    run.check("top-10 of every user", f"{len(train.user_ids):,} users x "
              f"{len(train.movie_ids):,} movies", work)


# ----------------------------------------------------------------------------- presets
def preset_data(path: Path | None, quick: bool, scratch: Path
                ) -> tuple[pd.DataFrame, pd.DataFrame, str, str]:
    """(train, test, what they are, kind): ml-100k u1 when `path` holds it, else synthetic."""
    if path is not None and (path / "u1.base").is_file() and not quick:
        from movierec.data import load_movielens

        train, test = load_movielens("ml-100k", path=path, progress=False).canonical_folds()[0]
        return train, test, f"ml-100k u1 ({path})", "ml-100k u1"
    from movierec.data import random_split
    from movierec.data.synth import SynthSpec, write_synthetic_movielens

    spec = SynthSpec(20_000, 300, 400) if quick else SynthSpec(100_000, 943, 1_682)
    folder = write_synthetic_movielens(scratch / "presets", spec)
    ratings = pd.read_parquet(folder / "ratings.parquet")
    train, test = random_split(ratings, 0.2, seed=0)
    why = "--quick" if quick else f"no ml-100k u1 files at {path}"
    return train, test, (f"SYNTHETIC ml-100k-shaped set ({spec.n_users} users x "
                         f"{spec.n_movies} movies, {spec.n_ratings:,} ratings, random 80/20; "
                         f"{why})"), "synthetic quick" if quick else "synthetic"


def preset_rows(run: Run, train: pd.DataFrame, test: pd.DataFrame, quick: bool,
                names: list[str]) -> None:
    from movierec import Recommender

    for name in names:
        options = {**QUICK_OPTIONS, **QUICK_PRESET_OPTIONS.get(name, {})} if quick else {}

        def work(name=name, options=options) -> dict:
            rec = Recommender(name, progress=False, device=run.device, **options)
            _, seconds = timed(run.device, lambda: rec.fit(train))
            row = {"fit_s": round(seconds, 3),
                   "ndcg@10": round(rec.ranking_metrics(test, ks=(10,))["ndcg@10"], 4)}
            if rec.model.predicts_ratings:
                known = (test["user_id"].isin(rec.user_ids.ids)
                         & test["movie_id"].isin(rec.movie_ids.ids))
                error = rec.predict(test[known]) - test.loc[known, "rating"].to_numpy()
                row["rmse"] = round(float(np.sqrt(np.mean(error ** 2))), 4)
            return row

        run.check("fit", name, work)


def warm_up(device: str) -> float:
    """One-off costs paid before anything is timed, on every device alike: the CUDA context,
    cuBLAS, lazily loaded kernels, and the torch._dynamo import of the first fused Adam."""
    from movierec import Recommender
    from movierec.data import make_synthetic_ratings

    started = time.perf_counter()
    ratings = make_synthetic_ratings(n_users=50, n_movies=40, n_ratings=600, seed=0)
    for name in ("biased-mf", *FIRST_PRESETS):
        Recommender(name, progress=False, device=device, epochs=1).fit(ratings)
    sync(device)
    return time.perf_counter() - started


# ----------------------------------------------------------------------------- report
def table(rows: list[dict], reference: dict[str, dict], device: str) -> str:
    """The one table: every check, this device beside the CPU reference where there is one."""
    lines = [f"{'check':<22} {'case':<34} {'CPU ref s':>10} {device + ' s':>12} {'x':>7}  "
             "quality (CPU ref -> this device)"]
    for row in rows:
        if "error" in row or "skipped" in row:
            lines.append(f"{row['section']:<22} {row['name']:<34} "
                         f"{'FAILED: ' + row['error'] if 'error' in row else row['skipped']}")
            continue
        cpu, here, quality = None, None, ""
        if row["section"] == "fit":
            here, ref = row["fit_s"], reference.get(row["name"], {})
            cpu = ref.get("fit_s")
            quality = f"NDCG@10 {ref.get('ndcg@10', '-')} -> {row['ndcg@10']}"
            if "rmse" in row:
                quality += f", RMSE {ref.get('rmse', '-')} -> {row['rmse']}"
        elif row["section"] == "scale epoch":
            here = row["median_epoch_s"]
            quality = (f"{row['ratings_per_s'] / 1e6:.1f}M ratings/s; held-out RMSE after "
                       "epochs 1-3: " + " ".join(f"{r:.4f}" for r in row["heldout_rmse"]))
        else:
            here = row["seconds"]
            quality = f"{row['users']:,} users: NDCG@10 {row['ndcg@10']}, recall@10 " \
                      f"{row['recall@10']}"
        ratio = f"{cpu / here:.1f}" if cpu and here else ""
        lines.append(f"{row['section']:<22} {row['name']:<34} "
                     f"{'' if cpu is None else format(cpu, '.3f'):>10} {here:>12.3f} "
                     f"{ratio:>7}  {quality}")
    return "\n".join(lines)


def environment(device: str) -> dict:
    found = {"python": sys.version.split()[0], "torch": torch.__version__,
             "platform": platform.platform(), "cpus": os.cpu_count(), "device": device,
             "load_average_at_start": os.getloadavg()}
    if device.startswith("cuda"):
        found.update(gpu=torch.cuda.get_device_name(), cuda=torch.version.cuda)
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--quick", action="store_true",
                        help="small sizes (a 200k-rating scale set, tiny preset fits)")
    parser.add_argument("--only", nargs="+", choices=("scale", "presets"),
                        default=["scale", "presets"])
    parser.add_argument("--presets", nargs="+", help="presets to fit (default: all)")
    parser.add_argument("--data", type=Path, help="ml-100k folder with u1.base / u1.test")
    parser.add_argument("--scratch", type=Path,
                        help="where synthetic data goes (default: a temporary folder)")
    parser.add_argument("--reference", type=Path, default=REFERENCE,
                        help="CPU reference JSON (a --device cpu --only presets run)")
    parser.add_argument("--budget-s", type=float, default=420.0,
                        help="stop starting checks after this many seconds")
    parser.add_argument("--make-data-only", action="store_true",
                        help="only write the scale set into --scratch (to overlap it with "
                             "other work), then exit")
    parser.add_argument("--threads", type=int,
                        help="torch CPU threads (default: torch's own choice)")
    parser.add_argument("--out", type=Path, default=RESULTS / "gpu.json")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    from movierec.devices import resolve_device
    from movierec.models import PRESETS

    if args.make_data_only:
        sizes = QUICK if args.quick else FULL
        synthetic_columns(sizes, args.scratch / f"synth-{sizes['ratings']}")
        return
    device = str(resolve_device(args.device))
    run = Run(device, args.budget_s, args.out)
    print(f"device {device}; warm-up {warm_up(device):.1f} s", flush=True)
    with contextlib.ExitStack() as stack:
        scratch = args.scratch or Path(stack.enter_context(tempfile.TemporaryDirectory()))
        if "scale" in args.only:
            sizes = QUICK if args.quick else FULL
            (train, test), seconds = timed("cpu", lambda: synthetic_columns(
                sizes, scratch / f"synth-{sizes['ratings']}"))
            run.notes.append(f"scale set: {len(train) + len(test):,} synthetic ratings, "
                             f"{len(train.user_ids):,} users x {len(train.movie_ids):,} "
                             f"movies, dim {sizes['dim']}, one held-out rating per user "
                             f"({seconds:.0f} s to make and read)")
            print(run.notes[-1], flush=True)
            model = scale_rows(run, sizes, train, test)
            if model is not None:
                topk_row(run, model, train, test)
            del train, test, model
        if "presets" in args.only:
            train, test, what, run.preset_data = preset_data(args.data, args.quick, scratch)
            run.notes.append(f"preset fits: {what}; each Recommender(preset, device=...) "
                             "with its own defaults, ratings frame alone")
            print(run.notes[-1], flush=True)
            names = args.presets or [*FIRST_PRESETS,
                                     *(p for p in PRESETS if p not in FIRST_PRESETS)]
            preset_rows(run, train, test, args.quick, names)
    reference = {}
    if args.reference.is_file() and args.reference.resolve() != args.out.resolve():
        saved = json.loads(args.reference.read_text())
        if saved.get("preset_data") == run.preset_data:
            reference = {r["name"]: r for r in saved["rows"] if r.get("section") == "fit"}
            run.notes.append(f"CPU reference: {args.reference} ({saved['environment']['cpus']}"
                             f" CPUs, {saved['environment']['platform']}, load average "
                             f"{saved['environment']['load_average_at_start'][0]:.1f} at the "
                             f"start, measured {saved['when']})")
        else:
            run.notes.append(f"CPU reference {args.reference} not shown: it fitted "
                             f"{saved.get('preset_data')}, this run {run.preset_data}")
    print("\n" + table(run.rows, reference, device))
    for note in run.notes:
        print(f"- {note}")
    run.save()
    print(f"wrote {args.out} ({time.perf_counter() - run.started:.0f} s in all)")


if __name__ == "__main__":
    main()
