"""Cold start: stated tastes rank movies; collaborative scores take over smoothly."""

from __future__ import annotations

import itertools

import pandas as pd
import pytest

from movierec.coldstart import Preferences, blend, blend_weight, preference_scores
from movierec.errors import ConfigError

MOVIES = pd.DataFrame({
    "movie_id": [1, 2, 3, 4],
    "year": pd.array([1950, 1995, 1997, None], dtype="Int64"),
    "genres": [["Drama"], ["Comedy"], ["Comedy", "Horror"], ["Drama", "Comedy"]],
})
POPULARITY = pd.Series([10, 10, 10, 500], index=[1, 2, 3, 4])


def test_no_preferences_ranks_by_popularity():
    scores = preference_scores(MOVIES, POPULARITY, Preferences())
    assert scores.idxmax() == 4
    assert scores.mean() == pytest.approx(0.0, abs=1e-9)


def test_liked_disliked_and_years_order_the_movies():
    prefs = Preferences(liked_genres=("Comedy",), disliked_genres=("Horror",),
                        year_min=1990, year_max=1999)
    scores = preference_scores(MOVIES, POPULARITY, prefs)
    assert scores[2] > scores[3]  # both comedies of the 90s; 3 is also horror
    assert scores[2] > scores[1]  # 1 is an old drama
    assert scores.idxmin() in (1, 3)


def test_blend_moves_from_preferences_to_collaborative():
    pref = pd.Series([1.0, -1.0], index=[1, 2])
    cf = pd.Series([2.0, 4.0], index=[1, 2])  # the model prefers movie 2
    assert blend(pref, None, 0).idxmax() == 1
    assert blend(pref, cf, 0).idxmax() == 1
    assert blend(pref, cf, 50).idxmax() == 2
    weights = [blend_weight(n) for n in range(20)]
    assert weights[0] == 0.0 and weights[5] == pytest.approx(0.5)
    assert all(b - a < 0.2 for a, b in itertools.pairwise(weights))  # no jump


def test_inconsistent_preferences_are_config_errors():
    with pytest.raises(ConfigError, match="both liked and disliked"):
        Preferences(liked_genres=("Drama",), disliked_genres=("Drama",))
    with pytest.raises(ConfigError, match="after year_max"):
        Preferences(year_min=2000, year_max=1990)
    with pytest.raises(ConfigError, match="unknown genre"):
        Preferences(liked_genres=("Jazz",)).check_genres(["Drama"])
