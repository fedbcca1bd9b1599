import numpy as np
from png_files import assert_png

from movierec.analysis import (
    label_positions,
    map_coordinates,
    movie_embeddings,
    plot_movie_map,
    plot_user_map,
    save_figure,
    user_embeddings,
)


def test_labels_follow_priority_and_never_overlap():
    xy = np.array([[0.0, 0.0], [0.01, 0.0], [0.5, 0.5], [1.0, 1.0], [0.5, 0.51]])
    priority = np.array([5.0, 4.0, 3.0, 2.0, 1.0])
    chosen = label_positions(xy, priority, n=10)
    assert chosen == [0, 2, 3]  # 1 clashes with 0, 4 with 2
    assert label_positions(xy, priority, n=2) == [0, 2]


def test_user_map_png(fitted, tiny_data, tmp_path):
    users = user_embeddings(fitted, tiny_data.users)
    path = save_figure(plot_user_map(users, map_coordinates(users)), tmp_path / "u.png")
    assert_png(path, 7, 6)
    bare = users.drop(columns=["age", "gender"])
    assert_png(save_figure(plot_user_map(bare, map_coordinates(bare)), tmp_path / "b.png"), 7, 6)


def test_movie_map_png(fitted, tmp_path):
    movies = movie_embeddings(fitted)
    path = save_figure(plot_movie_map(movies, map_coordinates(movies), n_labels=5),
                       tmp_path / "m.png")
    pixels = assert_png(path, 10, 8)
    assert (pixels[..., :3] < 0.9).any(axis=-1).mean() > 0.01  # points drawn, not just axes
