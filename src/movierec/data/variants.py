"""The MovieLens variants movierec knows, with their rating scales and download checksums."""

from __future__ import annotations

import numpy as np

from movierec.errors import ConfigError

VARIANTS: tuple[str, ...] = (
    "ml-100k", "ml-1m", "ml-10m", "ml-20m", "ml-25m", "ml-32m", "ml-latest-small", "ml-latest",
)

GROUPLENS_URL = "https://files.grouplens.org/datasets/movielens/{name}.zip"

# md5 of the GroupLens zips, as published in their `.zip.md5` files. Only checksums known exactly
# are pinned; for the other variants (and the "latest" ones, which GroupLens re-releases) the
# `.zip.md5` companion file is downloaded and checked against instead.
GROUPLENS_MD5: dict[str, str] = {
    "ml-100k": "0e33842e24a9c977be4e0107933c0723",
    "ml-1m": "c4d9eecfca2ab87c1945afe126590906",
}

LICENCE = (
    "MovieLens data (c) GroupLens Research, University of Minnesota: research use only, no "
    "redistribution without permission, no endorsement implied; cite F. M. Harper and "
    "J. A. Konstan, The MovieLens Datasets: History and Context, ACM TiiS 5(4), 2015."
)


def check_variant(name: str) -> str:
    """Return `name` if it is a known variant, else raise ConfigError listing them."""
    if name not in VARIANTS:
        raise ConfigError(f"unknown MovieLens variant {name!r}; "
                          f"choose one of {', '.join(VARIANTS)}")
    return name


def rating_range(name: str) -> tuple[float, float]:
    """Rating scale of a variant: whole stars 1..5 for ml-100k/ml-1m, half stars 0.5..5 after."""
    return (1.0, 5.0) if name in ("ml-100k", "ml-1m") else (0.5, 5.0)


def movielens_scale(ratings: np.ndarray) -> tuple[float, float] | None:
    """The MovieLens scale the ratings lie on: 1..5 for whole stars, 0.5..5 once any is a
    half star; None when they fit neither. A sample where nobody gave 5 stars still gets
    the whole scale, so its models do not cap predictions at 4."""
    values = np.asarray(ratings, dtype=np.float64)
    if not len(values) or values.min() < 0.5 or values.max() > 5.0:
        return None
    if (values * 2 != np.round(values * 2)).any():
        return None
    return (1.0, 5.0) if (values == np.round(values)).all() else (0.5, 5.0)
