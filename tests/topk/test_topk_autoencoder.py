"""The denoising item autoencoder: its item-item path starts at the DLAE closed form, training
moves it, it learns taste groups, and bad settings are clear errors."""

import numpy as np
import pytest
import torch
from test_topk_baselines import blocks

from movierec.errors import ConfigError
from movierec.topk.autoencoder import DenoisingAutoencoderRanker, dlae_weights


def test_dlae_weights_match_the_closed_form():
    x = blocks().toarray().astype(np.float64)
    gram = x.T @ x
    penalty = np.diag(0.25 / 0.75 * np.diag(gram) + 3.0)
    expected = np.linalg.solve(gram + penalty, gram)
    np.testing.assert_allclose(dlae_weights(blocks(), dropout=0.25, l2=3.0).numpy(), expected,
                               rtol=1e-4, atol=1e-6)


def test_training_starts_from_the_closed_form_and_moves_every_part():
    train = blocks()
    ranker = DenoisingAutoencoderRanker(dropout=0.25, l2=3.0, hidden=8, epochs=5,
                                        item_item_lr=1e-3, progress=False).fit(train)
    start = dlae_weights(train, dropout=0.25, l2=3.0)
    moved = (ranker.model.item_item.rows.weight - start).abs().max()
    assert 0 < moved < 0.1
    assert ranker.model.decoder.weight.abs().max() > 0


def test_recommends_within_the_taste_group():
    train = blocks()
    ranker = DenoisingAutoencoderRanker(dropout=0.25, l2=3.0, hidden=8, epochs=20, lr=1e-2,
                                        progress=False).fit(train)
    scores = ranker.score(np.arange(40)).numpy()
    scores[train.toarray() > 0] = -np.inf
    top = np.argsort(-scores, axis=1)[:, :3]
    assert ((top // 10) == (np.arange(40) // 20)[:, None]).mean() > 0.9


def test_fits_are_reproducible():
    fits = [DenoisingAutoencoderRanker(hidden=8, epochs=2, progress=False).fit(blocks())
            for _ in range(2)]
    torch.testing.assert_close(fits[0].score(np.arange(40)), fits[1].score(np.arange(40)))


@pytest.mark.parametrize("option, value", [("dropout", 0.0), ("hidden", 0), ("l2", -1.0),
                                           ("lr", 0.0)])
def test_bad_settings_name_the_value(option, value):
    with pytest.raises(ConfigError, match=f"{option} must .* got {value}"):
        DenoisingAutoencoderRanker(**{option: value})
