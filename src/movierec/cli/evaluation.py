"""`movierec evaluate`: presets beside baselines on a holdout or cross-validation folds."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
from rich.progress import Progress

from movierec.cli.render import console, show
from movierec.data import MovieLensData, kfold_splits, load_movielens, random_split
from movierec.evaluate import DampedBias, GlobalMean, cross_validate


def choose_folds(data: MovieLensData, cv: bool, k: int, seed: int
                 ) -> tuple[str, list[tuple[pd.DataFrame, pd.DataFrame]]]:
    """Canonical u1..u5 when cross-validating ml-100k with its files, else seeded random folds."""
    if not cv:
        return "random 80/20 holdout", [random_split(data.ratings, test_fraction=0.2, seed=seed)]
    if data.has_canonical_folds:
        return "canonical folds u1..u5", data.canonical_folds("u")
    console.print(f"[yellow]canonical folds unavailable ({data.source}); "
                  f"using {k} seeded random folds[/]")
    return f"{k} random folds (seed {seed})", kfold_splits(data.ratings, k=k, seed=seed)


def evaluate_presets(presets: list[str], variant: str, path: Path | None, *, cv: bool,
                     folds: int, seed: int, options: list[str] | None) -> pd.DataFrame:
    """Cross-validate the presets and both baselines; print and return the summary."""
    from movierec import Recommender
    from movierec.cli.options import parse_options

    extra = parse_options(options)
    data = load_movielens(variant, path)
    protocol, splits = choose_folds(data, cv, folds, seed)
    estimators = {"global-mean": GlobalMean, "damped-bias": DampedBias}
    for preset in presets:
        Recommender(preset, **extra)  # fail fast on a bad preset or option
        estimators[preset] = lambda p=preset: Recommender(p, seed=seed, progress=False, **extra)
    with Progress(console=console, transient=True) as progress:
        task = progress.add_task("evaluating", total=len(estimators) * len(splits))

        def advance(name: str, fold: int, row: dict) -> None:
            progress.update(task, advance=1, description=f"{name} fold {fold}: "
                                                         f"RMSE {row['rmse']:.4f}")

        _, summary = cross_validate(estimators, splits, on_fold=advance)
    table = pd.DataFrame({
        "model": summary["model"],
        "RMSE": [f"{m:.4f} ± {s:.4f}" for m, s in zip(summary["rmse_mean"], summary["rmse_std"],
                                                      strict=True)],
        "MAE": [f"{m:.4f} ± {s:.4f}" for m, s in zip(summary["mae_mean"], summary["mae_std"],
                                                     strict=True)],
        "train s/fold": summary["train_s_mean"].map("{:.2f}".format),
    })
    if "ratings_per_s_mean" in summary:
        table["ratings/s"] = summary["ratings_per_s_mean"].map(
            lambda v: "" if pd.isna(v) else f"{v:,.0f}")
    show(table, title=f"{variant}, {protocol}")
    return summary
