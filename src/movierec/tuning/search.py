"""`tune_preset`: Optuna search of a preset's options, scored on validation RMSE only.

Each trial fits `Recommender(preset, **suggested)` on the given training ratings; the
facade carves its seeded validation split from them, and the trial's score is the best
validation RMSE. Test ratings are never passed in, so they cannot steer the search.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pandas as pd

from movierec.errors import ConfigError
from movierec.recommender import Recommender

Suggest = Callable[[Any], dict[str, Any]]  # optuna.Trial -> preset options


def _biased_mf(trial: Any) -> dict[str, Any]:
    return {"dim": trial.suggest_categorical("dim", [16, 32, 64, 128]),
            "l2": trial.suggest_float("l2", 1e-3, 0.3, log=True),
            "lr": trial.suggest_float("lr", 3e-3, 0.1, log=True)}


def _autorec(trial: Any) -> dict[str, Any]:
    return {"hidden": (trial.suggest_int("hidden", 200, 800, step=100),),
            "l2": trial.suggest_float("l2", 10.0, 400.0, log=True)}


def _kernel_net(trial: Any) -> dict[str, Any]:
    return {"l2": trial.suggest_float("l2", 5.0, 80.0, log=True),
            "kernel_l2": trial.suggest_float("kernel_l2", 1e-3, 3e-2, log=True)}


def _item_knn(trial: Any) -> dict[str, Any]:
    return {"k": trial.suggest_int("k", 10, 100, step=10),
            "shrink": trial.suggest_float("shrink", 10.0, 500.0, log=True),
            "user_reg": trial.suggest_float("user_reg", 1.0, 50.0, log=True),
            "movie_reg": trial.suggest_float("movie_reg", 1.0, 50.0, log=True)}


SEARCH_SPACES: dict[str, Suggest] = {
    "biased-mf": _biased_mf,
    "autorec": _autorec,
    "autorec-user": _autorec,
    "kernel-net": _kernel_net,
    "kernel-net-user": _kernel_net,
    "item-knn": _item_knn,
}


def tune_preset(preset: str, train: pd.DataFrame, *, trials: int, seed: int = 0,
                validation_fraction: float = 0.05, timeout_s: float | None = None,
                on_trial: Callable[[int, float, dict[str, Any]], None] | None = None) -> Any:
    """Run a seeded TPE study over `SEARCH_SPACES[preset]`; returns the `optuna.Study`."""
    import optuna

    if preset not in SEARCH_SPACES:
        raise ConfigError(f"no search space for preset {preset!r}; tunable presets: "
                          f"{', '.join(SEARCH_SPACES)}")
    if not 0 < validation_fraction < 1:
        raise ConfigError("tuning needs a validation split: validation_fraction in (0, 1)")

    def objective(trial: optuna.Trial) -> float:
        options = SEARCH_SPACES[preset](trial)
        rec = Recommender(preset, seed=seed, validation_fraction=validation_fraction,
                          progress=False, **options)
        score = rec.fit(train).history.best_val_rmse
        if on_trial is not None:
            on_trial(trial.number, score, trial.params)
        return score

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.create_study(direction="minimize",
                                sampler=optuna.samplers.TPESampler(seed=seed))
    study.optimize(objective, n_trials=trials, timeout=timeout_s)
    return study
