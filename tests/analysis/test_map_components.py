"""PCA maps on chosen components, e.g. PC1 against PC3."""

from __future__ import annotations

import numpy as np
import pytest

from movierec.analysis import (
    map_coordinates,
    movie_embeddings,
    plot_movie_map,
    principal_components,
)
from movierec.errors import ConfigError


def test_pc1_against_pc3(fitted):
    movies = movie_embeddings(fitted)
    xy = map_coordinates(movies, components=(0, 2))
    three = principal_components(movies, 3).coordinates
    np.testing.assert_allclose(xy, three[:, [0, 2]], atol=1e-9)
    np.testing.assert_allclose(map_coordinates(movies), three[:, :2], atol=1e-9)
    fig = plot_movie_map(movies, xy, axes=("PC1", "PC3"))
    ax = fig.axes[0]
    assert (ax.get_xlabel(), ax.get_ylabel()) == ("PC1", "PC3")


def test_bad_component_choices(fitted, unbiased):
    movies = movie_embeddings(fitted)
    with pytest.raises(ConfigError, match="two different"):
        map_coordinates(movies, components=(1, 1))
    with pytest.raises(ConfigError, match="PCA maps only"):
        map_coordinates(movies, "tsne", components=(0, 2))
    with pytest.raises(ConfigError, match="n_components"):  # 2-d vectors have no PC3
        map_coordinates(movie_embeddings(unbiased), components=(0, 2))
    two = movie_embeddings(unbiased)
    np.testing.assert_allclose(map_coordinates(two, components=(1, 0)),
                               principal_components(two, 2).coordinates[:, [1, 0]], atol=1e-9)
