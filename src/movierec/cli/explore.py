"""`movierec explore`: load a saved model and its data, write the HTML insight report."""

from __future__ import annotations

import time
from pathlib import Path

from movierec.analysis.projection import MapMethod
from movierec.cli.render import console


def run_explore(model_dir: Path, out: Path, variant: str, path: Path | None, *,
                min_ratings: int, map_min_ratings: int, map_method: MapMethod) -> Path:
    """Load model and data, build the report step by step with timings, print where it is."""
    from movierec import Recommender
    from movierec.analysis import ReportSettings, write_report
    from movierec.data import load_movielens

    start = time.perf_counter()
    rec = Recommender.load(model_dir)
    data = load_movielens(variant, path)
    console.print(f"loaded {rec.preset} from {model_dir} and {variant} from {data.source} "
                  f"({time.perf_counter() - start:.1f} s)")
    settings = ReportSettings(min_ratings=min_ratings, map_min_ratings=map_min_ratings,
                              map_method=map_method)

    def progress(step: str) -> None:
        console.print(f"[dim]{time.perf_counter() - start:6.1f} s[/] {step}")

    report = write_report(rec, data, out, settings, progress)
    console.print(f"wrote [bold]{report}[/] in {time.perf_counter() - start:.1f} s")
    return report
