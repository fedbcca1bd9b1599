"""Row-wise Adagrad and the ScaleTrainer: learning, checkpoints and resume."""

import numpy as np
import pytest
import torch

from movierec.data.columnar import RatingColumns
from movierec.data.synth import SynthSpec, write_synthetic_movielens
from movierec.errors import ConfigError
from movierec.models import build_model
from movierec.training.rowwise import RowwiseAdagrad
from movierec.training.scale import ScaleConfig, ScaleTrainer


@pytest.fixture(scope="module")
def columns(tmp_path_factory):
    folder = write_synthetic_movielens(tmp_path_factory.mktemp("s") / "synth",
                                       SynthSpec(30_000, 600, 300, seed=1))
    return RatingColumns.from_parquet(folder / "ratings.parquet").holdout(0.1, seed=0)


def _model(cols, dim=16):
    return build_model("biased-mf", len(cols.user_ids), len(cols.movie_ids),
                       rating_range=(0.5, 5.0), seed=0, dim=dim)


def _config(**kw):
    return ScaleConfig(**{"epochs": 3, "batch_size": 2048, "lr": 0.05, "num_threads": 1,
                          "progress": False, **kw})


def test_rowwise_adagrad_known_answer():
    table = torch.nn.Parameter(torch.zeros(3, 2))
    opt = RowwiseAdagrad([table], lr=0.5, eps=1e-30)
    # row 1 appears twice: its gradients (1, 1) + (3, 1) = (4, 2) are summed first
    opt.apply_rows(table, torch.tensor([1, 1, 2]),
                   torch.tensor([[1.0, 1.0], [3.0, 1.0], [0.0, 2.0]]))
    g1, g2 = np.array([4.0, 2.0]), np.array([0.0, 2.0])
    expected = np.zeros((3, 2))
    expected[1] = -0.5 * g1 / np.sqrt((g1**2).mean())
    expected[2] = -0.5 * g2 / np.sqrt((g2**2).mean())
    np.testing.assert_allclose(table.detach().numpy(), expected, rtol=1e-6)
    assert opt.state[table]["sum"].tolist() == [0.0, 10.0, 2.0]


def test_sparse_step_equals_apply_rows():
    a, b = (torch.nn.Parameter(torch.ones(4, 3)) for _ in range(2))
    rows = torch.tensor([3, 0, 3])
    grads = torch.arange(9.0).view(3, 3)
    RowwiseAdagrad([a], lr=0.1).apply_rows(a, rows, grads)
    b.grad = torch.sparse_coo_tensor(rows[None], grads, (4, 3), check_invariants=True)
    RowwiseAdagrad([b], lr=0.1).step()
    torch.testing.assert_close(a.detach(), b.detach())


def test_learns_beyond_the_mean(columns):
    train, val = columns
    history = ScaleTrainer(_model(train), _config(epochs=4)).fit(train, val)
    mean_rmse = float(np.sqrt(((val.ratings - train.ratings.mean()) ** 2).mean()))
    rmses = [r.val_rmse for r in history.records]
    assert rmses[-1] < 0.9 * mean_rmse
    assert rmses[-1] < rmses[0]
    assert len(history.records) == 4 and history.ratings_per_second > 0


def test_resume_continues_exactly(columns, tmp_path):
    train, val = columns
    straight = _model(train)
    ScaleTrainer(straight, _config(epochs=3)).fit(train, val)
    crashed = _model(train)
    ScaleTrainer(crashed, _config(epochs=2), checkpoints=tmp_path).fit(train, val)
    resumed = _model(train)  # a fresh process: new weights, state from the checkpoint
    history = ScaleTrainer(resumed, _config(epochs=3), checkpoints=tmp_path).fit(
        train, val, resume=True)
    assert [r.epoch for r in history.records] == [1, 2, 3]
    for name, value in straight.state_dict().items():
        torch.testing.assert_close(resumed.state_dict()[name], value, rtol=0, atol=0)


def test_resume_refuses_another_model(columns, tmp_path):
    train, val = columns
    ScaleTrainer(_model(train), _config(epochs=1), checkpoints=tmp_path).fit(train, val)
    with pytest.raises(ConfigError, match="checkpoint"):
        ScaleTrainer(_model(train, dim=8), _config(), checkpoints=tmp_path).fit(
            train, val, resume=True)


def test_autograd_path_trains_two_tower(columns):
    train, _ = columns
    model = build_model("two-tower", len(train.user_ids), len(train.movie_ids), seed=0)
    before = model.user.embedding.weight.detach().clone()
    history = ScaleTrainer(model, _config(epochs=2, batch_size=512)).fit(train)
    assert history.records[-1].train_loss < history.records[0].train_loss
    assert not torch.equal(before, model.user.embedding.weight)
    assert not model.user.embedding.sparse  # restored after training


def test_last_batch_too_small_for_every_process_joins_the_previous():
    from movierec.training.scale import _batch_bounds

    assert _batch_bounds(10, 4, 1) == [(0, 4), (4, 8), (8, 10)]
    assert _batch_bounds(10, 4, 3) == [(0, 4), (4, 10)]
