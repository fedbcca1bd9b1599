import numpy as np
import pytest

from movierec.analysis import (
    component_titles,
    map_coordinates,
    movie_embeddings,
    principal_components,
    vector_matrix,
)
from movierec.errors import ConfigError


def test_components_orthonormal_and_variance_decreasing(fitted):
    projection = principal_components(movie_embeddings(fitted), 4)
    components = projection.components
    np.testing.assert_allclose(components @ components.T, np.eye(4), atol=1e-10)
    assert np.all(np.diff(projection.explained_variance_ratio) <= 0)
    assert projection.coordinates.shape == (len(fitted.movie_ids), 4)


def test_coordinates_are_centred_projections(fitted):
    movies = movie_embeddings(fitted)
    projection = principal_components(movies, 2)
    vectors = vector_matrix(movies)
    np.testing.assert_allclose(projection.coordinates,
                               (vectors - vectors.mean(axis=0)) @ projection.components.T,
                               atol=1e-10)
    np.testing.assert_allclose(map_coordinates(movies), projection.coordinates)


def test_component_titles_are_the_extremes(fitted):
    movies = movie_embeddings(fitted)
    projection = principal_components(movies, 2)
    table = component_titles(movies, projection, n_titles=3)
    first = projection.coordinates[:, 0]
    assert table.loc[0, "high end"][0] == movies["title"].iloc[first.argmax()]
    assert table.loc[0, "low end"][0] == movies["title"].iloc[first.argmin()]
    assert list(table["component"]) == ["PC1", "PC2"]


def test_two_dimensional_vectors_map_to_themselves(unbiased):
    movies = movie_embeddings(unbiased)
    np.testing.assert_array_equal(map_coordinates(movies), vector_matrix(movies))


def test_tsne_and_bad_arguments(fitted):
    movies = movie_embeddings(fitted)
    assert map_coordinates(movies, "tsne").shape == (len(movies), 2)
    with pytest.raises(ConfigError, match="map method"):
        map_coordinates(movies, "umap")  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="n_components"):
        principal_components(movies, 99)
