"""Cold start: recommend from stated tastes (genres, years), blend into the model as ratings come.

A person with no ratings gets movies scored from metadata alone: liked and disliked genres,
a preferred year range and a popularity prior. As they rate movies, the collaborative score
(the model's predicted rating after fold-in) takes over smoothly: with n ratings it carries
weight n / (n + half_weight_at), so there is no jump from one regime to the other.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from movierec.errors import ConfigError

LIKED_WEIGHT, DISLIKED_WEIGHT, YEAR_WEIGHT, POPULARITY_WEIGHT = 1.0, 1.5, 0.5, 0.5
HALF_WEIGHT_AT = 5.0  # ratings at which collaborative and stated-taste scores weigh the same


@dataclass(frozen=True)
class Preferences:
    """Stated tastes: favourite and disliked genres and an inclusive year range (None: open)."""

    liked_genres: tuple[str, ...] = ()
    disliked_genres: tuple[str, ...] = ()
    year_min: int | None = None
    year_max: int | None = None

    def __post_init__(self) -> None:
        both = set(self.liked_genres) & set(self.disliked_genres)
        if both:
            raise ConfigError(f"genre(s) {', '.join(sorted(both))} cannot be both liked and "
                              "disliked")
        if None not in (self.year_min, self.year_max) and self.year_min > self.year_max:
            raise ConfigError(f"year_min {self.year_min} is after year_max {self.year_max}")

    def check_genres(self, known: Iterable[str]) -> None:
        """Raise ConfigError naming any genre that the catalogue does not have."""
        known = set(known)
        unknown = sorted(set(self.liked_genres + self.disliked_genres) - known)
        if unknown:
            raise ConfigError(f"unknown genre(s) {', '.join(unknown)}; "
                              f"known genres: {', '.join(sorted(known))}")


def standardize(scores: pd.Series) -> pd.Series:
    """Zero mean, unit variance (all zeros when the scores are constant)."""
    std = float(scores.std(ddof=0))
    centred = scores - scores.mean()
    return centred / std if std > 0 else centred * 0.0


def preference_scores(movies: pd.DataFrame, popularity: pd.Series,
                      preferences: Preferences) -> pd.Series:
    """Standardised metadata score per movie (index movie_id), higher is a better match.

    `movies` has movie_id, year and genres; `popularity` (index movie_id) counts ratings.
    Score = liked-genre share - disliked-genre presence - years outside the range (per decade,
    capped at one) + a log-popularity prior, so an empty `Preferences` ranks by popularity.
    """
    genres = movies["genres"]
    liked, disliked = set(preferences.liked_genres), set(preferences.disliked_genres)
    like = np.array([len(liked.intersection(g)) / max(1, len(liked)) for g in genres])
    dislike = np.array([bool(disliked.intersection(g)) for g in genres], dtype=float)
    years = movies["year"].astype("float64").to_numpy(na_value=np.nan)
    below = np.nan_to_num(preferences.year_min - years) if preferences.year_min else 0.0
    above = np.nan_to_num(years - preferences.year_max) if preferences.year_max else 0.0
    outside = np.minimum(1.0, (np.maximum(below, 0) + np.maximum(above, 0)) / 10.0)
    counts = popularity.reindex(movies["movie_id"]).fillna(0).to_numpy(np.float64)
    prior = standardize(pd.Series(np.log1p(counts))).to_numpy()
    score = (LIKED_WEIGHT * like - DISLIKED_WEIGHT * dislike - YEAR_WEIGHT * outside
             + POPULARITY_WEIGHT * prior)
    return standardize(pd.Series(score, index=movies["movie_id"].to_numpy(), name="score"))


def blend_weight(n_ratings: int, half_weight_at: float = 5.0) -> float:
    """Weight of the collaborative score after n ratings: 0 at none, 1/2 at `half_weight_at`."""
    if n_ratings < 0 or half_weight_at <= 0:
        raise ConfigError(f"need n_ratings >= 0 and half_weight_at > 0, got {n_ratings}, "
                          f"{half_weight_at}")
    return n_ratings / (n_ratings + half_weight_at)


def blend(preference: pd.Series, collaborative: pd.Series | None, n_ratings: int,
          half_weight_at: float = 5.0) -> pd.Series:
    """Mix standardised preference and collaborative scores (both indexed by movie_id).

    Movies missing from `collaborative` keep their preference score alone.
    """
    weight = blend_weight(n_ratings, half_weight_at)
    if collaborative is None or weight == 0.0:
        return preference
    cf = standardize(collaborative).reindex(preference.index)
    return ((1 - weight) * preference + weight * cf.fillna(preference)).rename("score")


def profile_scores(preference: pd.Series, collaborative: pd.Series | None,
                   rated: Collection[int], preferences: Preferences,
                   n_ratings: int | None = None,
                   half_weight_at: float = HALF_WEIGHT_AT) -> pd.Series:
    """A new person's score per unrated movie (index movie_id), as the service ranks them.

    `collaborative` is the model's score of every movie for the person (None before any
    rating); it is standardised over the unrated movies (a ranker's scores are not stars)
    and blended with the `preference` scores by `blend`, weighing `n_ratings` (default: the
    number rated; the service counts only those the model knows). A person who states no
    tastes gets the model's order alone once they have rated something.
    """
    rated = list(rated)
    n_ratings = len(rated) if n_ratings is None else n_ratings
    if collaborative is not None:
        unrated = collaborative.drop(index=rated, errors="ignore")
        collaborative = standardize(unrated[np.isfinite(unrated.to_numpy())]
                                    .astype(np.float64))
    if collaborative is not None and preferences == Preferences():
        scores = collaborative
    else:
        scores = blend(preference, collaborative, n_ratings, half_weight_at)
    return scores.drop(index=rated, errors="ignore")
