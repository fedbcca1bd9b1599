import numpy as np
import pandas as pd
from png_files import assert_png

from movierec.analysis import (
    cluster_order,
    extreme_pairs,
    genre_centroids,
    genre_distances,
    movie_embeddings,
    plot_genre_heatmap,
    save_figure,
    vector_matrix,
)


def test_centroid_is_mean_of_member_vectors(fitted):
    movies = movie_embeddings(fitted)
    centroids = genre_centroids(movies, min_movies=1)
    for genre in ("Action", "Romance"):
        members = movies[[genre in g for g in movies["genres"]]]
        np.testing.assert_allclose(vector_matrix(centroids.loc[[genre]])[0],
                                   vector_matrix(members).mean(axis=0), rtol=1e-6)  # float32
        assert centroids.loc[genre, "n_movies"] == len(members)


def test_min_movies_drops_small_genres(fitted):
    centroids = genre_centroids(movie_embeddings(fitted), min_movies=9)
    counts = movie_embeddings(fitted)["genres"].explode().value_counts()
    assert set(centroids.index) == set(counts[counts >= 9].index)


def test_distances_order_and_pairs():
    vectors = pd.DataFrame({"d0": [1.0, 0.9, 0.0, -1.0], "d1": [0.0, 0.1, 1.0, 0.05]},
                           index=pd.Index(["a", "b", "c", "d"], name="genre"))
    distances = genre_distances(vectors, metric="euclidean")
    assert np.allclose(distances.to_numpy(), distances.to_numpy().T)
    assert np.allclose(np.diag(distances), 0)
    order = cluster_order(distances)
    assert sorted(order) == ["a", "b", "c", "d"]
    assert abs(order.index("a") - order.index("b")) == 1  # the closest pair sits together
    pairs = extreme_pairs(distances, n=2)
    closest, farthest = pairs[pairs["kind"] == "closest"], pairs[pairs["kind"] == "farthest"]
    assert tuple(closest.iloc[0][["first", "second"]]) == ("a", "b")
    assert tuple(farthest.iloc[0][["first", "second"]]) == ("a", "d")
    assert closest["distance"].is_monotonic_increasing
    assert farthest["distance"].is_monotonic_decreasing


def test_heatmap_png(fitted, tmp_path):
    distances = genre_distances(genre_centroids(movie_embeddings(fitted), min_movies=1))
    order = cluster_order(distances)
    path = save_figure(plot_genre_heatmap(distances.loc[order, order]), tmp_path / "g.png")
    n = len(distances)
    assert_png(path, 0.45 * n + 3, 0.45 * n + 2)
