"""Fit a `Recommender` on `RatingColumns` with the `ScaleTrainer`: the facade's path for tens
of millions of ratings, on one process or as one rank of a torchrun job."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from movierec.data import SeenMovies
from movierec.data.columnar import RatingColumns
from movierec.errors import ConfigError
from movierec.evaluate import DampedBias
from movierec.models import build_model
from movierec.recommender.recommender import Recommender
from movierec.training.distributed import World
from movierec.training.scale import ScaleConfig, ScaleTrainer

SCALE_FIELDS = frozenset(f.name for f in dataclasses.fields(ScaleConfig))


def split_scale_options(options: dict[str, Any]) -> tuple[ScaleConfig, dict[str, Any]]:
    """(ScaleConfig from the options that are its fields, the rest for the model preset)."""
    try:
        config = ScaleConfig(**{k: v for k, v in options.items() if k in SCALE_FIELDS})
    except TypeError as e:
        raise ConfigError(f"bad training option: {e}") from e
    return config, {k: v for k, v in options.items() if k not in SCALE_FIELDS}


def fit_at_scale(preset: str, train: RatingColumns, validation: RatingColumns | None, *,
                 config: ScaleConfig, model_options: dict[str, Any] | None = None,
                 world: World | None = None, checkpoints: str | Path | None = None,
                 resume: bool = False, movies: pd.DataFrame | None = None) -> Recommender:
    """Train `preset` on `train` (validation RMSE per epoch on `validation`) and return a
    Recommender whose seen movies and fallback biases come from `train`.

    Under torchrun every rank calls this; only rank 0 should save the result.
    """
    model_options = dict(model_options or {})
    model = build_model(preset, len(train.user_ids), len(train.movie_ids),
                        rating_range=train.rating_range, seed=config.seed, **model_options)
    history = ScaleTrainer(model, config, world=world, checkpoints=checkpoints).fit(
        train, validation, resume=resume)
    rec = Recommender(preset, seed=config.seed, validation_fraction=0.0,
                      progress=config.progress, **model_options)
    rec.model, rec.history = model, history
    rec.user_ids, rec.movie_ids = train.user_ids, train.movie_ids
    rec.seen = SeenMovies.from_indices(np.asarray(train.users), np.asarray(train.movies),
                                       len(train.user_ids), len(train.movie_ids))
    rec.fallback = DampedBias().fit(pd.DataFrame({
        "user_id": train.user_ids.ids[np.asarray(train.users)],
        "movie_id": train.movie_ids.ids[np.asarray(train.movies)],
        "rating": np.asarray(train.ratings)}))
    if movies is not None:
        rec.movies = movies.set_index("movie_id", drop=False)
    return rec
