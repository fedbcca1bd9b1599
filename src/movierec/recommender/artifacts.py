"""Save and load a Recommender as plain files: JSON config, safetensors arrays, parquet titles.

No pickle: a folder loads on any device (weights are saved from the CPU) without the
training data, and a format version guards against reading a layout this code does not
understand. A save replaces only what is its
own: a folder that is recognisably a movierec model, and in it only the entries in `OWNED`
(a report/ or loss_curve.png beside them stays). A load checks every file (keys and types,
integrity, shapes, finite values) and reports the first problem as one `ModelFormatError`
naming the file.
"""

from __future__ import annotations

import json
import math
import os
import shutil
import tempfile
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import torch
from pyarrow import ArrowException
from safetensors import SafetensorError
from safetensors.numpy import load_file as load_arrays
from safetensors.numpy import save_file as save_arrays
from safetensors.torch import load_file as load_tensors
from safetensors.torch import save_file as save_tensors

from movierec.data import IdMap, SeenMovies
from movierec.devices import resolve_device
from movierec.errors import ConfigError, ModelFormatError, OverwriteRefusedError
from movierec.evaluate import DampedBias
from movierec.models import Scorer, get_preset, model_from_config
from movierec.recommender.recommender import Recommender
from movierec.training import History

if TYPE_CHECKING:
    from movierec.index import MovieIndex

FORMAT_VERSION = 1
CONFIG, WEIGHTS, STATE, MOVIES, HISTORY, INDEX, RATER = (
    "config.json", "weights.safetensors", "state.safetensors", "movies.parquet", "history.json",
    "index", "rater")
# Everything a save writes (config first: out first, in last) and so may replace or remove.
OWNED = (CONFIG, WEIGHTS, STATE, MOVIES, HISTORY, INDEX, RATER)

_NUMBER = (int, float)
_CONFIG_TYPES: dict[str, tuple[type, ...]] = {
    "preset": (str,), "seed": (int,), "validation_fraction": _NUMBER,
    "train_options": (dict,), "model_options": (dict,), "model": (dict,),
    "user_ids": (list,), "movie_ids": (list,), "global_mean": _NUMBER, "rater": (str, type(None)),
}
_MODEL_TYPES: dict[str, tuple[type, ...]] = {
    "preset": (str,), "n_users": (int,), "n_movies": (int,), "rating_range": (list,)}
_STATE_KEYS = ("seen_indptr", "seen_indices", "fallback_user_ids", "fallback_user_bias",
               "fallback_movie_ids", "fallback_movie_bias")


# ----------------------------------------------------------------------------- saving
def is_model_folder(path: Path) -> bool:
    """A config.json with a movierec format_version beside the weights and state files."""
    if not all((path / name).is_file() for name in (CONFIG, WEIGHTS, STATE)):
        return False
    try:
        config = json.loads((path / CONFIG).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError):
        return False
    return isinstance(config, dict) and _is_int(config.get("format_version"))


def check_save_target(path: Path) -> None:
    """Refuse, before any work, a path a save would have to replace but did not write:
    only a missing path, an empty folder or a movierec model folder may be saved to."""
    if not path.exists() and not path.is_symlink():
        return
    if path.is_dir() and (is_model_folder(path) or not any(path.iterdir())):
        return
    raise OverwriteRefusedError(
        f"{path} exists and is not a movierec model folder ({CONFIG} with a format_version, "
        f"{WEIGHTS}, {STATE}); refusing to replace it: choose another folder")


def save_recommender(rec: Recommender, path: Path) -> Path:
    """Write every file under a temporary name, then move it into place: a new folder in one
    rename, an existing model folder entry by entry (its other files untouched)."""
    model = rec._require_model()
    check_save_target(path)
    for scorer in (model, rec.rater.model if rec.rater is not None else None):
        if scorer is not None:
            _check_finite(scorer, path)
    existing = path.is_dir()
    if not existing:
        path.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".saving.", dir=path if existing else path.parent))
    try:
        _write_files(rec, model, staging)
        if existing:
            _swap_owned(staging, path)
        else:
            staging.rename(path)
    finally:
        shutil.rmtree(staging, ignore_errors=True)  # gone already when the save succeeded
    return path


def _check_finite(model: Scorer, path: Path) -> None:
    """A model whose training diverged (NaN or inf weights) is refused before anything is
    written: it would load and serve NaN scores."""
    for name, value in model.state_dict().items():
        if value.is_floating_point() and not bool(torch.isfinite(value).all()):
            raise ConfigError(f"not saved to {path}: {model.preset} weight {name!r} holds NaN "
                              "or infinite values (training diverged); fit again with a lower "
                              "lr and save then")


def _write_files(rec: Recommender, model: Scorer, folder: Path) -> None:
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
    (folder / CONFIG).write_text(json.dumps(config, indent=2))
    weights = {k: v.detach().cpu().contiguous() for k, v in model.state_dict().items()}
    save_tensors(weights, str(folder / WEIGHTS))
    fb = rec.fallback
    save_arrays({
        **rec.seen.to_arrays(),
        "fallback_user_ids": fb.user_bias_.index.to_numpy(np.int64),
        "fallback_user_bias": fb.user_bias_.to_numpy(np.float64),
        "fallback_movie_ids": fb.movie_bias_.index.to_numpy(np.int64),
        "fallback_movie_bias": fb.movie_bias_.to_numpy(np.float64),
    }, str(folder / STATE))
    if rec.movies is not None:
        rec.movies.reset_index(drop=True).to_parquet(folder / MOVIES)
    if rec.history is not None:
        rec.history.save_json(folder / HISTORY)
    if rec.index is not None:
        rec.index.save(folder / INDEX)
    if rec.rater is not None:  # the rater's own model folder, inside this one
        save_recommender(rec.rater, folder / RATER)


def _swap_owned(staging: Path, path: Path) -> None:
    """Move the old owned entries aside (config first), the new ones in (config last), then
    drop the old ones; a failure midway leaves them in the aside folder, not lost."""
    aside = Path(tempfile.mkdtemp(prefix=".replaced.", dir=path))
    for name in OWNED:
        if (path / name).exists() or (path / name).is_symlink():
            os.replace(path / name, aside / name)
    for name in reversed(OWNED):
        if (staging / name).exists():
            os.replace(staging / name, path / name)
    shutil.rmtree(aside)


# ----------------------------------------------------------------------------- loading
def load_recommender(path: Path, device: str | torch.device = "cpu") -> Recommender:
    """Rebuild a Recommender from a folder written by `save_recommender`, its model (and
    rater) on `device`, where fold-in and further fits then train too."""
    device = resolve_device(device)
    config_file = path / CONFIG
    config = _read_config(config_file)
    rec = _rebuild(config, config_file)
    if "device" in rec.train_options or device.type != "cpu":
        rec.train_options = {**rec.train_options, "device": str(device)}
    rec.train_config = rec.train_config.replace(device=str(device))
    rec.model = _load_model(config, path)
    rec.user_ids = _id_map(config["user_ids"], "user", config_file)
    rec.movie_ids = _id_map(config["movie_ids"], "movie", config_file)
    arrays = _read_state(path / STATE, len(rec.user_ids), len(rec.movie_ids))
    rec.seen = SeenMovies.from_arrays(arrays, (len(rec.user_ids), len(rec.movie_ids)))
    fallback = DampedBias()
    fallback.mean_ = config["global_mean"]
    fallback.user_bias_ = pd.Series(arrays["fallback_user_bias"], index=arrays["fallback_user_ids"])
    fallback.movie_bias_ = pd.Series(arrays["fallback_movie_bias"],
                                     index=arrays["fallback_movie_ids"])
    rec.fallback = fallback
    if (path / MOVIES).exists():
        rec.movies = _read_movies(path / MOVIES).set_index("movie_id", drop=False)
    if (path / HISTORY).exists():
        rec.history = _read_history(path / HISTORY)
    if config["rater"] is not None:
        rec.rater = load_recommender(path / RATER, device)
        if rec.rater.preset != config["rater"]:
            raise ModelFormatError(f"{path / RATER / CONFIG} holds preset "
                                   f"{rec.rater.preset!r}, but {config_file} names rater "
                                   f"{config['rater']!r}")
    if (path / INDEX).exists():
        rec.index = _read_index(path / INDEX, rec.model)
    rec.model.to(device)
    return rec


def _read_config(file: Path) -> dict[str, Any]:
    if not file.is_file():
        raise ModelFormatError(f"{file} not found: {file.parent} is not a saved movierec model")
    try:
        config = json.loads(file.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as err:
        raise ModelFormatError(f"{file} is not valid JSON ({err})") from err
    if not isinstance(config, dict):
        raise ModelFormatError(f"{file} holds a JSON {type(config).__name__}, not an object")
    version = config.get("format_version")
    if not _is_int(version) or version != FORMAT_VERSION:
        raise ModelFormatError(f"{file} has format_version {version!r}; this movierec reads "
                               f"version {FORMAT_VERSION}: upgrade movierec or re-save the model")
    _check_types(config, _CONFIG_TYPES, file, "")
    model = config["model"]
    _check_types(model, _MODEL_TYPES, file, "model.")
    for key in ("user_ids", "movie_ids"):
        if not all(_is_int(v) for v in config[key]):
            raise ModelFormatError(f"{file}: {key} must be a list of whole numbers")
    for key, ids in (("n_users", "user_ids"), ("n_movies", "movie_ids")):
        if model[key] != len(config[ids]):
            raise ModelFormatError(f"{file}: model.{key} is {model[key]} but {ids} lists "
                                   f"{len(config[ids])}")
    low_high = model["rating_range"]
    if not (len(low_high) == 2 and all(_is_finite(v) for v in low_high)
            and low_high[0] <= low_high[1]):
        raise ModelFormatError(f"{file}: model.rating_range must be [low, high], got {low_high}")
    if not _is_finite(config["global_mean"]):
        raise ModelFormatError(f"{file}: global_mean must be a finite number")
    return config


def _check_types(section: Mapping[str, Any], types: Mapping[str, tuple[type, ...]], file: Path,
                 prefix: str) -> None:
    for key, allowed in types.items():
        if key not in section:
            raise ModelFormatError(f"{file} lacks the key {prefix}{key}")
        value = section[key]
        if isinstance(value, bool) or not isinstance(value, allowed):
            names = " or ".join("null" if t is type(None) else t.__name__ for t in allowed)
            raise ModelFormatError(f"{file}: {prefix}{key} must be {names}, got "
                                   f"{type(value).__name__} {value!r:.40}")


def _rebuild(config: dict[str, Any], file: Path) -> Recommender:
    """The facade the config describes; model_options are checked here, as a refit would."""
    try:
        unknown = sorted(set(config["model_options"])
                         - set(get_preset(config["preset"]).option_names()))
        if unknown:
            raise ConfigError(f"unknown model option(s) {', '.join(unknown)}")
        return Recommender(config["preset"], validation_fraction=config["validation_fraction"],
                           seed=config["seed"], progress=False, rater=config["rater"],
                           **config["train_options"], **config["model_options"])
    except (ConfigError, TypeError, ValueError) as err:
        raise ModelFormatError(f"{file}: the saved options do not rebuild preset "
                               f"{config['preset']!r} ({err})") from err


def _load_model(config: dict[str, Any], path: Path) -> Scorer:
    try:
        model = model_from_config(config["model"])
    except (ConfigError, TypeError, ValueError, KeyError) as err:
        raise ModelFormatError(f"{path / CONFIG}: 'model' does not describe a model this "
                               f"movierec builds ({err})") from err
    file = path / WEIGHTS
    weights = _read_safetensors(file, load_tensors)
    try:
        model.load_state_dict(weights)
    except RuntimeError as err:  # missing or unexpected keys, shape mismatches
        problems = [line.strip() for line in str(err).splitlines()[1:] if line.strip()]
        raise ModelFormatError(f"{file} does not fit the model in {CONFIG}: "
                               f"{'; '.join(problems[:2])}") from err
    model.eval()
    return model


def _read_state(file: Path, n_users: int, n_movies: int) -> dict[str, np.ndarray]:
    arrays = _read_safetensors(file, load_arrays)
    missing = [key for key in _STATE_KEYS if key not in arrays]
    if missing:
        raise ModelFormatError(f"{file} lacks {', '.join(missing)}")
    indptr, indices = arrays["seen_indptr"], arrays["seen_indices"]
    whole = all(np.issubdtype(a.dtype, np.integer) for a in (indptr, indices))
    if not (whole and indptr.shape == (n_users + 1,) and indices.ndim == 1 and indptr[0] == 0
            and indptr[-1] == len(indices) and (np.diff(indptr) >= 0).all()
            and ((indices >= 0) & (indices < n_movies)).all()):
        raise ModelFormatError(f"{file}: the seen-movie arrays do not describe {n_users} users "
                               f"x {n_movies} movies")
    for side in ("user", "movie"):
        ids, bias = arrays[f"fallback_{side}_ids"], arrays[f"fallback_{side}_bias"]
        if ids.ndim != 1 or ids.shape != bias.shape:
            raise ModelFormatError(f"{file}: fallback_{side}_ids {ids.shape} and "
                                   f"fallback_{side}_bias {bias.shape} differ in shape")
    return arrays


def _read_safetensors(file: Path, loader: Callable[[str], dict[str, Any]]) -> dict[str, Any]:
    """The arrays of a safetensors file, all of them finite."""
    if not file.is_file():
        raise ModelFormatError(f"{file} is missing")
    try:
        arrays = loader(str(file))
    except SafetensorError as err:
        raise ModelFormatError(f"{file} is damaged or truncated ({err})") from err
    for name, value in arrays.items():
        tensor = torch.as_tensor(value)
        if tensor.is_floating_point() and not torch.isfinite(tensor).all():
            raise ModelFormatError(f"{file}: {name} holds NaN or infinite values")
    return arrays


def _read_movies(file: Path) -> pd.DataFrame:
    try:
        movies = pd.read_parquet(file)
    except (ArrowException, OSError, ValueError) as err:
        raise ModelFormatError(f"{file} is damaged or not parquet ({err})") from err
    if "movie_id" not in movies.columns:
        raise ModelFormatError(f"{file} has no movie_id column")
    duplicated = movies["movie_id"][movies["movie_id"].duplicated()]
    if len(duplicated):
        raise ModelFormatError(f"{file}: movie_id {duplicated.iloc[0]} appears more than once")
    return movies


def _read_history(file: Path) -> History:
    try:
        return History.load_json(file)
    except (UnicodeDecodeError, json.JSONDecodeError, KeyError, TypeError, ValueError) as err:
        raise ModelFormatError(f"{file} is damaged or incomplete ({type(err).__name__}: "
                               f"{err})") from err


def _read_index(folder: Path, model: Scorer) -> MovieIndex:
    """The saved index, which must cover the model's movies in its vectors' dimension."""
    from movierec.index import load_index, movie_index_vectors

    index = load_index(folder)
    try:
        dim = movie_index_vectors(model).shape[1]
    except ConfigError as err:
        raise ModelFormatError(f"{folder}: an index beside a model that has none ({err})") from err
    ids = index.ids
    if index.dim != dim or len(ids) != model.n_movies or ((ids < 0) | (ids >= len(ids))).any():
        raise ModelFormatError(f"{folder}: an index of {len(ids)} movies x {index.dim} dims "
                               f"does not fit the model's {model.n_movies} x {dim}")
    return index


def _id_map(ids: list[int], kind: str, file: Path) -> IdMap:
    try:
        return IdMap.from_list(ids, kind=kind)
    except ValueError as err:
        raise ModelFormatError(f"{file}: {err}") from err


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_finite(value: object) -> bool:
    return isinstance(value, _NUMBER) and not isinstance(value, bool) and math.isfinite(value)
