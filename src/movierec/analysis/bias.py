"""Movie bias ranking: the best and worst movies once each user's leniency is accounted for.

In biased MF, rating ~ global + user bias + movie bias + <user, movie>; the learned movie
bias is how much better a movie is rated than expected from who rated it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from movierec.analysis.embeddings import movie_embeddings
from movierec.analysis.plotting import new_figure, shorten
from movierec.errors import NotFittedError, UnsupportedModelError
from movierec.recommender import Recommender

if TYPE_CHECKING:
    from matplotlib.figure import Figure


def learned_movie_bias(rec: Recommender) -> np.ndarray:
    """The model's movie bias per movie index; `UnsupportedModelError` for models without one."""
    if rec.model is None:
        raise NotFittedError("this Recommender is not fitted; call fit() or load() first")
    table = getattr(getattr(rec.model, "movie", None), "bias", None)
    if table is None:
        raise UnsupportedModelError(
            f"the {rec.preset!r} model learns no movie biases, so there is no bias ranking; "
            "train a model with biases, e.g. biased-mf")
    return table.weight.detach().cpu().numpy()[:, 0].astype(np.float64)


def bias_ranking(rec: Recommender, min_ratings: int = 50,
                 ratings: pd.DataFrame | None = None,
                 movies: pd.DataFrame | None = None) -> pd.DataFrame:
    """Movies with at least `min_ratings` training ratings, highest learned bias first.

    Columns: movie_id, title (when titles are known: `movies`, else those saved with the
    model), n_ratings, bias, and mean_rating when `ratings` are given (the raw mean, to
    compare with the leniency-corrected bias).
    """
    bias = learned_movie_bias(rec)
    movies = movie_embeddings(rec, movies)
    keep = [c for c in ("movie_id", "title", "n_ratings") if c in movies.columns]
    ranking = movies[keep].assign(bias=bias)
    if ratings is not None:
        means = ratings.groupby("movie_id")["rating"].mean()
        ranking["mean_rating"] = means.reindex(ranking["movie_id"]).to_numpy()
    ranking = ranking[ranking["n_ratings"] >= min_ratings]
    return ranking.sort_values("bias", ascending=False, kind="stable").reset_index(drop=True)


def plot_bias_ranking(ranking: pd.DataFrame, n: int = 15) -> Figure:
    """Two bar charts: the `n` highest and the `n` lowest movie biases."""
    fig = new_figure(12, 0.3 * n + 1.5)
    label = "title" if "title" in ranking.columns else "movie_id"
    ends = [("highest bias", ranking.head(n), "tab:green"),
            ("lowest bias", ranking.tail(n).iloc[::-1], "tab:red")]
    for ax, (title, part, colour) in zip(fig.subplots(1, 2), ends, strict=True):
        names = [shorten(str(t)) for t in part[label]]
        ax.barh(range(len(part)), part["bias"], color=colour)
        ax.set_yticks(range(len(part)), names, fontsize=8)
        ax.invert_yaxis()
        ax.set_title(title)
        ax.set_xlabel("learned movie bias")
        ax.axvline(0, color="grey", linewidth=0.8)
    return fig

