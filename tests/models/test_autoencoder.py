"""Row autoencoders (AutoRec, kernel net): known-answer loss, kernel gate, stored matrix."""

from __future__ import annotations

import pandas as pd
import pytest
import torch

from movierec import Recommender
from movierec.errors import ConfigError
from movierec.models import KernelLinear, RowAutoencoder, build_model
from movierec.training import RatingTensors, TrainConfig, Trainer


def tiny_autoencoder() -> RowAutoencoder:
    """2 users x 2 movies, one hidden unit; encoder output 0.5, decoder gives 2 everywhere."""
    model = RowAutoencoder(2, 2, hidden=(1,), l2=0.5)
    encoder, decoder = model.encoder[0], model.decoder
    with torch.no_grad():
        encoder.weight.zero_()
        encoder.bias.zero_()
        decoder.weight.copy_(torch.tensor([[2.0, 4.0]]))
        decoder.bias.copy_(torch.tensor([1.0, 0.0]))
    model.observe_ratings(torch.tensor([0, 1]), torch.tensor([0, 1]), torch.tensor([3.0, 5.0]))
    return model


def test_masked_objective_by_hand() -> None:
    # errors on the two observed cells: 3 - 2 and 5 - 2 -> ½(1 + 9) = 5;
    # penalty ½ · 0.5 · (0² + 2² + 4²) = 5; the unobserved cells count nothing
    loss, count = tiny_autoencoder().matrix_objective()
    assert count == 2
    assert loss.item() == pytest.approx(10.0)


@pytest.mark.parametrize("preset", ["kernel-net", "autorec-user"])
def test_sparse_objective_equals_dense_masked_reconstruction(preset: str) -> None:
    model = build_model(preset, 30, 20, hidden=(8, 6), seed=0)
    generator = torch.Generator().manual_seed(0)
    cells = torch.randperm(600, generator=generator)[:90]
    model.observe_ratings(cells // 20, cells % 20, torch.randint(1, 6, (90,)).float())
    loss, count = model.matrix_objective()
    sparse_grads = torch.autograd.grad(loss, list(model.parameters()))
    layers = [m for m in model.encoder if isinstance(m, KernelLinear)] + [model.decoder]
    dense = (0.5 * torch.where(model.mask, model.matrix - model.reconstruct(), 0.0).square().sum()
             + sum(layer.penalty(model.l2, model.kernel_l2) for layer in layers))
    dense_grads = torch.autograd.grad(dense, list(model.parameters()))
    assert count == 90
    torch.testing.assert_close(loss, dense)
    for got, expected in zip(sparse_grads, dense_grads, strict=True):
        torch.testing.assert_close(got, expected)


def test_predict_reads_the_stored_matrix() -> None:
    model = build_model("autorec", 5, 4, hidden=(3,), seed=0).eval()
    model.observe_ratings(torch.tensor([0, 1, 4]), torch.tensor([2, 2, 3]),
                          torch.tensor([5.0, 1.0, 4.0]))
    with torch.no_grad():
        row = torch.zeros(5)
        row[0], row[1] = 5.0, 1.0  # movie 2's ratings by users 0 and 1
        expected = model.decoder(model.encoder(row[None]))[0]
        got = model(torch.arange(5), torch.full((5,), 2))
    torch.testing.assert_close(got, expected)


def test_user_based_rows_are_users() -> None:
    model = build_model("autorec-user", 3, 6, hidden=(4,), seed=0).eval()
    model.observe_ratings(torch.tensor([0, 2]), torch.tensor([1, 5]), torch.tensor([4.0, 2.0]))
    with torch.no_grad():
        torch.testing.assert_close(model(torch.tensor([2, 0]), torch.tensor([3, 5])),
                                   model.reconstruct()[[2, 0], [3, 5]])
    assert model.user_vectors().shape == (3, 4)
    assert model.movie_vectors().shape == (6, 4)


def test_kernel_gate_is_one_minus_squared_distance() -> None:
    layer = KernelLinear(2, 1, kernel_dim=1)
    with torch.no_grad():
        layer.in_points.copy_(torch.tensor([[0.5], [2.0]]))
        layer.out_points.zero_()
    torch.testing.assert_close(layer.kernel(), torch.tensor([[0.75], [0.0]]))


def test_full_batch_training_keeps_best_validation_epoch(synthetic_ratings: pd.DataFrame
                                                         ) -> None:
    frame = synthetic_ratings
    data = RatingTensors(torch.as_tensor(pd.factorize(frame.user_id, sort=True)[0]),
                         torch.as_tensor(pd.factorize(frame.movie_id, sort=True)[0]),
                         torch.as_tensor(frame.rating.to_numpy(copy=True)))
    train, val = data.take(torch.arange(len(data)) % 10 != 0), data.take(
        torch.arange(len(data)) % 10 == 0)
    model = build_model("autorec", 60, 40, hidden=(16,), l2=1.0, seed=0)
    config = TrainConfig.for_preset("autorec", epochs=8, patience=None, progress=False)
    history = Trainer(model, config).fit(train, val)
    rmses = [r.val_rmse for r in history.records]
    assert history.best_val_rmse == min(rmses)
    assert rmses[-1] < rmses[0]
    with pytest.raises(ConfigError, match="lbfgs"):
        Trainer(model, config.replace(optimizer="adam")).fit(train, val)


def test_save_load_round_trip_and_no_fold_in(synthetic_ratings: pd.DataFrame, tmp_path) -> None:
    rec = Recommender("kernel-net", hidden=(8, 8), epochs=3, progress=False)
    rec.fit(synthetic_ratings)
    before = rec.predict(synthetic_ratings)
    loaded = Recommender.load(rec.save(tmp_path / "kn"))
    assert (loaded.predict(synthetic_ratings) == before).all()
    with pytest.raises(ConfigError, match="refit"):
        rec.fold_in(synthetic_ratings.head(3))
    with pytest.raises(ConfigError, match="refit"):
        rec.fit(synthetic_ratings, train_parts=["user"])
