"""A compiled per-rating training loop for matrix factorisation (numba, Hogwild over threads).

Why: on small data a batched PyTorch step spends most of its time in per-call overhead, and
on large data it gathers and scatters whole batches; a per-rating loop over the model's own
tables does neither. It trains exactly the model of `models/factorization.py`
(`MatrixFactorization`): score x = <p_u, q_i> [+ b_u + b_i] [+ g]; with MSE the output is
low + (high - low) * sigmoid(x) when `output_range` is given, else x, and a rating's loss is
(output - r)^2; with BCE (`bce_range` given) it is the binary cross-entropy of the logit x
against r min-max scaled from `bce_range` to [0, 1]. Either way l2 * (|p_u|^2 + |q_i|^2) is
added per rating: the per-rating form of the model's penalty.

API (stable: the Trainer and the columnar path call it; all arrays are plain numpy)::

    tables = FactorTables.of(model)          # float32 views of the model's parameters: the
                                             # kernel writes into the model, no copy
    state = AdagradState.zeros(tables)       # Adagrad's sums, one per weight; keep it
                                             # for every epoch of a fit
    settings = KernelSettings(lr=0.03, l2=0.1, output_range=(0.5, 5.5))
                                             # or KernelSettings.of(model, lr)
    loss_sum = mf_epoch(users, movies, ratings, order, tables, state, settings, threads=None)
    rmse, mae = mf_rating_errors(users, movies, ratings, tables, settings, (1.0, 5.0))
    covers(model)                            # whether the kernel trains this model

`users`, `movies`: int32 row indices; `ratings`: float32; all 1-D of one length, C-contiguous.
`order`: int32 positions into them, the visiting order of this epoch (a permutation, or any
subset), or None for 0..n-1. `mf_epoch` returns the sum of the task losses (squared errors
or cross-entropies) of the outputs before each update: the epoch's mean training loss times
the number of ratings visited.
The step is per-rating Adagrad on every weight the rating touches: G += g^2, then
w -= lr * g / sqrt(G + eps); a large eps (the Trainer's 0.1) damps the first steps of every
row and all steps of rarely seen ones, a regulariser: so damped it beat the batched Adam path
on ml-100k validation carves, where plain SGD did not reach it. `threads`: how many threads
train at once, each on its share of `order` (Hogwild: updates to shared rows race; the
global bias is kept per thread and the threads' copies averaged at the end of the epoch).
None: numba's default (all cores); 1: deterministic, on the calling thread, no thread pool.
Ids outside the tables raise `IndexError` naming the position (rows visited before it have
been trained).

Compiling: `cache=True` keeps the machine code in numba's cache beside this file (or in
NUMBA_CACHE_DIR). On a fresh clone the first one-thread call compiles for about 3 s, the
first threaded one about 5 s more (2-core machine); after that each new process spends about
0.5 s on its first call, loading numba's typing tables and the cached code.
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Iterator
from dataclasses import dataclass, field

import numba
import numpy as np
from numba import njit, prange

_EMPTY_F32 = np.zeros(0, dtype=np.float32)
_EMPTY_I32 = np.zeros(0, dtype=np.int32)


@dataclass(frozen=True)
class FactorTables:
    """The parameters the kernel trains, as writable C-contiguous float32 arrays.

    `user_bias`/`movie_bias` are [n] (empty when the model has no biases), `global_bias`
    is [1] (empty when it has none). `train_*` False leaves that table as it is (frozen parts).
    """

    user_factors: np.ndarray
    movie_factors: np.ndarray
    user_bias: np.ndarray = field(default_factory=lambda: _EMPTY_F32)
    movie_bias: np.ndarray = field(default_factory=lambda: _EMPTY_F32)
    global_bias: np.ndarray = field(default_factory=lambda: _EMPTY_F32)
    train_users: bool = True
    train_movies: bool = True
    train_global: bool = True

    def __post_init__(self) -> None:
        for name in ("user_factors", "movie_factors", "user_bias", "movie_bias", "global_bias"):
            array = getattr(self, name)
            if not isinstance(array, np.ndarray) or array.dtype != np.float32:
                raise TypeError(f"FactorTables.{name} must be a float32 numpy array, got "
                                f"{getattr(array, 'dtype', type(array).__name__)}")
            if not (array.flags.c_contiguous and array.flags.writeable):
                raise ValueError(f"FactorTables.{name} must be C-contiguous and writable")
        users, movies = self.user_factors, self.movie_factors
        if users.ndim != 2 or movies.ndim != 2 or users.shape[1] != movies.shape[1]:
            raise ValueError(f"factor tables must be [n, dim] with one dim; got {users.shape} "
                             f"and {movies.shape}")
        biased = len(self.user_bias) > 0 or len(self.movie_bias) > 0
        if biased and (self.user_bias.shape != (len(users),)
                       or self.movie_bias.shape != (len(movies),)):
            raise ValueError(f"bias tables must be [n_users] and [n_movies] ({len(users)}, "
                             f"{len(movies)}); got {self.user_bias.shape} and "
                             f"{self.movie_bias.shape}")
        if self.global_bias.shape not in ((0,), (1,)):
            raise ValueError(f"global_bias must have shape (1,) or (0,), got "
                             f"{self.global_bias.shape}")

    @classmethod
    def of(cls, model: object) -> FactorTables:
        """Views of a `MatrixFactorization`'s CPU parameters (no copy): the kernel trains the
        model in place. Parameters with requires_grad False are left untrained."""
        user, movie, head = model.user, model.movie, model.head  # type: ignore[attr-defined]

        def view(param: object) -> np.ndarray:
            return param.detach().numpy().reshape(-1)  # type: ignore[attr-defined]

        biased = user.bias is not None and movie.bias is not None
        return cls(user.embedding.weight.detach().numpy(), movie.embedding.weight.detach().numpy(),
                   view(user.bias.weight) if biased else _EMPTY_F32,
                   view(movie.bias.weight) if biased else _EMPTY_F32,
                   view(head.value) if head is not None else _EMPTY_F32,
                   train_users=user.embedding.weight.requires_grad,
                   train_movies=movie.embedding.weight.requires_grad,
                   train_global=head is not None and head.value.requires_grad)


@dataclass(frozen=True)
class AdagradState:
    """Adagrad's sums of squared gradients, one float32 per weight: arrays shaped like the
    tables of `FactorTables` (a fit keeps one for all its epochs)."""

    user_factors: np.ndarray
    movie_factors: np.ndarray
    user_bias: np.ndarray
    movie_bias: np.ndarray
    global_bias: np.ndarray

    @classmethod
    def zeros(cls, tables: FactorTables) -> AdagradState:
        return cls(*(np.zeros_like(t) for t in
                     (tables.user_factors, tables.movie_factors, tables.user_bias,
                      tables.movie_bias, tables.global_bias)))

    def fits(self, tables: FactorTables) -> bool:
        return all(a.shape == t.shape and a.dtype == np.float32 for a, t in zip(
            (self.user_factors, self.movie_factors, self.user_bias, self.movie_bias,
             self.global_bias),
            (tables.user_factors, tables.movie_factors, tables.user_bias, tables.movie_bias,
             tables.global_bias), strict=True))


@dataclass(frozen=True)
class KernelSettings:
    """Step size, per-rating l2 on the factor rows, and the loss: MSE of the score squashed
    into `output_range` (None: of the score itself), or, with `bce_range`, BCE of the score
    as a logit against ratings scaled from that range to [0, 1]."""

    lr: float
    l2: float = 0.0
    output_range: tuple[float, float] | None = None
    bce_range: tuple[float, float] | None = None
    eps: float = 1e-10

    def __post_init__(self) -> None:
        if not self.lr > 0 or self.l2 < 0 or not self.eps > 0:
            raise ValueError(f"KernelSettings need lr > 0, l2 >= 0 and eps > 0; got {self}")
        for name in ("output_range", "bce_range"):
            bounds = getattr(self, name)
            if bounds is not None and not bounds[0] < bounds[1]:
                raise ValueError(f"{name} must be (low, high) with low < high, got {bounds}")
        if self.output_range is not None and self.bce_range is not None:
            raise ValueError("give output_range (MSE) or bce_range (BCE), not both")

    @classmethod
    def of(cls, model: object, lr: float, eps: float = 1e-10) -> KernelSettings:
        """The settings that train a `MatrixFactorization` as its loss and penalty define."""
        bce = model.loss == "bce"  # type: ignore[attr-defined]
        return cls(lr=lr, l2=model.l2,  # type: ignore[attr-defined]
                   output_range=None if bce else model._output_range(),  # type: ignore[attr-defined]
                   bce_range=model.rating_range if bce else None,  # type: ignore[attr-defined]
                   eps=eps)


def covers(model: object) -> bool:
    """Whether the kernel trains `model`: a `MatrixFactorization` (MSE or BCE) on the CPU."""
    from movierec.models.factorization import MatrixFactorization

    return (isinstance(model, MatrixFactorization)
            and model.user.embedding.weight.device.type == "cpu")


def trains(model: object, task: object | None) -> bool:
    """Whether the kernel trains `model` on `task` (a `training.tasks.Task`): `covers` it,
    and the task is the model's own loss (another task trains batched)."""
    return (covers(model) and task is not None
            and getattr(task, "name", None) == model.loss_name)  # type: ignore[attr-defined]


def mf_epoch(users: np.ndarray, movies: np.ndarray, ratings: np.ndarray,
             order: np.ndarray | None, tables: FactorTables, state: AdagradState,
             settings: KernelSettings, threads: int | None = None) -> float:
    """One pass over `order` (see the module docstring); returns the sum of the losses."""
    _check_columns(users, movies, ratings)
    order = _check_order(order)
    if not state.fits(tables):
        raise ValueError("AdagradState does not match the tables; build it with "
                         "AdagradState.zeros(tables)")
    mode, low, span = _loss_mode(settings)
    hyper = tuple(np.float32(v) for v in (settings.lr, settings.l2, settings.eps, low, span))
    args = (users, movies, ratings, order,
            (tables.user_factors, tables.movie_factors, tables.user_bias, tables.movie_bias),
            (state.user_factors, state.movie_factors, state.user_bias, state.movie_bias),
            tables.global_bias, state.global_bias,
            (tables.train_users, tables.train_movies, tables.train_global), mode, hyper)
    n_threads = _threads(threads)
    if n_threads == 1:
        total, bad = _epoch_serial(*args)
    else:
        with _numba_threads(n_threads):
            total, bad = _epoch_parallel(*args, n_threads)
    if bad >= 0:
        _raise_bad(int(bad), users, movies, order, tables)
    return float(total)


def mf_rating_errors(users: np.ndarray, movies: np.ndarray, ratings: np.ndarray,
                     tables: FactorTables, settings: KernelSettings,
                     rating_range: tuple[float, float]) -> tuple[float, float]:
    """(RMSE, MAE) of the model's predicted ratings, clipped to `rating_range` as
    `RatingModel.predict` clips them: a fit's validation errors without PyTorch calls."""
    _check_columns(users, movies, ratings)
    if not len(ratings):
        raise ValueError("no ratings to measure errors on")
    mode, low, span = _loss_mode(settings)
    g = tables.global_bias[0] if len(tables.global_bias) else np.float32(0.0)
    squared, absolute = _errors(
        users, movies, ratings,
        (tables.user_factors, tables.movie_factors, tables.user_bias, tables.movie_bias),
        np.float32(g), mode, np.float32(low), np.float32(span), np.float32(rating_range[0]),
        np.float32(rating_range[1]))
    if squared < 0:
        _raise_bad(int(absolute), users, movies, _EMPTY_I32, tables)
    return math.sqrt(squared / len(ratings)), absolute / len(ratings)


# ---------------------------------------------------------------------------- checks
def _check_columns(users: np.ndarray, movies: np.ndarray, ratings: np.ndarray) -> None:
    for name, array, dtype in (("users", users, np.int32), ("movies", movies, np.int32),
                               ("ratings", ratings, np.float32)):
        if not isinstance(array, np.ndarray) or array.dtype != dtype:
            raise TypeError(f"{name} must be a {np.dtype(dtype).name} numpy array, got "
                            f"{getattr(array, 'dtype', type(array).__name__)}; convert it "
                            f"with np.ascontiguousarray({name}, np.{np.dtype(dtype).name})")
        if array.ndim != 1 or not array.flags.c_contiguous:
            raise ValueError(f"{name} must be 1-D and C-contiguous, got shape {array.shape}")
    if not len(users) == len(movies) == len(ratings):
        raise ValueError(f"users, movies and ratings differ in length: {len(users)}, "
                         f"{len(movies)}, {len(ratings)}")


def _check_order(order: np.ndarray | None) -> np.ndarray:
    if order is None:
        return _EMPTY_I32  # empty: visit 0..n-1 in turn
    if not isinstance(order, np.ndarray) or order.dtype != np.int32 or order.ndim != 1:
        raise TypeError(f"order must be a 1-D int32 numpy array of positions, got "
                        f"{getattr(order, 'dtype', type(order).__name__)}")
    if len(order) == 0:
        raise ValueError("order is empty: nothing to train (pass None to visit every rating)")
    return np.ascontiguousarray(order)


_MSE, _MSE_SIGMOID, _BCE = 0, 1, 2


def _loss_mode(settings: KernelSettings) -> tuple[int, float, float]:
    """(loss mode, low, high - low of its range) as the kernel takes them."""
    if settings.bce_range is not None:
        mode, (low, high) = _BCE, settings.bce_range
    elif settings.output_range is not None:
        mode, (low, high) = _MSE_SIGMOID, settings.output_range
    else:
        mode, low, high = _MSE, 0.0, 1.0
    return mode, float(low), float(high - low)


def _threads(threads: int | None) -> int:
    """The thread count to run with: `threads` capped at numba's pool (its default)."""
    if threads is None:
        return numba.config.NUMBA_NUM_THREADS
    if threads < 1:
        raise ValueError(f"threads must be >= 1 or None, got {threads}")
    return min(int(threads), numba.config.NUMBA_NUM_THREADS)


@contextlib.contextmanager
def _numba_threads(n: int) -> Iterator[None]:
    """Run numba's parallel loops on `n` threads meanwhile (numba's setting is per thread)."""
    before = numba.get_num_threads()
    numba.set_num_threads(n)
    try:
        yield
    finally:
        numba.set_num_threads(before)


def _raise_bad(pos: int, users: np.ndarray, movies: np.ndarray, order: np.ndarray,
               tables: FactorTables) -> None:
    if len(order) and not 0 <= order[pos] < len(users):
        raise IndexError(f"order[{pos}] = {order[pos]} is not a position in 0..{len(users) - 1}")
    row = int(order[pos]) if len(order) else pos
    raise IndexError(f"rating {row}: user index {users[row]} / movie index {movies[row]} outside "
                     f"the tables (0..{len(tables.user_factors) - 1} users, "
                     f"0..{len(tables.movie_factors) - 1} movies)")


# ---------------------------------------------------------------------------- kernels
# float32 scalars throughout (float64 ones would widen every product); tables indexed
# [row, k] (row views cost reference counting: measured slower); error_model="numpy": no
# zero-division checks, which would keep the row loops scalar. One thread runs
# `_epoch_serial`, which needs no thread pool: GNU OpenMP's (numba's default layer) would
# abort processes forked after it ran, and the member trainers fork.
_JIT = {"nogil": True, "fastmath": True, "cache": True, "error_model": "numpy"}
# Loops that allocate nothing also go without numba's reference counting: its per-rating
# increments of the table arrays cost more than the arithmetic (measured 5x on validation).
_LOOP = {**_JIT, "_nrt": False}


@njit(inline="always", **_LOOP)
def _adagrad_row(table, sums, row, other, other_row, dx, decay, lr, eps):  # pragma: no cover
    """One side's Adagrad step when the other side is frozen."""
    for k in range(table.shape[1]):
        grad = dx * other[other_row, k] + decay * table[row, k]
        sums[row, k] += grad * grad
        table[row, k] -= lr * grad / np.sqrt(sums[row, k] + eps)


@njit(inline="always", **_LOOP)
def _score(tables, g, u, m):  # pragma: no cover
    """x = <p_u, q_m> [+ b_u + b_m] + g."""
    p_table, q_table, user_bias, movie_bias = tables
    x = g
    if len(user_bias) > 0:
        x += user_bias[u] + movie_bias[m]
    for k in range(p_table.shape[1]):
        x += p_table[u, k] * q_table[m, k]
    return x


@njit(**_LOOP)
def _errors(users, movies, ratings, tables, g, mode, low, span, clip_low, clip_high
            ):  # pragma: no cover
    """(sum of squared, sum of absolute errors) of the clipped predicted ratings, or
    (-1, position) at the first id outside the tables."""
    n_users, n_movies = tables[0].shape[0], tables[1].shape[0]
    one = np.float32(1.0)
    squared = absolute = 0.0
    for row in range(len(ratings)):
        u, m = users[row], movies[row]
        if u < 0 or u >= n_users or m < 0 or m >= n_movies:
            return -1.0, float(row)
        x = _score(tables, g, u, m)
        rating = x if mode == _MSE else low + span / (one + np.float32(math.exp(-x)))
        error = min(max(rating, clip_low), clip_high) - ratings[row]
        squared += error * error
        absolute += abs(error)
    return squared, absolute


@njit(**_LOOP)
def _train_span(users, movies, ratings, order, start, end, tables, sums, flags, mode, hyper,
                g, g_acc):  # pragma: no cover
    """Train positions start..end of `order` (0..n-1 when it is empty), the global bias
    and its Adagrad sum held in the locals g and g_acc; returns (summed loss, g, g_acc,
    position of the first bad id or -1)."""
    p_table, q_table, user_bias, movie_bias = tables
    p_sum, q_sum, bu_sum, bi_sum = sums
    train_users, train_movies, train_global = flags
    lr, l2, eps, low, span = hyper
    n_users, n_movies = p_table.shape[0], q_table.shape[0]
    biased, ordered = len(user_bias) > 0, len(order) > 0
    one, two, zero = np.float32(1.0), np.float32(2.0), np.float32(0.0)
    decay = two * l2
    loss = 0.0
    for pos in range(start, end):
        row = order[pos] if ordered else pos
        if row < 0 or row >= len(ratings):
            return loss, g, g_acc, pos
        u, m = users[row], movies[row]
        if u < 0 or u >= n_users or m < 0 or m >= n_movies:
            return loss, g, g_acc, pos
        x = _score(tables, g, u, m)
        if mode == _MSE_SIGMOID:
            s = one / (one + np.float32(math.exp(-x)))
            error = low + span * s - ratings[row]
            dx = two * error * span * s * (one - s)
            loss += error * error
        elif mode == _MSE:
            error = x - ratings[row]
            dx = two * error
            loss += error * error
        else:  # BCE of the logit against the rating scaled to [0, 1]
            target = (ratings[row] - low) / span
            dx = one / (one + np.float32(math.exp(-x))) - target
            loss += max(x, zero) - x * target + math.log1p(math.exp(-abs(x)))
        if train_users and train_movies:
            for k in range(p_table.shape[1]):
                p, q = p_table[u, k], q_table[m, k]
                grad_p, grad_q = dx * q + decay * p, dx * p + decay * q
                sum_p, sum_q = p_sum[u, k] + grad_p * grad_p, q_sum[m, k] + grad_q * grad_q
                p_sum[u, k], q_sum[m, k] = sum_p, sum_q
                p_table[u, k] = p - lr * grad_p / np.sqrt(sum_p + eps)
                q_table[m, k] = q - lr * grad_q / np.sqrt(sum_q + eps)
        elif train_users:
            _adagrad_row(p_table, p_sum, u, q_table, m, dx, decay, lr, eps)
        elif train_movies:
            _adagrad_row(q_table, q_sum, m, p_table, u, dx, decay, lr, eps)
        square = dx * dx
        if biased and train_users:
            bu_sum[u] += square
            user_bias[u] -= lr * dx / np.sqrt(bu_sum[u] + eps)
        if biased and train_movies:
            bi_sum[m] += square
            movie_bias[m] -= lr * dx / np.sqrt(bi_sum[m] + eps)
        if train_global:
            g_acc += square
            g -= lr * dx / np.sqrt(g_acc + eps)
    return loss, g, g_acc, -1


@njit(**_LOOP)
def _epoch_serial(users, movies, ratings, order, tables, sums, global_bias, g_sum, flags,
                  mode, hyper):  # pragma: no cover
    """The epoch on the calling thread: (summed loss, first bad position or -1)."""
    has_global = len(global_bias) > 0
    g0 = global_bias[0] if has_global else np.float32(0.0)
    g_sum0 = g_sum[0] if has_global else np.float32(0.0)
    n = len(order) if len(order) > 0 else len(ratings)
    loss, g, g_acc, bad = _train_span(users, movies, ratings, order, 0, n, tables, sums, flags,
                                      mode, hyper, g0, g_sum0)
    if has_global and flags[2]:
        global_bias[0], g_sum[0] = g, g_acc
    return loss, bad


@njit(parallel=True, **_JIT)
def _epoch_parallel(users, movies, ratings, order, tables, sums, global_bias, g_sum, flags,
                    mode, hyper, n_threads):  # pragma: no cover
    """The epoch Hogwild on `n_threads` threads, each on its share of the positions with its
    own copy of the global bias: (summed loss, first bad position or -1)."""
    has_global = len(global_bias) > 0
    g0 = global_bias[0] if has_global else np.float32(0.0)
    g_sum0 = g_sum[0] if has_global else np.float32(0.0)
    n = len(order) if len(order) > 0 else len(ratings)
    losses, g_moves, g_sum_moves = np.zeros(n_threads), np.zeros(n_threads), np.zeros(n_threads)
    bads = np.full(n_threads, -1, dtype=np.int64)
    for t in prange(n_threads):
        loss, g, g_acc, bad = _train_span(users, movies, ratings, order, t * n // n_threads,
                                          (t + 1) * n // n_threads, tables, sums, flags, mode,
                                          hyper, g0, g_sum0)
        losses[t], g_moves[t], g_sum_moves[t], bads[t] = loss, g - g0, g_acc - g_sum0, bad
    if has_global and flags[2]:
        # every thread chases the same offset from a copy: sum their moves and the
        # offset overshoots by the thread count, average them (model averaging)
        global_bias[0] = g0 + g_moves.sum() / n_threads
        g_sum[0] = g_sum0 + g_sum_moves.sum()
    found = bads[bads >= 0]
    return losses.sum(), found.min() if len(found) > 0 else -1
