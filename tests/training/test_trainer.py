"""Trainer behaviour: early stopping, freezing, fold-in, seeding, history, config errors."""

from __future__ import annotations

import pandas as pd
import pytest
import torch

from movierec.errors import ConfigError
from movierec.models import RatingModel, build_model
from movierec.training import (
    EpochRecord,
    History,
    RatingTensors,
    TrainConfig,
    Trainer,
    rating_errors,
)
from movierec.training.trainer import batch_slices


def as_tensors(frame: pd.DataFrame) -> RatingTensors:
    return RatingTensors(torch.as_tensor(pd.factorize(frame.user_id, sort=True)[0]),
                         torch.as_tensor(pd.factorize(frame.movie_id, sort=True)[0]),
                         torch.as_tensor(frame.rating.to_numpy(copy=True)))


@pytest.fixture
def data(synthetic_ratings: pd.DataFrame) -> RatingTensors:
    return as_tensors(synthetic_ratings)


def quick(preset: str = "biased-mf", **changes: object) -> TrainConfig:
    options = {"epochs": 5, "batch_size": 128, "progress": False, "lr": 0.05, **changes}
    return TrainConfig.for_preset(preset, **options)


def snapshot(model: RatingModel) -> dict[str, torch.Tensor]:
    return {name: p.detach().clone() for name, p in model.named_parameters()}


def test_early_stopping_restores_best_weights(data: RatingTensors) -> None:
    train, validation = data.take(torch.arange(0, 900)), data.take(torch.arange(900, len(data)))
    model = build_model("mlp", 60, 40, seed=0)  # big enough to overfit 900 ratings
    config = quick("mlp", epochs=40, patience=3, lr_schedule="none", weight_decay=0.0, lr=0.02)
    history = Trainer(model, config).fit(train, validation)
    assert len(history.records) < 40, "early stopping never triggered"
    best = history.records[history.best_epoch - 1]
    assert best.val_rmse == min(r.val_rmse for r in history.records)
    assert history.best_epoch < len(history.records)
    rmse, mae = rating_errors(model, validation)
    assert rmse == pytest.approx(best.val_rmse, abs=1e-6)
    assert mae == pytest.approx(best.val_mae, abs=1e-6)


@pytest.mark.parametrize("preset", ["biased-mf", "classifier"])
def test_train_parts_freezes_everything_else(preset: str, data: RatingTensors) -> None:
    model = build_model(preset, 60, 40, seed=0)
    before = snapshot(model)
    buffers = {name: b.clone() for name, b in model.named_buffers()}
    Trainer(model, quick(preset, weight_decay=0.1)).fit(data, train_parts=["user"])
    after = snapshot(model)
    for name in before:
        changed = not torch.equal(before[name], after[name])
        assert changed == name.startswith("user."), name
    for name, buffer in model.named_buffers():  # frozen batch norm keeps its statistics
        assert torch.equal(buffer, buffers[name]), name
    assert all(p.requires_grad for p in model.parameters())


def test_fold_in_changes_only_the_chosen_user_rows(data: RatingTensors) -> None:
    model = build_model("biased-mf", 60, 40, seed=0)
    Trainer(model, quick()).fit(data)
    model.add_users(2)
    new_rows = torch.tensor([60, 61])
    before = snapshot(model)
    newcomers = RatingTensors(torch.tensor([60, 60, 61, 61]), torch.tensor([0, 1, 2, 3]),
                              torch.tensor([5.0, 4.0, 1.0, 2.0]))
    config = quick(optimizer="adamw", weight_decay=0.5, epochs=3)
    Trainer(model, config).fit(newcomers, trainable_user_rows=new_rows)
    after = snapshot(model)
    for name in before:
        if name.startswith("user."):
            assert torch.equal(before[name][:60], after[name][:60]), name
            assert not torch.equal(before[name][60:], after[name][60:]), name
        else:
            assert torch.equal(before[name], after[name]), name


def test_same_seed_gives_identical_weights(data: RatingTensors) -> None:
    weights = []
    for _ in range(2):
        model = build_model("mlp", 60, 40, seed=3)
        Trainer(model, quick("mlp", seed=7)).fit(data)
        weights.append(snapshot(model))
    other = build_model("mlp", 60, 40, seed=3)
    Trainer(other, quick("mlp", seed=8)).fit(data)
    assert all(torch.equal(weights[0][k], weights[1][k]) for k in weights[0])
    assert not all(torch.equal(weights[0][k], v) for k, v in snapshot(other).items())


def test_history_json_round_trip_and_plot(data: RatingTensors, tmp_path) -> None:
    model = build_model("biased-mf", 60, 40, seed=0)
    history = Trainer(model, quick()).fit(data.take(torch.arange(1000)),
                                          data.take(torch.arange(1000, len(data))))
    assert [r.epoch for r in history.records] == [1, 2, 3, 4, 5]
    assert history.ratings_per_second > 0
    history.save_json(tmp_path / "history.json")
    loaded = History.load_json(tmp_path / "history.json")
    assert loaded == history
    assert list(tmp_path.iterdir()) == [tmp_path / "history.json"]  # no temp file left
    assert list(history.to_frame().columns) == list(EpochRecord.__dataclass_fields__)
    history.plot(tmp_path / "loss.png")
    assert (tmp_path / "loss.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_ratings_per_second_counts_epochs() -> None:
    history = History(n_train=100, records=[EpochRecord(1, 1.0, None, None, 0.5, 0.1),
                                            EpochRecord(2, 0.9, None, None, 1.5, 0.1)])
    assert history.ratings_per_second == pytest.approx(100 * 2 / 2.0)


def test_progress_off_a_terminal_prints_one_line_per_epoch(data: RatingTensors, capsys) -> None:
    model = build_model("biased-mf", 60, 40, seed=0)
    Trainer(model, quick(progress=True, epochs=3)).fit(data, data)
    lines = [line for line in capsys.readouterr().out.splitlines() if line.strip()]
    assert len(lines) == 3 and "val RMSE" in lines[0]


def test_batch_slices_never_leave_a_single_row() -> None:
    assert batch_slices(9, 4) == [slice(0, 4), slice(4, 9)]
    assert batch_slices(10, 4) == [slice(0, 4), slice(4, 8), slice(8, 10)]


@pytest.mark.parametrize("bad", [{"optimizer": "lion"}, {"lr_schedule": "step"},
                                 {"epochs": 0}, {"patience": 0}, {"batch_size": -1}])
def test_bad_config_is_a_config_error(bad: dict) -> None:
    with pytest.raises(ConfigError):
        TrainConfig(**bad)


def test_unknown_option_and_part_are_config_errors(data: RatingTensors) -> None:
    with pytest.raises(ConfigError, match="valid options"):
        TrainConfig.from_dict({"epoch": 3})
    model = build_model("biased-mf", 60, 40)
    with pytest.raises(ConfigError, match="user, movie, head"):
        Trainer(model, quick()).fit(data, train_parts=["tower"])
