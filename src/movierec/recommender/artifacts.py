"""Save and load a Recommender as plain files: JSON config, safetensors arrays, parquet titles.

No pickle: a folder loads on CPU without the training data, and a format version guards
against reading a layout this code does not understand.
"""

from __future__ import annotations

import json
import shutil
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
from safetensors.numpy import load_file as load_arrays
from safetensors.numpy import save_file as save_arrays
from safetensors.torch import load_file as load_tensors
from safetensors.torch import save_file as save_tensors

from movierec.data import IdMap, SeenMovies
from movierec.errors import DataFormatError
from movierec.evaluate import DampedBias
from movierec.models import model_from_config
from movierec.recommender.recommender import Recommender
from movierec.training import History

FORMAT_VERSION = 1
CONFIG, WEIGHTS, STATE, MOVIES, HISTORY, INDEX, RATER = (
    "config.json", "weights.safetensors", "state.safetensors", "movies.parquet", "history.json",
    "index", "rater")


def save_recommender(rec: Recommender, path: Path) -> Path:
    """Write every file into a temporary sibling folder, then swap it into place."""
    model = rec._require_model()
    path.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{path.name}.", dir=path.parent))
    try:
        config = {
            "format_version": FORMAT_VERSION,
            "preset": rec.preset,
            "seed": rec.seed,
            "validation_fraction": rec.validation_fraction,
            "train_options": rec.train_options,
            "model_options": rec.model_options,
            "model": model.config(),
            "user_ids": rec.user_ids.to_list(),
            "movie_ids": rec.movie_ids.to_list(),
            "global_mean": rec.fallback.mean_,
            "rater": rec.rater.preset if rec.rater is not None else None,
        }
        (staging / CONFIG).write_text(json.dumps(config, indent=2))
        weights = {k: v.detach().contiguous() for k, v in model.state_dict().items()}
        save_tensors(weights, str(staging / WEIGHTS))
        fb = rec.fallback
        save_arrays({
            **rec.seen.to_arrays(),
            "fallback_user_ids": fb.user_bias_.index.to_numpy(np.int64),
            "fallback_user_bias": fb.user_bias_.to_numpy(np.float64),
            "fallback_movie_ids": fb.movie_bias_.index.to_numpy(np.int64),
            "fallback_movie_bias": fb.movie_bias_.to_numpy(np.float64),
        }, str(staging / STATE))
        if rec.movies is not None:
            rec.movies.reset_index(drop=True).to_parquet(staging / MOVIES)
        if rec.history is not None:
            rec.history.save_json(staging / HISTORY)
        if rec.index is not None:
            rec.index.save(staging / INDEX)
        if rec.rater is not None:  # the rater's own model folder, inside this one
            save_recommender(rec.rater, staging / RATER)
        _swap_into_place(staging, path)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return path


def _swap_into_place(staging: Path, path: Path) -> None:
    if path.exists():
        if not (path / CONFIG).exists():
            raise FileExistsError(f"{path} exists and is not a movierec model folder; "
                                  "choose another path")
        old = path.with_name(f".{path.name}.old")
        shutil.rmtree(old, ignore_errors=True)
        path.rename(old)
        staging.rename(path)
        shutil.rmtree(old)
    else:
        staging.rename(path)


def load_recommender(path: Path) -> Recommender:
    """Rebuild a Recommender from a folder written by `save_recommender`."""
    config_file = path / CONFIG
    if not config_file.is_file():
        raise DataFormatError(f"{config_file} not found: {path} is not a saved movierec model")
    try:
        config = json.loads(config_file.read_text())
    except json.JSONDecodeError as err:
        raise DataFormatError(f"{config_file} is not valid JSON ({err})") from err
    version = config.get("format_version")
    if version != FORMAT_VERSION:
        raise DataFormatError(f"{config_file} has format_version {version}; this movierec reads "
                              f"version {FORMAT_VERSION}: upgrade movierec or re-save the model")
    rater = config.get("rater")
    rec = Recommender(config["preset"], validation_fraction=config["validation_fraction"],
                      seed=config["seed"], progress=False, rater=rater,
                      **config["train_options"], **config["model_options"])
    model = model_from_config(config["model"])
    model.load_state_dict(load_tensors(str(path / WEIGHTS)))
    model.eval()
    rec.model = model
    rec.user_ids = IdMap.from_list(config["user_ids"], kind="user")
    rec.movie_ids = IdMap.from_list(config["movie_ids"], kind="movie")
    arrays = load_arrays(str(path / STATE))
    rec.seen = SeenMovies.from_arrays(arrays, (len(rec.user_ids), len(rec.movie_ids)))
    fallback = DampedBias()
    fallback.mean_ = config["global_mean"]
    fallback.user_bias_ = pd.Series(arrays["fallback_user_bias"], index=arrays["fallback_user_ids"])
    fallback.movie_bias_ = pd.Series(arrays["fallback_movie_bias"],
                                     index=arrays["fallback_movie_ids"])
    rec.fallback = fallback
    if (path / MOVIES).exists():
        rec.movies = pd.read_parquet(path / MOVIES).set_index("movie_id", drop=False)
    if (path / HISTORY).exists():
        rec.history = History.load_json(path / HISTORY)
    if rater is not None:
        rec.rater = load_recommender(path / RATER)
    if (path / INDEX).is_dir():
        from movierec.index import load_index

        rec.index = load_index(path / INDEX)
    return rec
