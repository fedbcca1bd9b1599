"""The tutorials' first look at a ratings table: a dense corner, the rating scale, the long tail."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from movierec.analysis.plotting import new_figure

if TYPE_CHECKING:
    from matplotlib.figure import Figure


def ratings_per(ratings: pd.DataFrame, key: str) -> pd.Series:
    """Ratings per `key` ("user_id" or "movie_id"), most active first."""
    return ratings[key].value_counts().rename("n_ratings")


def top_crosstab(ratings: pd.DataFrame, n_users: int = 15, n_movies: int = 15) -> pd.DataFrame:
    """Ratings of the `n_users` most active users (rows) for the `n_movies` most rated movies
    (columns), NaN where a user did not rate a movie (the fast.ai lesson's crosstab)."""
    users = ratings_per(ratings, "user_id").index[:n_users]
    movies = ratings_per(ratings, "movie_id").index[:n_movies]
    corner = ratings[ratings["user_id"].isin(users) & ratings["movie_id"].isin(movies)]
    table = corner.pivot_table(index="user_id", columns="movie_id", values="rating",
                               aggfunc="mean")
    return table.reindex(index=users, columns=movies)


def rating_distribution(ratings: pd.DataFrame) -> pd.Series:
    """How many ratings have each rating value, lowest value first."""
    return ratings["rating"].value_counts().sort_index().rename("n_ratings")


def plot_rating_distribution(distribution: pd.Series) -> Figure:
    """Bar chart of ratings per rating value."""
    fig = new_figure(6, 4)
    ax = fig.subplots()
    ax.bar([f"{v:g}" for v in distribution.index], distribution.to_numpy(), color="tab:blue")
    ax.set_xlabel("rating")
    ax.set_ylabel("number of ratings")
    ax.set_title(f"rating distribution ({int(distribution.sum()):,} ratings)")
    return fig


def plot_long_tail(ratings: pd.DataFrame) -> Figure:
    """Ratings per user and per movie against their rank (log scale): the long tail."""
    fig = new_figure(10, 4)
    for ax, key in zip(fig.subplots(1, 2), ("user_id", "movie_id"), strict=True):
        counts = ratings_per(ratings, key).to_numpy()
        what = key.removesuffix("_id")
        ax.plot(np.arange(1, len(counts) + 1), counts, color="tab:blue")
        ax.fill_between(np.arange(1, len(counts) + 1), counts, alpha=0.3)
        ax.set_yscale("log")
        ax.set_xlabel(f"{what} rank (most active first)")
        ax.set_ylabel("ratings")
        ax.set_title(f"ratings per {what}: median {np.median(counts):g}, max {counts.max():,}")
    return fig
