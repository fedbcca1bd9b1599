"""Score blending: per-user standardisation, weights that decide, bad weights refused."""

import numpy as np
import pandas as pd
import pytest
import torch

from movierec.errors import ConfigError
from movierec.topk.blend import ScoreBlend, standardised


class Fixed:
    """A ranker whose scores are given; remembers what it was fitted on."""

    def __init__(self, scores):
        self.scores = torch.tensor(scores, dtype=torch.float32)

    def fit_ratings(self, ratings, movies=None, users=None):
        self.fitted_on = ratings
        return self

    def score(self, users):
        return self.scores[users]


def test_standardised_rows_have_mean_zero_and_unit_spread():
    z = standardised(torch.tensor([[1.0, 2.0, 3.0], [10.0, 10.0, 40.0]]))
    torch.testing.assert_close(z.mean(dim=1), torch.zeros(2))
    torch.testing.assert_close(z.std(dim=1), torch.ones(2))


def test_the_heavier_member_decides_and_scales_do_not_matter():
    # member a prefers movie 0, member b (1000x larger scores) prefers movie 2
    a, b = Fixed([[3.0, 2.0, 1.0]]), Fixed([[1000.0, 2000.0, 3000.0]])
    ratings = pd.DataFrame({"user_id": [1], "movie_id": [5], "rating": [4.0]})
    assert ScoreBlend([a, b], [0.7, 0.3]).fit_ratings(ratings).score(np.array([0])).argmax() == 0
    assert ScoreBlend([a, b], [0.3, 0.7]).score(np.array([0])).argmax() == 2
    assert a.fitted_on is ratings and b.fitted_on is ratings


@pytest.mark.parametrize("weights, message", [([1.0], "one weight per member"),
                                              ([1.0, -0.5], r"got \[1.0, -0.5\]"),
                                              ([0.0, 0.0], "positive sum")])
def test_bad_weights_are_refused(weights, message):
    with pytest.raises(ConfigError, match=message):
        ScoreBlend([Fixed([[1.0]]), Fixed([[1.0]])], weights)
