"""Class probabilities and per-epoch validation accuracy for the rating classifier."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch

from movierec import Recommender
from movierec.errors import ConfigError, UnknownIdError


@pytest.fixture(scope="module")
def split(ratings_factory) -> tuple[pd.DataFrame, pd.DataFrame]:
    ratings = ratings_factory()
    test = ratings.sample(frac=0.1, random_state=0)
    train = ratings.drop(test.index)
    known = test["user_id"].isin(train["user_id"]) & test["movie_id"].isin(train["movie_id"])
    return train, test[known]


@pytest.fixture(scope="module")
def classifier(split) -> Recommender:
    torch.set_num_threads(1)
    train, test = split
    return Recommender("classifier", progress=False, epochs=1, dim=8, hidden=(16,)).fit(
        train, validation=test)


def test_probabilities_are_rows_over_the_classes_whose_mean_is_predict(classifier, split):
    pairs = split[1].reset_index(drop=True)
    proba = classifier.predict_proba(pairs)
    assert list(proba.columns) == [1.0, 2.0, 3.0, 4.0, 5.0] and len(proba) == len(pairs)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-9)
    expected = proba.to_numpy() @ proba.columns.to_numpy(np.float64)
    np.testing.assert_allclose(expected, classifier.predict(pairs), rtol=1e-5)


def test_epoch_record_holds_validation_accuracy(classifier, split):
    test = split[1]
    proba = classifier.predict_proba(test)
    most_likely = proba.columns.to_numpy()[proba.to_numpy().argmax(axis=1)]
    accuracy = float(np.mean(most_likely == test["rating"].to_numpy()))
    (record,) = classifier.history.records
    assert record.val_accuracy == pytest.approx(accuracy)


def test_other_presets_and_unknown_ids_are_refused(classifier, split):
    with pytest.raises(UnknownIdError):
        classifier.predict_proba(pd.DataFrame({"user_id": [10_000], "movie_id": [17]}))
    rater = Recommender("biased-mf", progress=False, epochs=1).fit(split[0])
    with pytest.raises(ConfigError, match="not a classifier"):
        rater.predict_proba(split[1])
    assert rater.history.records[0].val_accuracy is None
