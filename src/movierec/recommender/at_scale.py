"""One `fit` at every size: the columnar path `Recommender.fit` takes for large inputs, and
`movierec train --ratings` takes always (`fit_columns` is the code both run).

Large means `COLUMNAR_ROWS` ratings or more (or `engine="columnar"`). The ratings then never
become a validated frame or int64 tensors: they are read once into `RatingColumns` (int32 ids
mapped by a lookup table, float32 ratings: 12 bytes a rating), the validation carve is an
index into them, and `ScaleTrainer` trains from them (factorisation presets through the
compiled kernel). Seen movies and the fallback biases are built from the same columns.
"""

from __future__ import annotations

import dataclasses
import logging
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import pyarrow as pa

from movierec.data import SeenMovies, movielens_scale
from movierec.data.columnar import RatingColumns, RatingSource, count_rows, open_parquet
from movierec.errors import ConfigError, DataFormatError
from movierec.evaluate import DampedBias
from movierec.models import build_model, get_preset
from movierec.training.distributed import World
from movierec.training.scale import ScaleConfig, ScaleTrainer

if TYPE_CHECKING:
    from movierec.recommender.recommender import Recommender

log = logging.getLogger(__name__)

# From this many ratings `Recommender.fit` takes the columnar path by itself (below it the
# frame path's per-fit set-up is cheap, and its optimiser and early stopping are the tuned ones).
COLUMNAR_ROWS = 2_000_000
ENGINES = ("auto", "columnar", "frame")
SCALE_FIELDS = frozenset(f.name for f in dataclasses.fields(ScaleConfig))
# training options the columnar path has no use for (ScaleTrainer: row-wise Adagrad or the
# kernel's, every epoch kept)
_FRAME_ONLY = ("optimizer", "weight_decay", "adam_eps", "momentum", "lr_schedule", "patience",
               "lbfgs_iterations", "member_processes")
_BLOCK = 1 << 22
FIT_SOURCE = "ratings passed to fit()"


def split_scale_options(options: dict[str, Any]) -> tuple[ScaleConfig, dict[str, Any]]:
    """(ScaleConfig from the options that are its fields, the rest for the model preset)."""
    try:
        config = ScaleConfig(**{k: v for k, v in options.items() if k in SCALE_FIELDS})
    except TypeError as e:
        raise ConfigError(f"bad training option: {e}") from e
    return config, {k: v for k, v in options.items() if k not in SCALE_FIELDS}


def takes_columnar_path(rec: Recommender, ratings: RatingSource, engine: str, *,
                        refit: bool) -> bool:
    """Whether `rec.fit(ratings, engine=engine)` trains on the columnar path: asked for, or
    large input for a preset it serves (rating models trained on minibatches of ratings,
    without side features); `refit` (train_parts, continue_training) stays on the frame path."""
    if engine not in ENGINES:
        raise ConfigError(f"engine must be one of {', '.join(ENGINES)}, got {engine!r}")
    if engine == "frame":
        return False
    model_class = get_preset(rec.preset).model_class
    serves = (model_class.training_regime == "minibatch" and model_class.predicts_ratings
              and not getattr(model_class, "uses_side_features", False))
    if engine == "auto":
        return serves and not refit and count_rows(ratings) >= COLUMNAR_ROWS
    if not serves:
        raise ConfigError(f"engine='columnar' trains rating models on minibatches; preset "
                          f"{rec.preset!r} trains {model_class.training_regime.replace('_', ' ')}"
                          " or needs side features: use engine='auto'")
    if refit:
        raise ConfigError("train_parts and continue_training work on the frame path: pass "
                          "engine='frame' (or 'auto')")
    return True


def frame_input(ratings: RatingSource) -> tuple[pd.DataFrame, str]:
    """(the ratings as a frame, the name errors give them): the frame path's input."""
    if isinstance(ratings, str | Path):
        return open_parquet(ratings).read().to_pandas(), str(ratings)
    if isinstance(ratings, pa.Table):
        return ratings.to_pandas(), FIT_SOURCE
    return ratings, FIT_SOURCE  # a frame (anything else: validate_ratings names it)


def fit_columnar(rec: Recommender, ratings: RatingSource,
                 validation: pd.DataFrame | None = None) -> Recommender:
    """`Recommender.fit` on the columnar path: read, carve a validation index (the frame
    path's rule) unless `validation` is given, then `fit_columns`."""
    name = str(ratings) if isinstance(ratings, str | Path) else FIT_SOURCE
    # a frame read by pyarrow leaves its read buffers cached in arrow's allocator (about
    # 1 GB at 25M ratings): hand them back before the columns are allocated
    pa.default_memory_pool().release_unused()
    columns = RatingColumns.read(ratings, name=name).grouped_by_user()
    if validation is not None:
        held = _known_rows(columns, validation)
        train, held = columns, held if len(held) else None
    elif rec.validation_fraction > 0:
        train, held = columns.carve(rec.validation_fraction, rec.seed)
    else:
        train, held = columns, None
    return fit_columns(rec, columns, train, held, config=scale_config(rec), source=name)


def fit_columns(rec: Recommender, given: RatingColumns, train: RatingColumns,
                validation: RatingColumns | None, *, config: ScaleConfig,
                source: str = "ratings", world: World | None = None,
                checkpoints: str | Path | None = None, resume: bool = False) -> Recommender:
    """Fit `rec`'s preset on `train` (a view of `given`), validation RMSE per epoch on
    `validation`; the ratings in `given` count as seen and fit the fallback biases. The
    rating scale is `rec.rating_range`, else the MovieLens scale the ratings lie on (else
    their min..max). Under torchrun every rank calls this; only rank 0 should save."""
    data = given.gather()
    scale = rec.rating_range or _scale_of(data.ratings)
    _check_scale(data.ratings, scale, source)
    rec.user_ids, rec.movie_ids, rec.index = data.user_ids, data.movie_ids, None  # a new model
    rec.seen = _seen(data, source)
    rec.model = build_model(rec.preset, len(data.user_ids), len(data.movie_ids),
                            rating_range=scale, seed=config.seed, **rec.model_options)
    rec.history = ScaleTrainer(rec.model, config, world=world, checkpoints=checkpoints).fit(
        train, validation, resume=resume)
    rec.fallback = DampedBias().fit_indexed(data.users, data.movies, data.ratings,
                                            data.user_ids.ids, data.movie_ids.ids)
    return rec


def scale_config(rec: Recommender) -> ScaleConfig:
    """The columnar path's training options from `rec`'s: epochs, seed, progress, device as
    set; lr, batch_size and num_threads only when given (the preset's values are tuned for
    the frame path's optimiser; ScaleConfig's defaults for this one), the rest unused."""
    unused = sorted(set(rec.train_options) & set(_FRAME_ONLY))
    if unused:
        log.warning("fit(): the columnar path trains every epoch with Adagrad; it ignores "
                    "%s (pass engine='frame' to use them)", ", ".join(unused))
    given = {k: v for k, v in rec.train_options.items() if k in SCALE_FIELDS}
    cfg = rec.train_config
    return ScaleConfig(**{"epochs": cfg.epochs, "seed": cfg.seed, "progress": cfg.progress,
                          "device": cfg.device, **given})


def _seen(columns: RatingColumns, source: str) -> SeenMovies:
    """Seen movies of `columns`, which must not rate one (user, movie) twice."""
    seen = SeenMovies.from_indices(columns.users, columns.movies, len(columns.user_ids),
                                   len(columns.movie_ids))
    if seen.matrix.nnz < len(columns):
        key = np.sort(columns.users.astype(np.int64) * len(columns.movie_ids) + columns.movies)
        twice = key[np.flatnonzero(key[1:] == key[:-1])[0]]
        user, movie = divmod(int(twice), len(columns.movie_ids))
        raise DataFormatError(f"{source}: user {columns.user_ids.ids[user]} rates movie "
                              f"{columns.movie_ids.ids[movie]} more than once; keep one rating "
                              "per (user, movie)")
    return seen


def _scale_of(ratings: np.ndarray) -> tuple[float, float]:
    """`movielens_scale` of the ratings, a block at a time; else their min..max, warned."""
    scales = {movielens_scale(ratings[start:start + _BLOCK])
              for start in range(0, len(ratings), _BLOCK)}
    if None not in scales:
        return (0.5, 5.0) if (0.5, 5.0) in scales else (1.0, 5.0)
    scale = float(ratings.min()), float(ratings.max())
    log.warning("fit(): the ratings span %g..%g, which is not a MovieLens scale (1..5, or "
                "0.5..5 with half stars); using it as the scale. Pass rating_range=(low, "
                "high) to state the scale and silence this warning.", *scale)
    return scale


def _check_scale(ratings: np.ndarray, scale: tuple[float, float], source: object) -> None:
    low, high = scale
    for start in range(0, len(ratings), _BLOCK):
        block = ratings[start:start + _BLOCK]
        bad = (block < low) | (block > high)
        if bad.any():
            i = int(np.argmax(bad))
            raise DataFormatError(f"{source}: row {start + i}: rating {block[i]:g} is outside "
                                  f"{low:g}..{high:g}")


def _known_rows(columns: RatingColumns, validation: pd.DataFrame) -> RatingColumns:
    """`validation`'s rows whose user and movie `columns` know, as columns of their own; the
    others are dropped with a warning (a model cannot be scored on ids it never saw)."""
    held = RatingColumns.from_frame(validation, name="validation passed to fit()")
    users = columns.user_ids.to_index(held.user_ids.ids, missing="negative")[held.users]
    movies = columns.movie_ids.to_index(held.movie_ids.ids, missing="negative")[held.movies]
    known = (users >= 0) & (movies >= 0)
    if not known.all():
        log.warning("fit(): dropped %d of %d validation ratings whose user or movie is not "
                    "in the training ratings", int((~known).sum()), len(known))
    return RatingColumns(users[known].astype(np.int32), movies[known].astype(np.int32),
                         held.ratings[known], columns.user_ids, columns.movie_ids)
