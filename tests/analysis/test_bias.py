import numpy as np
import pytest
from png_files import assert_png

from movierec.analysis import bias_ranking, learned_movie_bias, plot_bias_ranking, save_figure
from movierec.errors import UnsupportedModelError


def test_ranking_honours_min_count_and_sorts(fitted, tiny_data):
    counts = tiny_data.ratings["movie_id"].value_counts()
    threshold = int(counts.median())
    ranking = bias_ranking(fitted, min_ratings=threshold, ratings=tiny_data.ratings)
    assert set(ranking["movie_id"]) == set(counts[counts >= threshold].index)
    assert ranking["bias"].is_monotonic_decreasing
    bias = fitted.model.movie.bias.weight.detach().numpy()[:, 0]
    index = fitted.movie_ids.to_index(ranking["movie_id"].to_numpy())
    np.testing.assert_allclose(ranking["bias"], bias[index], rtol=1e-6)
    means = tiny_data.ratings.groupby("movie_id")["rating"].mean()
    np.testing.assert_allclose(ranking["mean_rating"], means.loc[ranking["movie_id"]])


def test_model_without_biases_says_so(unbiased):
    with pytest.raises(UnsupportedModelError, match=r"mlp-tiny.*no movie biases"):
        learned_movie_bias(unbiased)


def test_bias_plot_png(fitted, tmp_path):
    path = save_figure(plot_bias_ranking(bias_ranking(fitted, 1), n=5), tmp_path / "b.png")
    assert_png(path, 12, 0.3 * 5 + 1.5)
