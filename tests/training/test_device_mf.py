"""The device-resident factorisation path (`training/device_mf.py`): the same optimiser as
the CPU path, the same learning curve, checkpoints that resume exactly, and the dispatch
that sends GPU factorisation fits to it. Run on the CPU here, on CUDA too where present."""

import copy

import numpy as np
import pytest
import torch
from device_params import DEVICES

from movierec.data.columnar import RatingColumns
from movierec.data.synth import SynthSpec, write_synthetic_movielens
from movierec.models import build_model
from movierec.training import device_mf, scale
from movierec.training.device_mf import DeviceMFEpochs, takes_device_path
from movierec.training.rowwise import RowwiseAdagrad
from movierec.training.scale import ScaleConfig, ScaleTrainer
from movierec.training.tasks import MSETask, task_for

pytestmark = pytest.mark.usefixtures("one_torch_thread")


@pytest.fixture(scope="module")
def columns(tmp_path_factory):
    folder = write_synthetic_movielens(tmp_path_factory.mktemp("s") / "synth",
                                       SynthSpec(30_000, 600, 300, seed=1))
    parts = RatingColumns.from_parquet(folder / "ratings.parquet").holdout(0.1, seed=0)
    return tuple(part.gather() for part in parts)


def _model(cols, preset="biased-mf"):
    return build_model(preset, len(cols.user_ids), len(cols.movie_ids),
                       rating_range=(0.5, 5.0), seed=0, dim=16)


def _config(**kw):
    return ScaleConfig(**{"epochs": 3, "batch_size": 2048, "lr": 0.05, "num_threads": 1,
                          "progress": False, **kw})


@pytest.fixture
def device_path_on_cpu(monkeypatch):
    """ScaleTrainer takes the device path on the CPU too (it is device-agnostic code)."""
    monkeypatch.setattr(scale, "takes_kernel_path", lambda *args: False)
    monkeypatch.setattr(scale, "takes_device_path", lambda *args: True)


@pytest.mark.parametrize("device", DEVICES)
def test_whole_table_update_equals_rowwise_adagrad(columns, device):
    """Row occurrences summed in the scratch, every row stepped: RowwiseAdagrad's answer."""
    train, _ = columns
    sparse_model, dense_model = _model(train).to(device), _model(train).to(device)
    sparse_opt = RowwiseAdagrad(list(sparse_model.parameters()), lr=0.1)
    dense_opt = RowwiseAdagrad(list(dense_model.parameters()), lr=0.1)
    epochs = DeviceMFEpochs(dense_model, MSETask(), train, 2048, device)
    rng = np.random.default_rng(0)
    for _ in range(3):  # repeated rows within a batch, accumulators growing across steps
        users = torch.from_numpy(rng.integers(0, 40, 600)).to(device)
        movies = torch.from_numpy(rng.integers(0, 30, 600)).to(device)
        ratings = torch.from_numpy(rng.uniform(0.5, 5.0, 600).astype(np.float32)).to(device)
        for model, opt in ((sparse_model, sparse_opt), (dense_model, dense_opt)):
            _, gradients = model.row_gradients(
                users, movies, lambda out, r=ratings: MSETask().loss_and_grad(out, r))
            for param, rows, grad in gradients:
                if opt is sparse_opt:
                    opt.apply_rows(param, rows, grad)
                else:
                    epochs._update(opt, opt.param_groups[0], param, rows, grad)
    for (name, want), got in zip(sparse_model.state_dict().items(),
                                 dense_model.state_dict().values(), strict=True):
        torch.testing.assert_close(got, want, rtol=1e-5, atol=1e-6, msg=name)
    for param_a, param_b in zip(sparse_model.parameters(), dense_model.parameters(),
                                strict=True):
        torch.testing.assert_close(dense_opt.state[param_b]["sum"],
                                   sparse_opt.state[param_a]["sum"], rtol=1e-5, atol=1e-7)


def test_learns_as_the_batch_path_does(columns, device_path_on_cpu, monkeypatch):
    """Same settings, same validation RMSE per epoch (up to the shuffle), falling, as the
    batch loop that GPU factorisation fits took before this path."""
    train, val = columns
    device_rmse = [r.val_rmse for r in ScaleTrainer(_model(train), _config()).fit(train, val)
                   .records]
    monkeypatch.setattr(scale, "takes_device_path", lambda *args: False)
    batch_rmse = [r.val_rmse for r in ScaleTrainer(_model(train), _config()).fit(train, val)
                  .records]
    assert device_rmse == sorted(device_rmse, reverse=True)
    np.testing.assert_allclose(device_rmse, batch_rmse, atol=0.01)


def test_resume_from_a_checkpoint_is_exact(columns, device_path_on_cpu, tmp_path):
    train, val = columns
    straight = _model(train)
    ScaleTrainer(straight, _config()).fit(train, val)
    resumed = _model(train)
    ScaleTrainer(resumed, _config(epochs=2), checkpoints=tmp_path).fit(train, val)
    ScaleTrainer(resumed, _config(), checkpoints=tmp_path).fit(train, val, resume=True)
    for want, got in zip(straight.state_dict().values(), resumed.state_dict().values(),
                         strict=True):
        torch.testing.assert_close(got, want, rtol=0, atol=0)


def test_frozen_parameters_stay_put(columns):
    train, _ = columns
    model = _model(train)
    model.head.value.requires_grad_(False)
    before = copy.deepcopy(model.state_dict())
    optimizer = RowwiseAdagrad([p for p in model.parameters() if p.requires_grad], lr=0.05)
    loss = DeviceMFEpochs(model, task_for(model), train, 4096, "cpu").run(
        torch.Generator().manual_seed(0), optimizer)
    assert 0 < loss < 20
    assert torch.equal(model.head.value, before["head.value"])
    assert not torch.equal(model.user.embedding.weight, before["user.embedding.weight"])


def test_takes_device_path_only_for_one_closed_form_process_on_an_accelerator(columns):
    train, _ = columns
    gpu, cpu = torch.device("cuda"), torch.device("cpu")
    mf = _model(train)
    assert takes_device_path(mf, task_for(mf), gpu, 1)
    assert not takes_device_path(mf, task_for(mf), cpu, 1)
    assert not takes_device_path(mf, task_for(mf), gpu, 2)  # DDP keeps its own loop
    for preset in ("mlp", "two-tower"):  # autograd models
        model = _model(train, preset)
        assert not takes_device_path(model, task_for(model), gpu, 1)


def test_small_batches_step_through_apply_rows(columns, monkeypatch):
    """Below DENSE_SHARE of a table's rows the sort-based update runs (same answer)."""
    train, _ = columns
    calls = []
    original = RowwiseAdagrad.apply_rows
    monkeypatch.setattr(RowwiseAdagrad, "apply_rows",
                        lambda self, *a: calls.append(a[1] is None) or original(self, *a))
    model = _model(train)
    optimizer = RowwiseAdagrad(list(model.parameters()), lr=0.05)
    batch = int(device_mf.DENSE_SHARE * len(train.user_ids)) - 1
    DeviceMFEpochs(model, task_for(model), train.take(np.arange(batch)), batch, "cpu").run(
        torch.Generator().manual_seed(0), optimizer)
    assert calls.count(False) >= 2 and calls.count(True) == 1  # user tables; the global bias
