"""Titles in the bias ranking: from the model's movies, or given."""

from __future__ import annotations

from movierec import Recommender
from movierec.analysis import bias_ranking


def test_ranking_has_titles_when_movies_are_known(fitted, tiny_data):
    ranking = bias_ranking(fitted, min_ratings=1)
    assert list(ranking.columns[:3]) == ["movie_id", "title", "n_ratings"]
    assert ranking["title"].tolist() == [f"Movie {m}" for m in ranking["movie_id"]]


def test_titles_can_be_given_to_a_model_fitted_without_movies(tiny_data):
    bare = Recommender("biased-mf", progress=False, epochs=1, dim=4).fit(tiny_data.ratings)
    assert "title" not in bias_ranking(bare, min_ratings=1).columns
    ranking = bias_ranking(bare, min_ratings=1, movies=tiny_data.movies)
    assert ranking["title"].tolist() == [f"Movie {m}" for m in ranking["movie_id"]]
