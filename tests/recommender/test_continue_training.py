"""fit(..., continue_training=True): on from the current weights, history appended."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from movierec import Recommender
from movierec.errors import ConfigError, NotFittedError


@pytest.fixture
def ratings(ratings_factory):
    torch.set_num_threads(1)
    return ratings_factory()


def test_history_grows_and_training_goes_on_from_the_weights(ratings):
    rec = Recommender("biased-mf", progress=False, epochs=3, dim=4).fit(ratings)
    before, steps = rec.history.records, len(rec.history.batch_losses) // 3
    pairs = ratings.head(50)
    predicted = rec.predict(pairs)
    rec.train_config = rec.train_config.replace(lr=1e-9, epochs=2)  # too small to move
    rec.fit(ratings, continue_training=True)
    assert [r.epoch for r in rec.history.records] == [1, 2, 3, 4, 5]
    assert rec.history.records[:3] == before
    assert rec.history.best_epoch in (4, 5)
    assert len(rec.history.batch_losses) == 5 * steps
    np.testing.assert_allclose(rec.predict(pairs), predicted, atol=1e-4)  # not re-initialised


def test_a_fresh_fit_still_replaces_the_history(ratings):
    rec = Recommender("biased-mf", progress=False, epochs=2, dim=4).fit(ratings)
    rec.fit(ratings)
    assert [r.epoch for r in rec.history.records] == [1, 2]


def test_only_fitted_gradient_trained_models_continue(ratings):
    with pytest.raises(NotFittedError):
        Recommender("biased-mf", progress=False).fit(ratings, continue_training=True)
    ease = Recommender("ease", progress=False).fit(ratings)
    with pytest.raises(ConfigError, match="continue_training"):
        ease.fit(ratings, continue_training=True)
