"""Per-batch losses: recorded by the minibatch loop, saved and loaded, appended on continuing."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
import torch

from movierec.models import build_model
from movierec.training import EpochRecord, History, RatingTensors, TrainConfig, Trainer
from movierec.training.trainer import batch_slices


@pytest.fixture
def data(synthetic_ratings: pd.DataFrame) -> RatingTensors:
    frame = synthetic_ratings
    return RatingTensors(torch.as_tensor(pd.factorize(frame.user_id, sort=True)[0]),
                         torch.as_tensor(pd.factorize(frame.movie_id, sort=True)[0]),
                         torch.as_tensor(frame.rating.to_numpy(copy=True)))


def test_each_step_is_recorded_and_the_epoch_loss_is_their_weighted_mean(data) -> None:
    config = TrainConfig.for_preset("biased-mf", epochs=3, batch_size=128, progress=False,
                                    optimizer="adam")  # the batched loop records batches
    history = Trainer(build_model("biased-mf", 60, 40, seed=0), config).fit(data)
    sizes = np.array([s.stop - s.start for s in batch_slices(len(data), 128)])
    assert len(history.batch_losses) == 3 * len(sizes)
    per_epoch = np.array(history.batch_losses).reshape(3, len(sizes))
    np.testing.assert_allclose([r.train_loss for r in history.records],
                               per_epoch @ sizes / len(data), rtol=1e-9)


def test_batch_losses_round_trip_and_old_files_load(data, tmp_path) -> None:
    config = TrainConfig.for_preset("biased-mf", epochs=2, batch_size=256, progress=False,
                                    optimizer="adam")
    history = Trainer(build_model("biased-mf", 60, 40, seed=0), config).fit(data)
    history.save_json(tmp_path / "history.json")
    assert History.load_json(tmp_path / "history.json") == history
    old = history.to_dict()
    del old["batch_losses"]
    (tmp_path / "old.json").write_text(json.dumps(old))
    loaded = History.load_json(tmp_path / "old.json")
    assert loaded.batch_losses == [] and loaded.records == history.records


def test_continued_history_numbers_epochs_on() -> None:
    first = History(10, [EpochRecord(1, 2.0, 1.1, 0.9, 1.0, 0.1),
                         EpochRecord(2, 1.5, 1.0, 0.8, 1.0, 0.1)], best_epoch=2,
                    batch_losses=[2.1, 1.9, 1.6, 1.4])
    later = History(10, [EpochRecord(1, 1.2, 0.95, 0.7, 1.0, 0.01)], best_epoch=1,
                    batch_losses=[1.3, 1.1])
    joined = first.continued(later)
    assert [r.epoch for r in joined.records] == [1, 2, 3]
    assert joined.records[2].train_loss == 1.2 and joined.best_epoch == 3
    assert joined.batch_losses == [2.1, 1.9, 1.6, 1.4, 1.3, 1.1]
    assert joined.best_validation() == ("RMSE", 0.95)
