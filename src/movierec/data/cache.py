"""On-disk cache of parsed data sets as parquet files, written atomically.

An entry is the directory ROOT/NAME holding ratings/movies[/users][/folds].parquet and,
written last, manifest.json. It is built under a temporary name and renamed into place, so an
interrupted write never leaves a half entry; a directory without a valid manifest is absent.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pandas as pd

from movierec.data.dataset import FOLD_STEMS, MovieLensData
from movierec.data.schema import RATING_COLUMNS
from movierec.data.staging import staged_folder

FORMAT_VERSION = 1
MANIFEST = "manifest.json"
log = logging.getLogger(__name__)


def read_entry(root: Path, name: str) -> MovieLensData | None:
    """The cached data set NAME under `root`, or None when there is no complete entry."""
    entry = root / name
    try:
        manifest = json.loads((entry / MANIFEST).read_text(encoding="utf-8"))
        if manifest.get("format") != FORMAT_VERSION or manifest.get("name") != name:
            log.info("ignoring cache entry %s: format %s, expected %s", entry,
                     manifest.get("format"), FORMAT_VERSION)
            return None
        frames = {f: pd.read_parquet(entry / f"{f}.parquet") for f in manifest["files"]}
    except FileNotFoundError:
        return None
    except (OSError, ValueError, KeyError) as e:
        log.warning("ignoring unreadable cache entry %s: %s", entry, e)
        return None
    movies = frames["movies"]
    movies["genres"] = [list(g) for g in movies["genres"]]
    folds = {}
    if "folds" in frames:
        f = frames["folds"]
        for kind, stems in FOLD_STEMS.items():
            part = f[f["kind"] == kind]
            if len(part):
                folds[kind] = [tuple(_fold_part(part, i, p) for p in ("train", "test"))
                               for i in range(len(stems))]
    return MovieLensData(name, frames["ratings"], movies, frames.get("users"),
                         f"cache {entry} (from {manifest['source']})", folds,
                         manifest.get("folds_note", ""))


def _fold_part(folds: pd.DataFrame, number: int, part: str) -> pd.DataFrame:
    rows = folds[(folds["fold"] == number) & (folds["part"] == part)]
    return rows[list(RATING_COLUMNS)].reset_index(drop=True)


def write_entry(root: Path, data: MovieLensData) -> Path:
    """Write `data` as the cache entry ROOT/NAME, replacing any previous one atomically."""
    final = root / data.name
    with staged_folder(final) as tmp:
        frames = {"ratings": data.ratings, "movies": data.movies}
        if data.users is not None:
            frames["users"] = data.users
        if data.folds:
            frames["folds"] = pd.concat(
                [df.assign(kind=kind, fold=i, part=part)
                 for kind, pairs in data.folds.items() for i, pair in enumerate(pairs)
                 for part, df in zip(("train", "test"), pair, strict=True)], ignore_index=True)
        for f, df in frames.items():
            df.to_parquet(tmp / f"{f}.parquet", index=False)
        manifest = {"format": FORMAT_VERSION, "name": data.name, "source": data.source,
                    "files": sorted(frames), "folds_note": data.folds_note}
        (tmp / MANIFEST).write_text(json.dumps(manifest, indent=1), encoding="utf-8")
    return final
