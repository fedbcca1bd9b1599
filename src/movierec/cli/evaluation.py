"""`movierec evaluate`: presets beside baselines on a holdout or cross-validation folds."""

from __future__ import annotations

import json
import os
import platform
import tempfile
import time
from pathlib import Path

import pandas as pd
from rich.progress import Progress

from movierec.cli.render import console, show
from movierec.data import load_movielens
from movierec.evaluate import (
    DampedBias,
    GlobalMean,
    cross_validate,
    protocol_folds,
    rating_folds,
)


def evaluate_presets(presets: list[str], variant: str, path: Path | None, *, cv: bool,
                     folds: int, seed: int, options: dict[str, object],
                     json_out: Path | None = None, protocol: str | None = None) -> pd.DataFrame:
    """Evaluate the presets and both baselines on the same folds; print, optionally save JSON.

    `protocol` names one of `movierec.evaluate.PROTOCOLS` (then `cv` is ignored)."""
    from movierec import Recommender
    from movierec.errors import ConfigError
    from movierec.models import get_preset

    for preset in presets:  # fail fast, before any data is read
        if not Recommender(preset, **options).rater_preset and not get_preset(
                preset).model_class.predicts_ratings:
            raise ConfigError(f"preset {preset!r} ranks but predicts no ratings, and `evaluate` "
                              f"reports RMSE/MAE; `movierec train --model {preset}` reports its "
                              "held-out NDCG/recall, benchmarks/topk.py compares rankers")
    data = load_movielens(variant, path)
    if protocol is None:
        protocol, splits = rating_folds(data, cv=cv, k=folds, seed=seed)
    else:
        protocol, splits = protocol_folds(data, protocol, k=folds, seed=seed)
    estimators = {"global-mean": GlobalMean, "damped-bias": DampedBias}
    for preset in presets:
        estimators[preset] = lambda p=preset: Recommender(p, seed=seed, progress=False, **options)
    with Progress(console=console, transient=True) as progress:
        task = progress.add_task("evaluating", total=len(estimators) * len(splits))

        def advance(name: str, fold: int, row: dict) -> None:
            line = f"{name} fold {fold}: RMSE {row['rmse']:.4f}, {row['train_s']:.1f}s"
            progress.update(task, advance=1, description=line)
            if not console.is_terminal:  # logs and pipes get one line per fit
                console.print(line)

        per_fold, summary = cross_validate(estimators, splits, on_fold=advance)
    show(summary_table(summary), title=f"{variant}, {protocol}")
    if json_out is not None:
        write_json(json_out, {
            "variant": variant, "source": data.source, "protocol": protocol, "seed": seed,
            "options": options, "date": time.strftime("%Y-%m-%d"),
            "machine": f"{platform.machine()}, {os.cpu_count()} cores",
            "summary": summary.to_dict(orient="records"),
            "per_fold": per_fold.to_dict(orient="records"),
        })
        console.print(f"wrote {json_out}")
    return summary


def summary_table(summary: pd.DataFrame) -> pd.DataFrame:
    """Display frame: mean ± std per metric, train seconds per fold, ratings/s."""
    def spread(metric: str) -> list[str]:
        return [f"{m:.4f} ± {s:.4f}" for m, s in
                zip(summary[f"{metric}_mean"], summary[f"{metric}_std"], strict=True)]

    table = pd.DataFrame({"model": summary["model"], "RMSE": spread("rmse"),
                          "MAE": spread("mae"),
                          "train s/fold": summary["train_s_mean"].map("{:.2f}".format)})
    if "ratings_per_s_mean" in summary:
        table["ratings/s"] = summary["ratings_per_s_mean"].map(
            lambda v: "" if pd.isna(v) else f"{v:,.0f}")
    return table


def write_json(path: Path, payload: dict) -> None:
    """Write JSON atomically: a temporary file in the same folder, then rename."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile("w", dir=path.parent, suffix=".tmp", delete=False) as tmp:
        json.dump(payload, tmp, indent=2, default=str)
    os.replace(tmp.name, path)
