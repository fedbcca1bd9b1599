"""The `dae` preset: B starts at the DLAE closed form and the model then scores exactly as
DLAE; B's manual SGD step is the autograd gradient; training moves every part a little and
learns taste groups; fold-in, save and load go through the facade."""

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
import torch
from taste_groups import taste_groups

from movierec import Recommender
from movierec.errors import ConfigError
from movierec.models import build_model
from movierec.models.denoising import DenoisingBatch, SparseRows, dlae_weights
from movierec.training import RatingTensors, TrainConfig, Trainer


def as_tensors(x: sp.csr_matrix) -> RatingTensors:
    users, movies = x.nonzero()
    return RatingTensors(torch.from_numpy(users.astype(np.int64)),
                         torch.from_numpy(movies.astype(np.int64)),
                         torch.full((len(users),), 4.0))


def observe(model: torch.nn.Module, x: sp.csr_matrix) -> None:
    data = as_tensors(x)
    model.observe_ratings(data.users, data.movies, data.ratings)


def trained(epochs: int, seed: int = 0, lr: float = 1e-3, **options: object):
    x = taste_groups()
    options = {"dropout": 0.25, "l2": 3.0, "hidden": 8, **options}
    model = build_model("dae", *x.shape, seed=seed, **options)
    config = TrainConfig.for_preset("dae", epochs=epochs, lr=lr, progress=False, seed=seed)
    Trainer(model, config).fit(as_tensors(x))
    return model


def test_dlae_weights_match_the_closed_form():
    x = taste_groups().toarray().astype(np.float64)
    gram = x.T @ x
    expected = np.linalg.solve(gram + np.diag(0.25 / 0.75 * np.diag(gram) + 3.0), gram)
    np.testing.assert_allclose(dlae_weights(taste_groups(), dropout=0.25, l2=3.0).numpy(), expected,
                               rtol=1e-4, atol=1e-6)


def test_observed_ratings_score_exactly_as_dlae():
    x = taste_groups()
    model = build_model("dae", *x.shape, dropout=0.25, l2=3.0, hidden=8, seed=0)
    observe(model, x)
    expected = torch.from_numpy(x.toarray()) @ dlae_weights(x, dropout=0.25, l2=3.0)
    torch.testing.assert_close(model.score(torch.arange(40)), expected, rtol=1e-5, atol=1e-5)


def test_the_manual_step_of_b_is_the_autograd_gradient():
    x = taste_groups()
    model = build_model("dae", *x.shape, dropout=0.25, l2=3.0, hidden=8, item_item_lr=0.5)
    observe(model, x)
    with torch.no_grad():
        model.decoder.weight.normal_()  # a nonlinear path that is not zero
    start = model.item_item.rows.weight.detach().clone()
    batch = DenoisingBatch(np.arange(0, 40, 3))
    model.batch_loss(batch, torch.Generator().manual_seed(0))
    b = start.clone().requires_grad_()
    target = torch.from_numpy(x[batch.users].toarray())
    with torch.no_grad():
        nonlinear = model(SparseRows.from_dense(batch.noisy)) - batch.noisy @ start
    residual = torch.where(batch.noisy > 0, 0.0, batch.noisy @ b + nonlinear - target)
    residual.square().sum().backward()
    model.after_step(batch)
    torch.testing.assert_close(model.item_item.rows.weight, start - 0.5 * b.grad)
    assert b.grad.abs().max() > 0


def test_training_starts_from_the_closed_form_and_moves_every_part():
    model = trained(epochs=5, item_item_lr=1e-3)
    moved = (model.item_item.rows.weight - dlae_weights(taste_groups(), 0.25, 3.0)).abs().max()
    assert 0 < moved < 0.1
    assert model.decoder.weight.abs().max() > 0
    kept = trained(epochs=2, item_item_lr=0.0)
    torch.testing.assert_close(kept.item_item.rows.weight, dlae_weights(taste_groups(), 0.25, 3.0))


def test_recommends_within_the_taste_group():
    x = taste_groups()
    scores = trained(epochs=20, lr=1e-2).score(torch.arange(40)).detach().numpy()
    scores[x.toarray() > 0] = -np.inf
    top = np.argsort(-scores, axis=1)[:, :3]
    assert ((top // 10) == (np.arange(40) // 20)[:, None]).mean() > 0.9


def test_fits_are_reproducible():
    first, second = trained(epochs=2), trained(epochs=2)
    assert torch.equal(first.score(torch.arange(40)), second.score(torch.arange(40)))


def test_facade_fold_in_save_and_load(tmp_path):
    users, movies = taste_groups().nonzero()
    frame = pd.DataFrame({"user_id": users + 101, "movie_id": movies * 3 + 7, "rating": 4.0,
                          "timestamp": np.arange(len(users))})
    rec = Recommender("dae", hidden=8, epochs=3, progress=False).fit(frame)
    top = rec.recommend(user_id=101, k=5)
    assert len(top) == 5 and not set(top.movie_id) & set(frame.movie_id[frame.user_id == 101])
    assert rec.fold_in(frame[frame.user_id == 101].assign(user_id=999)) == [999]
    pd.testing.assert_frame_equal(rec.recommend(999, k=5), top)
    loaded = Recommender.load(rec.save(tmp_path / "dae"))
    pd.testing.assert_frame_equal(loaded.recommend_many([101, 999, 140], k=5),
                                  rec.recommend_many([101, 999, 140], k=5), check_exact=True)
    similar = rec.similar_movies(7, k=3)
    assert 7 not in set(similar.movie_id) and similar.movie_id.max() <= 7 + 9 * 3


@pytest.mark.parametrize("option, value", [("dropout", 0.0), ("dropout", 1.0), ("hidden", 0),
                                           ("l2", -1.0), ("item_item_lr", -0.1)])
def test_bad_settings_name_the_value(option, value):
    with pytest.raises(ConfigError, match=f"{option} must .* got {value}"):
        build_model("dae", 4, 5, **{option: value})
