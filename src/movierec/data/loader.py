"""load_movielens: an explicit path, else the cache, else GroupLens, else (ml-100k) a mirror."""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Callable
from pathlib import Path

from movierec.data.cache import read_entry, write_entry
from movierec.data.dataset import MovieLensData
from movierec.data.files import open_folder
from movierec.data.parsers import KEY_FILES, parse_folder
from movierec.data.sources import MIRROR_SOURCE, download_grouplens, fetch_mirror, temp_dir
from movierec.data.variants import LICENCE, check_variant
from movierec.errors import DataSourceError, MovieRecError

log = logging.getLogger(__name__)
_licence_shown = False


def default_cache_dir() -> Path:
    """$MOVIEREC_HOME/datasets, else the platform's user cache directory + movierec/datasets."""
    if home := os.environ.get("MOVIEREC_HOME"):
        return Path(home).expanduser() / "datasets"
    if sys.platform == "win32":
        base = Path(os.environ.get("LOCALAPPDATA") or Path.home() / "AppData" / "Local")
    elif sys.platform == "darwin":
        base = Path.home() / "Library" / "Caches"
    else:
        base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return base / "movierec" / "datasets"


def load_movielens(name: str = "ml-100k", path: str | Path | None = None, *,
                   cache_dir: str | Path | None = None, download: bool = True,
                   timeout: float = 10.0, progress: bool = True) -> MovieLensData:
    """Load a MovieLens variant in the canonical schema; `source` on the result says from where.

    Sources, in order: `path` (a folder or zip; errors raise, nothing else is tried), the
    cache under `cache_dir` (default: default_cache_dir()), the GroupLens download and, for
    ml-100k, the files in the pinned PyPI wheel recbole==1.2.1. Fetched data is written to
    the cache; `path` data never is, so a local, maybe edited, copy cannot replace the
    canonical entry (and its folds) that later loads without `path` read. Raises
    DataSourceError listing every source tried.
    """
    check_variant(name)
    root = Path(cache_dir).expanduser() if cache_dir is not None else default_cache_dir()
    if path is not None:
        return _done(parse_folder(name, path), progress)
    cached = read_entry(root, name)
    if cached is not None:
        return _done(cached, progress)
    tried = [f"cache {root / name}: no complete entry"]
    if not download:
        tried.append("download: not tried (download=False)")
    else:
        fetchers: list[tuple[str, Callable[[Path], MovieLensData]]] = [
            ("GroupLens download", lambda tmp: _from_grouplens(name, tmp, timeout))]
        if name == "ml-100k":
            fetchers.append((MIRROR_SOURCE, _from_mirror))
        for label, fetch in fetchers:
            try:
                with temp_dir(root) as tmp:
                    data = fetch(Path(tmp))
            except (MovieRecError, OSError) as e:
                log.warning("%s: %s failed: %s", name, label, e)
                tried.append(f"{label}: {e}")
                continue
            _show_licence()
            return _done(_store(root, data), progress)
    raise DataSourceError(
        f"could not load {name}; tried:\n" + "\n".join(f"  - {t}" for t in tried)
        + f"\nPass path= to a folder or zip of {name} (https://grouplens.org/datasets/movielens/)"
        " or set MOVIEREC_HOME to a directory holding a movierec cache.")


def _from_grouplens(name: str, tmp: Path, timeout: float) -> MovieLensData:
    zip_path, url = download_grouplens(name, tmp, timeout=timeout)
    folder = open_folder(zip_path, (*KEY_FILES, f"{name}.inter"))
    return parse_folder(name, folder, source=f"GroupLens {url}")


def _from_mirror(tmp: Path) -> MovieLensData:
    data = parse_folder("ml-100k", fetch_mirror(tmp), source=MIRROR_SOURCE)
    data.folds_note = (f"ml-100k came from the {MIRROR_SOURCE}, which ships only the ratings, "
                       "movies and users, not the canonical folds; pass path= to a folder or zip "
                       "with u1.base..u5.test (GroupLens ml-100k.zip)")
    return data


def _store(root: Path, data: MovieLensData) -> MovieLensData:
    try:
        write_entry(root, data)
    except OSError as e:
        log.warning("could not write the cache entry %s: %s", root / data.name, e)
    return data


def _show_licence() -> None:
    global _licence_shown
    if not _licence_shown:
        _licence_shown = True
        log.info(LICENCE)
        print(LICENCE, file=sys.stderr)


def _done(data: MovieLensData, progress: bool) -> MovieLensData:
    msg = (f"{data.name}: {len(data.ratings):,} ratings, {len(data.movies):,} movies "
           f"from {data.source}")
    log.info(msg)
    if progress:
        from rich.console import Console

        Console(stderr=True, highlight=False, soft_wrap=True).print(msg, markup=False)
    return data
