"""2-D maps of user and movie embeddings: who is near whom, coloured by what we know."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from movierec.analysis.plotting import new_figure, shorten

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

GENDER_COLOURS = {"M": "tab:blue", "F": "tab:orange"}
MAX_GENRE_COLOURS = 9  # tab10 minus the grey kept for "other"


def plot_user_map(users: pd.DataFrame, xy: np.ndarray, title: str = "users",
                  axes: tuple[str, str] = ("component 1", "component 2")) -> Figure:
    """Users at `xy`, coloured by gender (with each gender's mean marked) and sized by age,
    when those columns exist; `axes` names the two coordinates (e.g. "PC1", "PC3")."""
    fig = new_figure(7, 6)
    ax = fig.subplots()
    sizes = _sizes(users["age"]) if "age" in users.columns else np.full(len(users), 12.0)
    if "gender" in users.columns:
        genders = users["gender"].fillna("unknown").astype(str).to_numpy()
        for gender in sorted(set(genders)):
            rows = np.flatnonzero(genders == gender)
            colour = GENDER_COLOURS.get(gender, "tab:grey")
            ax.scatter(xy[rows, 0], xy[rows, 1], s=sizes[rows], alpha=0.6, label=gender,
                       color=colour, edgecolors="none")
            centre = xy[rows].mean(axis=0)
            ax.scatter(*centre, s=200, marker="X", color=colour, edgecolors="black",
                       label=f"{gender} mean")
        ax.legend(title="gender (size: age)" if "age" in users.columns else "gender")
    else:
        ax.scatter(xy[:, 0], xy[:, 1], s=sizes, alpha=0.6, edgecolors="none")
    _axes_labels(ax, title, axes)
    return fig


def plot_movie_map(movies: pd.DataFrame, xy: np.ndarray, n_labels: int = 20,
                   title: str = "movies",
                   axes: tuple[str, str] = ("component 1", "component 2")) -> Figure:
    """Movies at `xy`, coloured by main genre, sized by ratings; the most rated titles that
    fit without overlapping are labelled; `axes` names the two coordinates."""
    fig = new_figure(10, 8)
    ax = fig.subplots()
    counts = movies["n_ratings"].to_numpy(np.float64)
    sizes = 4 + 40 * np.log1p(counts) / max(np.log1p(counts).max(), 1e-9)
    genres = _genre_groups(movies["main_genre"]) if "main_genre" in movies.columns else None
    if genres is None:
        ax.scatter(xy[:, 0], xy[:, 1], s=sizes, alpha=0.6, edgecolors="none")
    else:
        colours = dict(zip(genres.cat.categories, _palette(len(genres.cat.categories)),
                           strict=True))
        for genre in genres.cat.categories:
            rows = np.flatnonzero(genres.to_numpy() == genre)
            ax.scatter(xy[rows, 0], xy[rows, 1], s=sizes[rows], alpha=0.6, label=genre,
                       color=colours[genre], edgecolors="none")
        ax.legend(title="main genre", fontsize=8, loc="best", markerscale=1.5)
    if "title" in movies.columns:
        for row in label_positions(xy, counts, n_labels):
            ax.annotate(shorten(str(movies["title"].iloc[row]), 28), xy[row], fontsize=7,
                        xytext=(3, 3), textcoords="offset points")
    _axes_labels(ax, title, axes)
    return fig


def label_positions(xy: np.ndarray, priority: np.ndarray, n: int, *, width: float = 0.16,
                    height: float = 0.035) -> list[int]:
    """Up to `n` rows, highest priority first, whose label boxes (`width` x `height` as a share
    of the plot's span, extending right and up from the point) do not overlap."""
    span = np.ptp(xy, axis=0)
    unit = (xy - xy.min(axis=0)) / np.where(span > 0, span, 1.0)
    chosen: list[int] = []
    for row in np.argsort(-priority, kind="stable"):
        if len(chosen) == n:
            break
        placed = unit[chosen]
        clash = (np.abs(placed[:, 0] - unit[row, 0]) < width) & (
            np.abs(placed[:, 1] - unit[row, 1]) < height)
        if not clash.any():
            chosen.append(int(row))
    return chosen


def _genre_groups(main_genre: pd.Series) -> pd.Series:
    """Main genres as categories: the most common ones, the rest as "other" (last)."""
    common = main_genre.value_counts().index[:MAX_GENRE_COLOURS]
    grouped = main_genre.where(main_genre.isin(common), "other")
    order = [g for g in common if g != "other"] + (["other"] if (grouped == "other").any() else [])
    return grouped.astype(pd.CategoricalDtype(order))


def _palette(n: int) -> list[str]:
    """tab10 colours without grey, and grey for the last entry when it is "other"."""
    colours = [f"tab:{c}" for c in ("blue", "orange", "green", "red", "purple", "brown",
                                    "pink", "olive", "cyan")]
    return [*colours[: n - 1], "tab:grey"] if n > MAX_GENRE_COLOURS else colours[:n]


def _sizes(age: pd.Series) -> np.ndarray:
    """Marker area growing with age; missing ages get the median."""
    values = age.astype(float).fillna(age.median()).to_numpy()
    return 4 + 60 * (values - values.min()) / max(np.ptp(values), 1e-9)


def _axes_labels(ax: Axes, title: str, axes: tuple[str, str]) -> None:
    ax.set_title(title)
    ax.set_xlabel(axes[0])
    ax.set_ylabel(axes[1])
