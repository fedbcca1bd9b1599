"""Principal components of embeddings: 2-D map coordinates and what each axis means."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd

from movierec.analysis.embeddings import vector_matrix
from movierec.errors import ConfigError

MapMethod = Literal["pca", "tsne"]


@dataclass(frozen=True)
class Projection:
    """PCA of row vectors: `coordinates` [rows, k], orthonormal `components` [k, dim] and the
    share of variance each component explains (decreasing)."""

    coordinates: np.ndarray
    components: np.ndarray
    explained_variance_ratio: np.ndarray


def principal_components(frame: pd.DataFrame, n_components: int = 3) -> Projection:
    """PCA (scikit-learn) of the frame's vector columns d0, d1, ..."""
    from sklearn.decomposition import PCA

    vectors = vector_matrix(frame)
    limit = min(vectors.shape)
    if not 1 <= n_components <= limit:
        raise ConfigError(f"n_components must be in 1..{limit} for {vectors.shape[0]} vectors "
                          f"of dim {vectors.shape[1]}, got {n_components}")
    pca = PCA(n_components=n_components, svd_solver="full")
    coordinates = pca.fit_transform(vectors)
    return Projection(coordinates, pca.components_, pca.explained_variance_ratio_)


def map_coordinates(frame: pd.DataFrame, method: MapMethod = "pca", seed: int = 0,
                    components: tuple[int, int] = (0, 1)) -> np.ndarray:
    """[rows, 2] map positions: the vectors themselves when dim is 2, else PCA or t-SNE.

    `components` picks the two principal components (0-based) of a PCA map, e.g. (0, 2)
    for PC1 against PC3; any other choice than (0, 1) projects 2-d vectors too.
    """
    vectors = vector_matrix(frame)
    if vectors.shape[1] < 2:
        raise ConfigError(f"a 2-D map needs embeddings of dim >= 2, got {vectors.shape[1]}")
    first, second = components
    if first == second or min(components) < 0:
        raise ConfigError(f"components must be two different indices >= 0, got {components}")
    if tuple(components) != (0, 1) and method != "pca":
        raise ConfigError(f"components apply to PCA maps only, not {method!r}")
    if vectors.shape[1] == 2 and tuple(components) == (0, 1):
        return vectors
    if method == "pca":
        return principal_components(frame, max(components) + 1).coordinates[:, [first, second]]
    if method == "tsne":
        from sklearn.manifold import TSNE

        perplexity = min(30.0, (len(vectors) - 1) / 3)
        return TSNE(2, perplexity=perplexity, init="pca", random_state=seed).fit_transform(vectors)
    raise ConfigError(f"map method must be 'pca' or 'tsne', got {method!r}")


def component_titles(frame: pd.DataFrame, projection: Projection, n_titles: int = 5,
                     label: str = "title") -> pd.DataFrame:
    """Per component: its explained variance and the `n_titles` rows at each end of it.

    `frame` must be the rows the projection was fitted on, in the same order.
    """
    rows = []
    for k, ratio in enumerate(projection.explained_variance_ratio):
        order = np.argsort(projection.coordinates[:, k])
        rows.append({
            "component": f"PC{k + 1}",
            "explained_variance": float(ratio),
            "high end": list(frame[label].iloc[order[::-1][:n_titles]]),
            "low end": list(frame[label].iloc[order[:n_titles]]),
        })
    return pd.DataFrame(rows)
