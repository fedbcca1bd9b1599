"""The compiled per-rating kernel (`mf_kernel.py`) and the Trainer's per-rating path."""

from __future__ import annotations

import multiprocessing
from concurrent.futures import ProcessPoolExecutor

import numba
import numpy as np
import pytest
import torch

from movierec import Recommender
from movierec.models import build_model
from movierec.training import RatingTensors, TrainConfig, Trainer, task_for
from movierec.training.mf_kernel import (
    AdagradState,
    FactorTables,
    KernelSettings,
    mf_epoch,
    mf_rating_errors,
)
from tests.conftest import make_ratings

MODELS = {  # preset options of the three losses the kernel covers
    "biased-mf": {},
    "dot": {},
    "bce": {"loss": "bce", "sigmoid_range": False},
}


def _model(kind: str, n_users: int = 3, n_movies: int = 4, seed: int = 0):
    preset = "dot" if kind == "dot" else "biased-mf"
    model = build_model(preset, n_users, n_movies, seed=seed, dim=4, init_std=0.3,
                        **MODELS[kind])
    if model.head is not None:
        with torch.no_grad():
            model.head.value.fill_(0.2)
            model.user.bias.weight.normal_(std=0.3)
            model.movie.bias.weight.normal_(std=0.3)
    return model


def _columns(users, movies, ratings):
    return (np.asarray(users, np.int32), np.asarray(movies, np.int32),
            np.asarray(ratings, np.float32))


@pytest.mark.parametrize("kind", sorted(MODELS))
def test_one_step_is_adagrad_on_the_autograd_gradient(kind: str) -> None:
    """One rating from known Adagrad sums: every touched weight moves by
    -lr * g / sqrt(G + g^2 + eps), g being autograd's gradient of loss + penalty."""
    model = _model(kind)
    user, movie, rating = 1, 2, 4.0
    task = task_for(model)
    u, m = torch.tensor([user]), torch.tensor([movie])
    loss = task.loss(model(u, m), torch.tensor([rating])) + model.penalty(u, m)
    params = [p for p in model.parameters()]
    grads = dict(zip(map(id, params), torch.autograd.grad(loss, params), strict=True))
    before = {id(p): p.detach().clone() for p in params}
    tables = FactorTables.of(model)
    state = AdagradState.zeros(tables)
    for array in (state.user_factors, state.movie_factors, state.user_bias, state.movie_bias,
                  state.global_bias):
        array.fill(0.5)
    lr, eps = 0.1, 1e-10
    total = mf_epoch(*_columns([user], [movie], [rating]), None, tables, state,
                     KernelSettings.of(model, lr, eps=eps), threads=1)
    expected_loss = task.loss(_output(before, model, user, movie), torch.tensor([rating]))
    assert total == pytest.approx(float(expected_loss), rel=1e-5)
    for param in params:
        g = grads[id(param)]
        expected = before[id(param)] - lr * g / torch.sqrt(0.5 + g * g + eps)
        touched = g != 0
        assert torch.allclose(param.detach()[touched], expected[touched], atol=1e-6)
        assert torch.equal(param.detach()[~touched], before[id(param)][~touched])


def _output(before: dict, model, user: int, movie: int) -> torch.Tensor:
    """The model's output for (user, movie) from the weights `before` the step."""
    saved = {id(p): p.detach().clone() for p in model.parameters()}
    with torch.no_grad():
        for p in model.parameters():
            p.copy_(before[id(p)])
        out = model(torch.tensor([user]), torch.tensor([movie]))
        for p in model.parameters():
            p.copy_(saved[id(p)])
    return out


def test_learns_a_low_rank_matrix_to_its_noise_level() -> None:
    """Ratings = rank-2 structure + noise 0.1: held-out RMSE near the noise, far below the
    spread of the ratings."""
    rng = np.random.default_rng(0)
    n_users, n_movies, n = 200, 150, 12_000
    user_vectors, movie_vectors = rng.normal(size=(n_users, 2)), rng.normal(size=(n_movies, 2))
    users, movies = rng.integers(0, n_users, n), rng.integers(0, n_movies, n)
    truth = 3.0 + (user_vectors[users] * movie_vectors[movies]).sum(1)
    ratings = truth + rng.normal(scale=0.1, size=n)
    model = build_model("dot", n_users, n_movies, seed=0, dim=8, l2=1e-4, biases=True,
                        global_bias=True)
    tables, columns = FactorTables.of(model), _columns(users, movies, ratings)
    train, held = slice(0, 10_000), slice(10_000, None)
    state, settings = AdagradState.zeros(tables), KernelSettings.of(model, 0.05, eps=0.1)
    order_rng = np.random.default_rng(1)
    for _ in range(40):
        order = order_rng.permutation(10_000).astype(np.int32)
        mf_epoch(*(c[train] for c in columns), order, tables, state, settings, threads=1)
    rmse, _ = mf_rating_errors(*(c[held] for c in columns), tables, settings, (-10.0, 20.0))
    assert np.std(ratings) > 1.0
    assert rmse < 0.15  # 0.130 measured: close to the noise


def _fit_once(threads: int) -> tuple[np.ndarray, float]:
    model = _model("biased-mf", n_users=50, n_movies=40, seed=3)
    rng = np.random.default_rng(2)
    columns = _columns(rng.integers(0, 50, 4000), rng.integers(0, 40, 4000),
                       rng.integers(1, 6, 4000))
    tables = FactorTables.of(model)
    state = AdagradState.zeros(tables)
    for _ in range(3):
        mf_epoch(*columns, None, tables, state, KernelSettings.of(model, 0.05), threads=threads)
    return tables.user_factors.copy(), float(tables.global_bias[0])


def test_one_thread_is_deterministic_and_the_thread_setting_is_restored() -> None:
    before = numba.get_num_threads()
    first, second = _fit_once(1), _fit_once(1)
    assert np.array_equal(first[0], second[0]) and first[1] == second[1]
    assert numba.get_num_threads() == before


@pytest.mark.skipif(numba.config.NUMBA_NUM_THREADS < 2, reason="one CPU core")
def test_two_threads_split_the_epoch() -> None:
    """Two threads each start from the global bias and their copies are averaged: the
    result differs from one thread visiting every rating in turn."""
    before = numba.get_num_threads()
    one, two = _fit_once(1), _fit_once(2)
    assert np.all(np.isfinite(two[0])) and one[1] != two[1]
    assert numba.get_num_threads() == before


def _bad_call(**change):
    model = _model("biased-mf")
    tables = FactorTables.of(model)
    args = {"users": np.array([0, 1], np.int32), "movies": np.array([1, 3], np.int32),
            "ratings": np.array([3.0, 4.0], np.float32), "order": None, "tables": tables,
            "state": AdagradState.zeros(tables), "settings": KernelSettings(lr=0.1)}
    args.update(change)
    mf_epoch(**args, threads=1)


@pytest.mark.parametrize(("change", "error", "message"), [
    ({"users": np.array([0, 1], np.int64)}, TypeError, "users must be a int32"),
    ({"ratings": np.array([3.0, 4.0])}, TypeError, "ratings must be a float32"),
    ({"movies": np.array([1], np.int32)}, ValueError, "differ in length"),
    ({"users": np.array([0, 3], np.int32)}, IndexError, "rating 1: user index 3"),
    ({"movies": np.array([-1, 0], np.int32)}, IndexError, "rating 0: user index 0 / movie"),
    ({"order": np.array([1, 2], np.int32)}, IndexError, r"order\[1\] = 2"),
    ({"order": np.array([0, 1])}, TypeError, "order must be a 1-D int32"),
    ({"users": np.arange(4, dtype=np.int32)[::2]}, ValueError, "C-contiguous"),
])
def test_bad_input_raises_a_clear_error(change: dict, error: type, message: str) -> None:
    with pytest.raises(error, match=message):
        _bad_call(**change)


def test_mismatched_tables_and_state_are_refused() -> None:
    model = _model("biased-mf")
    tables = FactorTables.of(model)
    with pytest.raises(ValueError, match="AdagradState does not match"):
        _bad_call(state=AdagradState.zeros(FactorTables.of(_model("dot"))))
    with pytest.raises(TypeError, match="user_factors must be a float32"):
        FactorTables(tables.user_factors.astype(np.float64), tables.movie_factors)


def _epoch_in_child(seed: int) -> float:
    return _fit_once(1)[1] + seed


def test_forked_processes_can_train_after_the_parent_did() -> None:
    """One thread needs no thread pool, so forking afterwards (member trainers do) is safe."""
    parent = _fit_once(1)[1]
    context = multiprocessing.get_context("fork")
    with ProcessPoolExecutor(2, mp_context=context) as pool:
        assert list(pool.map(_epoch_in_child, [0, 0])) == [parent, parent]


# ------------------------------------------------------------------ through the Trainer
def _tensors(frame, rows):
    return RatingTensors(torch.as_tensor(frame["user_id"].to_numpy()[rows] - 1),
                         torch.as_tensor(frame["movie_id"].to_numpy()[rows] // 10),
                         torch.as_tensor(frame["rating"].to_numpy()[rows].copy()))


def test_trainer_keeps_history_early_stopping_and_the_best_epoch() -> None:
    frame = make_ratings(n_users=60, n_movies=40)
    train, val = _tensors(frame, slice(0, -150)), _tensors(frame, slice(-150, None))
    model = build_model("biased-mf", 60, 40, seed=0)
    config = TrainConfig.for_preset("biased-mf", progress=False, epochs=40, patience=3,
                                    lr=0.2)
    history = Trainer(model, config).fit(train, val)
    rmses = [record.val_rmse for record in history.records]
    assert len(rmses) < 40 and history.best_epoch == int(np.argmin(rmses)) + 1
    assert len(rmses) - history.best_epoch == 3
    tables = FactorTables.of(model)
    final, _ = mf_rating_errors(val.users.numpy().astype(np.int32),
                                val.movies.numpy().astype(np.int32), val.ratings.numpy(),
                                tables, KernelSettings.of(model, 0.2), model.rating_range)
    assert final == pytest.approx(min(rmses), abs=1e-6)  # the best epoch's weights are back
    with torch.no_grad():
        predicted = model.predict(val.users, val.movies)
    assert final == pytest.approx(float((predicted - val.ratings).square().mean().sqrt()),
                                  abs=1e-5)


def test_recommender_fits_folds_in_and_bce_uses_the_kernel() -> None:
    frame = make_ratings(n_users=80, n_movies=50, seed=1)
    known, new = frame[frame["user_id"] <= 70], frame[frame["user_id"] > 70]
    rec = Recommender("biased-mf", progress=False, epochs=8).fit(known)
    assert rec.history.records[-1].val_rmse < 1.0
    movies_before = rec.model.movie.embedding.weight.detach().clone()
    user_before = rec.model.user.embedding.weight.detach().clone()
    assert sorted(rec.fold_in(new, epochs=5)) == sorted(new["user_id"].unique())
    assert torch.equal(rec.model.movie.embedding.weight, movies_before)  # frozen
    assert torch.equal(rec.model.user.embedding.weight[:len(user_before)], user_before)
    users_before = rec.model.user.embedding.weight.detach().clone()
    rec.fit(known, train_parts=["movie"])  # the user side frozen: only movie rows step
    assert torch.equal(rec.model.user.embedding.weight, users_before)
    assert not torch.equal(rec.model.movie.embedding.weight, movies_before)
    bce = Recommender("biased-mf", progress=False, epochs=4, loss="bce").fit(known)
    assert bce.train_config.optimizer == "per_rating_adagrad"
    assert bce.history.records[-1].val_rmse < 1.2
