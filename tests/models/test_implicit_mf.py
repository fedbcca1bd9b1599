"""iALS and BPR behind the contract: the torch solve against the library's own, fold-in,
saving without the library, and taste groups through the facade."""

from __future__ import annotations

import sys

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
import torch
from implicit.cpu.als import AlternatingLeastSquares
from taste_groups import taste_groups
from threadpoolctl import threadpool_limits

from movierec import Recommender
from movierec.errors import ConfigError
from movierec.models import build_model, implicit_mf, model_from_config
from movierec.models.implicit_mf import ImplicitALS, ImplicitBPR, least_squares_rows


@pytest.fixture(autouse=True)
def one_thread():
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    with threadpool_limits(1, "blas"):  # as the model fits: the library asks for it
        yield
    torch.set_num_threads(threads)


def fitted(preset: str, x: sp.csr_matrix, **options) -> ImplicitALS | ImplicitBPR:
    model = build_model(preset, *x.shape, seed=0, **options)
    users, movies = x.nonzero()
    model.observe_ratings(torch.from_numpy(users), torch.from_numpy(movies),
                          torch.ones(len(users)))
    return model


@pytest.mark.parametrize("alpha", [1.0, 4.0])
@pytest.mark.parametrize("budget", [1 << 22, 64])  # one block; many small blocks
def test_solve_matches_the_library_cholesky_solve(alpha, budget, monkeypatch):
    monkeypatch.setattr(implicit_mf, "_SOLVE_ELEMENTS", budget)
    x = taste_groups()
    library = AlternatingLeastSquares(factors=8, regularization=0.5, alpha=alpha,
                                      iterations=5, random_state=0, num_threads=1)
    library.fit(x, show_progress=False)
    expected = library.recalculate_user(np.arange(40), x)  # the library's exact half-step
    solved = least_squares_rows(torch.from_numpy(library.item_factors), x, 0.5, alpha)
    np.testing.assert_allclose(solved.numpy(), expected, rtol=1e-3, atol=1e-5)


def test_ials_user_rows_are_the_library_fit_then_its_exact_user_half_step():
    """The library fitted with the model's seed, then its own `recalculate_user`: the model's
    rows match within 1e-3 relative (float64 torch solve vs the library's float32 one)."""
    x = taste_groups()
    model = fitted("ials", x, factors=8, regularization=0.5, alpha=4.0, iterations=5)
    library = AlternatingLeastSquares(factors=8, regularization=0.5, alpha=4.0, iterations=5,
                                      random_state=int(model.library_seed), num_threads=1)
    library.fit(x, show_progress=False)
    np.testing.assert_array_equal(model.movie_vectors().numpy(), library.item_factors)
    np.testing.assert_allclose(model.user_vectors().numpy(),
                               library.recalculate_user(np.arange(40), x), rtol=1e-3, atol=1e-5)


@pytest.mark.parametrize("preset", ["ials", "bpr"])
def test_a_folded_in_copy_of_a_training_user_gets_their_row(preset):
    x = taste_groups()
    model = fitted(preset, x, factors=8, iterations=5)
    before = model.user_vectors().clone()
    model.add_users(2)
    copied = torch.from_numpy(x[[3, 25]].nonzero()[1])
    owners = torch.tensor([40] * 6 + [41] * 6)
    model.set_user_histories(owners, copied, torch.ones(12))
    assert torch.equal(model.user_vectors()[:40], before)  # others untouched
    torch.testing.assert_close(model.user_vectors()[40:], before[[3, 25]], rtol=1e-5,
                               atol=1e-6)


def test_bpr_user_is_the_mean_of_their_movie_factors_plus_a_bias_entry():
    x = taste_groups()
    model = fitted("bpr", x, factors=4, iterations=5)
    movies = model.movie_vectors()
    assert model.user_vectors().shape == (40, 5)
    expected = torch.cat([movies[x[7].indices, :4].mean(0), torch.ones(1)])
    torch.testing.assert_close(model.user_vectors()[7], expected)
    scores = model.score(torch.tensor([7]))[0]
    torch.testing.assert_close(scores, movies @ expected)  # the last column: movie biases


@pytest.mark.parametrize(("preset", "start"), [("ials", [0.0] * 4), ("bpr", [0.0] * 4 + [1.0])])
def test_new_users_start_as_an_empty_history(preset, start):
    model = fitted(preset, taste_groups(), factors=4, iterations=2)
    before = model.user_vectors().clone()
    model.add_users(3)
    assert model.n_users == 43 and model.history.n_users == 43
    assert torch.equal(model.user_vectors()[:40], before)
    assert model.user_vectors()[40:].tolist() == [start] * 3


@pytest.mark.parametrize("preset", ["ials", "bpr"])
def test_reload_scores_the_same_without_the_library(preset, monkeypatch):
    model = fitted(preset, taste_groups(), factors=4, iterations=3)
    model.add_users(1)
    state = {name: value.clone() for name, value in model.state_dict().items()}
    for name in [n for n in sys.modules if n == "implicit" or n.startswith("implicit.")]:
        monkeypatch.setitem(sys.modules, name, None)  # importing it now fails
    loaded = model_from_config(model.config())
    loaded.load_state_dict(state)
    users = torch.arange(41)
    assert torch.equal(loaded.score(users), model.score(users))
    assert torch.equal(loaded.history.indptr, model.history.indptr)
    assert all(not p.requires_grad for p in loaded.parameters())
    assert sum(p.numel() for part in loaded.parts().values() for p in part.parameters()) == \
        sum(p.numel() for p in loaded.parameters())


def test_bad_options_are_config_errors():
    with pytest.raises(ConfigError, match="factors"):
        build_model("ials", 3, 3, factors=0)
    with pytest.raises(ConfigError, match="alpha"):
        build_model("ials", 3, 3, alpha=0.0)
    with pytest.raises(ConfigError, match="learning_rate"):
        build_model("bpr", 3, 3, learning_rate=-1.0)


def block_ratings() -> pd.DataFrame:
    users, movies = taste_groups().nonzero()
    return pd.DataFrame({"user_id": users + 100, "movie_id": movies + 500,
                         "rating": np.full(len(users), 4.0, np.float32),
                         "timestamp": np.arange(len(users)) + 10**9})


@pytest.mark.parametrize(("preset", "options"), [("ials", {"regularization": 0.1}),
                                                  ("bpr", {})])
def test_facade_recommends_within_the_taste_group_and_folds_in(preset, options):
    ratings = block_ratings()  # (the preset's l2 10 suits 943 users, not 40)
    rec = Recommender(preset, progress=False, factors=4, **options).fit(ratings)
    top = rec.recommend_many(list(range(100, 140)), k=3)
    group = (top["user_id"] - 100) // 20 == (top["movie_id"] - 500) // 10
    assert group.mean() > 0.9
    new = pd.DataFrame({"user_id": [999] * 3, "movie_id": [511, 513, 515], "rating": 5.0,
                        "timestamp": 2 * 10**9})
    assert rec.fold_in(new) == [999]
    assert ((rec.recommend(999, k=3)["movie_id"] - 500) // 10 == 1).all()
    frame = rec.embeddings("movie")
    assert frame.shape == (20, 1 + 4 + (preset == "bpr"))
