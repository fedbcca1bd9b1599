"""`movierec tune`: Optuna search on the training part of one fold; prints and saves trials."""

from __future__ import annotations

import time
from pathlib import Path

import pandas as pd

from movierec.cli.evaluation import write_json
from movierec.cli.render import console, show
from movierec.data import load_movielens
from movierec.evaluate import protocol_folds


def run_tune(preset: str, variant: str, path: Path | None, *, protocol: str, trials: int,
             seed: int, json_out: Path | None) -> dict:
    """Tune on the training ratings of the protocol's first fold (its test part is dropped)."""
    from movierec.tuning import tune_preset

    data = load_movielens(variant, path)
    description, folds = protocol_folds(data, protocol, seed=seed)
    train = folds[0][0]
    console.print(f"tuning {preset} on the training part of {description} "
                  f"({len(train):,} ratings; 5% of them validate)")

    def report(number: int, score: float, params: dict) -> None:
        console.print(f"trial {number}: validation RMSE {score:.4f}  {params}")

    study = tune_preset(preset, train, trials=trials, seed=seed, on_trial=report)
    trials_frame = pd.DataFrame([{"trial": t.number, "val_rmse": t.value, **t.params}
                                 for t in study.trials]).sort_values("val_rmse")
    show(trials_frame.head(10), title=f"{preset}: best trials (validation RMSE)")
    result = {"preset": preset, "variant": variant, "tuned_on": f"training part of {description}",
              "seed": seed, "trials": trials, "date": time.strftime("%Y-%m-%d"),
              "best_val_rmse": study.best_value, "best_params": study.best_params,
              "all_trials": trials_frame.to_dict(orient="records")}
    if json_out is not None:
        write_json(json_out, result)
        console.print(f"wrote {json_out}")
    return result
