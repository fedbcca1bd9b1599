"""A new person's list from stated tastes and a few ratings, by the service's blend
(`movierec.coldstart.profile_scores`), for `Recommender.cold_start`."""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from movierec.coldstart import Preferences, preference_scores, profile_scores
from movierec.errors import ConfigError

if TYPE_CHECKING:
    from movierec.recommender.recommender import Recommender


def cold_start_list(rec: Recommender, preferences: Preferences | None,
                    ratings: Mapping[int, float] | None, k: int, epochs: int) -> pd.DataFrame:
    """movie_id, title (when known), blended score of the k best unrated movies."""
    from movierec.recommender.recommender import _check_k

    rec._require_model()
    _check_k(k)
    preferences = preferences or Preferences()
    ratings = dict(ratings or {})
    catalogue = _catalogue(rec, preferences)
    preferences.check_genres({g for genres in catalogue["genres"] for g in genres})
    counts = np.asarray(rec._require(rec.seen).matrix.sum(axis=0)).ravel()
    preference = preference_scores(catalogue, pd.Series(counts, index=rec.movie_ids.ids),
                                   preferences)
    collaborative = _folded_in_scores(rec, ratings, epochs) if ratings else None
    scores = profile_scores(preference, collaborative, ratings, preferences).nlargest(k)
    return rec._movie_frame(rec.movie_ids.to_index(scores.index.to_numpy()), scores.to_numpy())


def _catalogue(rec: Recommender, preferences: Preferences) -> pd.DataFrame:
    """movie_id, year and genres (lists) of the model's movies, as the service has them."""
    ids = rec.movie_ids.ids
    if rec.movies is None:
        if preferences.liked_genres or preferences.disliked_genres or (
                preferences.year_min, preferences.year_max) != (None, None):
            raise ConfigError("stated tastes need the movies' genres and years; fit with "
                              "movies=... (or load a model saved with them)")
        return pd.DataFrame({"movie_id": ids, "year": None, "genres": [[]] * len(ids)})
    known = rec.movies.reindex(ids)
    genres = known["genres"] if "genres" in known.columns else [None] * len(ids)
    years = known["year"].to_numpy() if "year" in known.columns else None
    return pd.DataFrame({"movie_id": ids, "year": years,
                         "genres": [list(g) if isinstance(g, list | tuple | np.ndarray)
                                    else [] for g in genres]})


def _folded_in_scores(rec: Recommender, ratings: dict[int, float], epochs: int) -> pd.Series:
    """The model's scores of every movie for a new person with these ratings, folded into a
    copy of the model (as the service folds a profile in), so `rec` stays unchanged."""
    person = int(rec.user_ids.ids.max()) + 1
    clone = copy.copy(rec)
    clone.model, clone.rater, clone.index = copy.deepcopy(rec.model), None, None
    clone.fold_in(pd.DataFrame({"user_id": person, "movie_id": list(ratings),
                                "rating": list(ratings.values()), "timestamp": 0}),
                  epochs=epochs)
    return clone.movie_scores(person)
