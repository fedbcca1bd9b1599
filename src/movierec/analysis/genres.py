"""Genre centroids of movie embeddings, their distances, and a clustered ordering of genres."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from movierec.analysis.embeddings import vector_columns
from movierec.analysis.plotting import new_figure

if TYPE_CHECKING:
    from matplotlib.figure import Figure


def genre_centroids(movies: pd.DataFrame, min_movies: int = 10) -> pd.DataFrame:
    """Mean vector of each genre's movies (a movie counts in every genre it lists).

    Index: genre; columns: n_movies, then d0, d1, ...; genres with fewer than `min_movies`
    members are left out, since a centroid of a handful of movies is noise.
    """
    columns = vector_columns(movies)
    members = movies[["genres", *columns]].explode("genres").dropna(subset=["genres"])
    grouped = members.groupby("genres", sort=True)
    centroids = grouped[columns].mean()
    centroids.insert(0, "n_movies", grouped.size())
    centroids.index.name = "genre"
    return centroids[centroids["n_movies"] >= min_movies]


def genre_distances(centroids: pd.DataFrame, metric: str = "cosine") -> pd.DataFrame:
    """Square genre x genre distance frame between centroids (scipy `pdist` metric)."""
    from scipy.spatial.distance import pdist, squareform

    vectors = centroids[vector_columns(centroids)].to_numpy(np.float64)
    square = squareform(pdist(vectors, metric=metric))
    return pd.DataFrame(square, index=centroids.index, columns=centroids.index)


def cluster_order(distances: pd.DataFrame) -> list[str]:
    """Labels in the leaf order of average-linkage clustering with optimal leaf ordering."""
    from scipy.cluster.hierarchy import leaves_list, linkage, optimal_leaf_ordering
    from scipy.spatial.distance import squareform

    if len(distances) < 3:
        return list(distances.index)
    condensed = squareform(distances.to_numpy(), checks=False)
    tree = optimal_leaf_ordering(linkage(condensed, method="average"), condensed)
    return [distances.index[i] for i in leaves_list(tree)]


def extreme_pairs(distances: pd.DataFrame, n: int = 3) -> pd.DataFrame:
    """The `n` closest and `n` farthest distinct pairs: kind, first, second, distance."""
    upper = np.triu_indices(len(distances), k=1)
    pairs = pd.DataFrame({"first": distances.index[upper[0]],
                          "second": distances.columns[upper[1]],
                          "distance": distances.to_numpy()[upper]}).sort_values("distance")
    closest = pairs.head(n).assign(kind="closest")
    farthest = pairs.tail(n).iloc[::-1].assign(kind="farthest")
    return pd.concat([closest, farthest])[["kind", "first", "second", "distance"]].reset_index(
        drop=True)


def plot_genre_heatmap(distances: pd.DataFrame, title: str = "genre centroid distances") -> Figure:
    """Annotated heatmap of a (preferably cluster-ordered) square distance frame."""
    n = len(distances)
    fig = new_figure(0.45 * n + 3, 0.45 * n + 2)
    ax = fig.subplots()
    image = ax.imshow(distances.to_numpy(), cmap="viridis_r")
    labels = [str(g) for g in distances.index]
    ax.set_xticks(range(n), labels, rotation=90)
    ax.set_yticks(range(n), labels)
    if n <= 25:
        for i, j in np.ndindex(n, n):
            value = distances.iat[i, j]
            ax.text(j, i, f"{value:.2f}", ha="center", va="center", fontsize=7,
                    color="white" if value > distances.to_numpy().mean() else "black")
    fig.colorbar(image, ax=ax, shrink=0.8, label="distance")
    ax.set_title(title)
    return fig
