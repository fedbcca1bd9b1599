"""`write_report`: one self-contained HTML page explaining what a trained model learned."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from movierec.analysis import html
from movierec.analysis.bias import bias_ranking, plot_bias_ranking
from movierec.analysis.curves import plot_history
from movierec.analysis.embeddings import movie_embeddings, user_embeddings, vector_columns
from movierec.analysis.exploration import (
    plot_long_tail,
    plot_rating_distribution,
    rating_distribution,
    top_crosstab,
)
from movierec.analysis.genres import (
    cluster_order,
    extreme_pairs,
    genre_centroids,
    genre_distances,
    plot_genre_heatmap,
)
from movierec.analysis.maps import plot_movie_map, plot_user_map
from movierec.analysis.plotting import shorten, write_atomic
from movierec.analysis.projection import (
    MapMethod,
    component_titles,
    map_coordinates,
    principal_components,
)
from movierec.analysis.summary import model_summary
from movierec.data import MovieLensData
from movierec.errors import UnsupportedModelError
from movierec.recommender import Recommender

REPORT_FILE = "report.html"
Progress = Callable[[str], None]


@dataclass(frozen=True)
class ReportSettings:
    """`min_ratings` guards the bias ranking; `map_min_ratings` picks the movies shown on the
    map and used for genre centroids and components (rarely rated movies keep near-initial,
    uninformative vectors); genres with fewer such movies than `min_genre_movies` are left
    out of the heatmap."""

    min_ratings: int = 50
    map_min_ratings: int = 20
    min_genre_movies: int = 10
    map_method: MapMethod = "pca"
    n_labels: int = 20
    top_n: int = 15
    seed: int = 0


@dataclass(frozen=True)
class _Inputs:
    rec: Recommender
    data: MovieLensData
    settings: ReportSettings
    movies: pd.DataFrame  # movie embeddings of movies with >= map_min_ratings ratings
    users: pd.DataFrame


def build_report(rec: Recommender, data: MovieLensData, settings: ReportSettings | None = None,
                 progress: Progress | None = None) -> str:
    """The report as an HTML string; `progress(step)` is called before each step."""
    settings = settings or ReportSettings()
    movies = movie_embeddings(rec, data.movies)
    inputs = _Inputs(rec, data, settings,
                     movies[movies["n_ratings"] >= settings.map_min_ratings].reset_index(drop=True),
                     user_embeddings(rec, data.users))
    sections: list[html.Section] = []
    for anchor, heading, step in _STEPS:
        if progress is not None:
            progress(heading)
        sections.append((anchor, heading, step(inputs)))
    subtitle = (f"{rec.preset} model; data {data.name} from {data.source}; generated "
                f"{time.strftime('%Y-%m-%d %H:%M')} by movierec")
    return html.page(f"What the {rec.preset} model learned", subtitle, sections)


def write_report(rec: Recommender, data: MovieLensData, out_dir: str | Path,
                 settings: ReportSettings | None = None,
                 progress: Progress | None = None) -> Path:
    """Build the report and write `out_dir/report.html` atomically; returns its path."""
    text = build_report(rec, data, settings, progress)
    return write_atomic(Path(out_dir) / REPORT_FILE, text.encode("utf-8"))


def _summary(inputs: _Inputs) -> list[str]:
    return [html.table(model_summary(inputs.rec)),
            html.paragraph("Only what the model folder holds is shown: the held-out test "
                           "scores that `movierec train` prints are not saved with the model.",
                           note=True)]


def _history(inputs: _Inputs) -> list[str]:
    history = inputs.rec.history
    if history is None or not history.records:
        return [html.paragraph("This model was saved without a training history.")]
    fig = plot_history(history, inputs.rec.model.loss_name)
    return [html.figure(fig, "training curves"),
            html.paragraph("Train values are means over each epoch's batches while the weights "
                           "moved; validation values are measured after the epoch. The dashed "
                           "line marks the epoch whose weights the model keeps.", note=True),
            html.table(history.to_frame(), floats="{:.4g}")]


def _ratings(inputs: _Inputs) -> list[str]:
    ratings, s = inputs.data.ratings, inputs.settings
    titles = inputs.data.movies.set_index("movie_id")["title"]
    crosstab = top_crosstab(ratings, s.top_n, s.top_n)
    crosstab.columns = [shorten(str(titles.get(m, m)), 18) for m in crosstab.columns]
    return [html.paragraph(f"All {len(ratings):,} ratings of {inputs.data.name} (the data the "
                           "report was given, which includes any held-out part)."),
            html.figure(plot_rating_distribution(rating_distribution(ratings)), "ratings"),
            html.figure(plot_long_tail(ratings), "ratings per user and per movie"),
            html.paragraph(f"Ratings of the {s.top_n} most active users (rows) for the "
                           f"{s.top_n} most rated movies (columns); blank: not rated."),
            html.table(crosstab, index=True, floats="{:g}")]


def _user_map(inputs: _Inputs) -> list[str]:
    users, s = inputs.users, inputs.settings
    xy = map_coordinates(users, s.map_method, s.seed)
    parts = [html.figure(plot_user_map(users, xy, f"{len(users):,} users ({s.map_method})"),
                         "user map")]
    if "gender" not in users.columns:
        parts.append(html.paragraph(f"{inputs.data.name} has no user demographics.", note=True))
    return parts


def _movie_map(inputs: _Inputs) -> list[str]:
    movies, s = inputs.movies, inputs.settings
    xy = map_coordinates(movies, s.map_method, s.seed)
    title = f"{len(movies):,} movies with >= {s.map_min_ratings} ratings ({s.map_method})"
    return [html.figure(plot_movie_map(movies, xy, s.n_labels, title), "movie map")]


def _genres(inputs: _Inputs) -> list[str]:
    distances = genre_distances(genre_centroids(inputs.movies,
                                                inputs.settings.min_genre_movies))
    if len(distances) < 2:
        return [html.paragraph("Fewer than two genres have enough movies for centroids.")]
    order = cluster_order(distances)
    ordered = distances.loc[order, order]
    return [html.paragraph("Each genre's centroid is the mean embedding of its movies (with >= "
                           f"{inputs.settings.map_min_ratings} ratings); cosine distances, "
                           "rows ordered by average-linkage clustering with optimal leaf "
                           "ordering."),
            html.figure(plot_genre_heatmap(ordered), "genre distance heatmap"),
            html.table(extreme_pairs(distances))]


def _bias(inputs: _Inputs) -> list[str]:
    s = inputs.settings
    try:
        ranking = bias_ranking(inputs.rec, s.min_ratings, inputs.data.ratings)
    except UnsupportedModelError as err:
        return [html.paragraph(str(err))]
    if ranking.empty:
        return [html.paragraph(f"No movie has {s.min_ratings} or more training ratings.")]
    shown = pd.concat([ranking.head(s.top_n), ranking.tail(s.top_n)]).drop_duplicates("movie_id")
    return [html.paragraph(f"The learned movie bias: how much better a movie is rated than its "
                           f"raters' own leniency predicts. Movies with >= {s.min_ratings} "
                           f"training ratings ({len(ranking):,} of them)."),
            html.figure(plot_bias_ranking(ranking, s.top_n), "movie bias ranking"),
            html.table(shown)]


def _components(inputs: _Inputs) -> list[str]:
    movies = inputs.movies
    if "title" not in movies.columns:
        return [html.paragraph("The model was saved without movie titles.")]
    n = min(3, len(movies), len(vector_columns(movies)))
    table = component_titles(movies, principal_components(movies, n))
    for end in ("high end", "low end"):
        table[end] = table[end].map("; ".join)
    return [html.paragraph("Principal components of the movie embeddings, with the titles "
                           "at each end of each axis."), html.table(table)]


_STEPS: list[tuple[str, str, Callable[[_Inputs], list[str]]]] = [
    ("model", "Model and evaluation", _summary),
    ("history", "Training history", _history),
    ("ratings", "The ratings", _ratings),
    ("users", "User map", _user_map),
    ("movies", "Movie map", _movie_map),
    ("genres", "Genre similarity", _genres),
    ("bias", "Movie bias ranking", _bias),
    ("components", "Principal components", _components),
]
