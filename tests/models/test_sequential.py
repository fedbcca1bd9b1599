"""The `sasrec` preset: it must learn an order-determined next movie, follow the order it was
given (a reversed history predicts the predecessor), never let a later movie change an
earlier state, and read each user's current history after fold-in and after loading."""

import json

import numpy as np
import pandas as pd
import pytest
import torch

from movierec import Recommender
from movierec.data import leave_last_out
from movierec.errors import ConfigError, DataFormatError
from movierec.models import build_model, model_from_config
from movierec.models.sequential import tail_sequences
from movierec.training import RatingTensors, TrainConfig, Trainer

N_MOVIES, LENGTH = 40, 6
CYCLE = np.random.default_rng(1).permutation(N_MOVIES)
SUCCESSOR = np.empty(N_MOVIES, dtype=np.int64)  # movie m is followed by SUCCESSOR[m]: one cycle
SUCCESSOR[CYCLE] = np.roll(CYCLE, -1)
PREDECESSOR = np.argsort(SUCCESSOR)


def chains(n_users: int = 300, reverse: bool = False, seed: int = 0) -> pd.DataFrame:
    """Each user rates a, s(a), s(s(a)), ... at increasing times; with `reverse` the training
    part's times run backwards while the latest (test) rating stays the chain's next movie."""
    rng = np.random.default_rng(seed)
    rows = []
    for user in range(1, n_users + 1):
        movie = int(rng.integers(N_MOVIES))
        for step in range(LENGTH):
            time = LENGTH - 2 - step if reverse and step < LENGTH - 1 else step
            rows.append((user, movie, 4.0, 1000 + time))
            movie = int(SUCCESSOR[movie])
    return pd.DataFrame(rows, columns=["user_id", "movie_id", "rating", "timestamp"])


def fitted(ratings: pd.DataFrame, **options: object) -> Recommender:
    options = {"dim": 16, "max_len": 8, "epochs": 2, **options}
    return Recommender("sasrec", progress=False, **options).fit(ratings)


def top_one(rec: Recommender, users: np.ndarray) -> np.ndarray:
    return rec.recommend_many(users, k=1).set_index("user_id").loc[users, "movie_id"].to_numpy()


@pytest.fixture(scope="module")
def chain_split() -> tuple[pd.DataFrame, pd.DataFrame]:
    return leave_last_out(chains())


def test_learns_the_movie_that_follows_the_last_one(chain_split):
    train, test = chain_split
    rec = fitted(train, dim=32, epochs=40, lr=0.01, dropout=0.0)
    assert (top_one(rec, test.user_id.to_numpy()) == test.movie_id.to_numpy()).mean() > 0.9


def test_follows_the_given_order_not_the_set():
    train, test = leave_last_out(chains(reverse=True))
    rec = fitted(train, dim=32, epochs=40, lr=0.01, dropout=0.0)
    top = top_one(rec, test.user_id.to_numpy())
    # the latest training movie is the chain's start a; reversed histories teach s^-1
    first = train.sort_values("timestamp").groupby("user_id")["movie_id"].last()
    assert (top == test.movie_id.to_numpy()).mean() < 0.1
    assert (top == PREDECESSOR[first.loc[test.user_id].to_numpy()]).mean() > 0.9


def test_tail_sequences_are_right_aligned_and_truncated():
    # rows oldest first: [5, 1, 2, 7], [3], []
    indptr, movies = np.array([0, 4, 5, 5]), np.array([5, 1, 2, 7, 3])
    assert tail_sequences(indptr, movies, np.array([0, 1, 2]), 3).tolist() == [
        [2, 3, 8], [0, 0, 4], [0, 0, 0]]
    assert tail_sequences(indptr, movies, np.array([1, 0]), 5).tolist() == [
        [0, 0, 0, 0, 4], [0, 6, 2, 3, 8]]


def test_histories_are_time_ordered_and_ties_keep_input_order():
    model = build_model("sasrec", 2, 5, max_len=4)
    model.observe_ratings(torch.tensor([0, 0, 0, 0, 1]), torch.tensor([4, 0, 1, 3, 0]),
                          torch.ones(5), torch.tensor([5, 1, 5, 9, 3]))
    # user 0: movie 0 (t1), then 4 and 1 tied at t5 in input order, then 3
    assert model.sequences(np.array([0, 1]), 4).tolist() == [[1, 5, 2, 4], [0, 0, 0, 1]]


def test_a_later_movie_cannot_change_earlier_states_and_pads_change_nothing():
    model = build_model("sasrec", 1, 10, seed=0, max_len=5).eval()
    with torch.no_grad():
        base = model.hidden(torch.tensor([[0, 3, 4, 5, 6]]))
        changed = model.hidden(torch.tensor([[0, 3, 4, 5, 9]]))
        cropped = model.hidden(torch.tensor([[3, 4, 5, 6]]))  # positions count from the right
    torch.testing.assert_close(changed[:, :-1], base[:, :-1], rtol=0, atol=1e-6)
    assert not torch.allclose(changed[:, -1], base[:, -1])
    torch.testing.assert_close(cropped, base[:, 1:], rtol=1e-5, atol=1e-5)


def test_similar_movie_scores_are_the_logits_after_that_movie_alone():
    model = build_model("sasrec", 1, 10, seed=0, max_len=5).eval()
    with torch.no_grad():
        expected = model.next_movie_logits(torch.tensor([[0, 0, 0, 0, 8]]))[0]
        assert torch.equal(model.similar_movie_scores(torch.tensor([7]))[0], expected)
    rec = fitted(chains(n_users=60))
    assert len(rec.similar_movies(int(CYCLE[0]), k=5)) == 5


def test_fits_are_reproducible():
    ratings = chains(n_users=60)
    first, second = fitted(ratings), fitted(ratings)
    users = ratings.user_id.unique()[:5]
    for user in users:
        assert torch.equal(torch.tensor(first.movie_scores(user).to_numpy()),
                           torch.tensor(second.movie_scores(user).to_numpy()))


def test_fold_in_reads_the_new_history_and_save_load_keeps_scores(tmp_path):
    ratings = chains(n_users=60)
    rec = fitted(ratings)
    copied = ratings[ratings.user_id == 7].assign(user_id=1000)  # same movies, same times
    assert rec.fold_in(copied) == [1000]
    np.testing.assert_array_equal(rec.movie_scores(1000), rec.movie_scores(7))
    before = rec.movie_scores(3)
    rec.fold_in(ratings[ratings.user_id == 9].assign(user_id=3))  # a known user's new history
    np.testing.assert_array_equal(rec.movie_scores(3), rec.movie_scores(9))
    assert not np.array_equal(rec.movie_scores(3), before)
    rec.save(tmp_path / "sasrec")
    loaded = Recommender.load(tmp_path / "sasrec")
    for user in (1, 3, 1000):
        np.testing.assert_array_equal(loaded.movie_scores(user), rec.movie_scores(user))
    pd.testing.assert_frame_equal(loaded.recommend_many([1000, 5], k=3),
                                  rec.recommend_many([1000, 5], k=3))


def test_parts_own_every_parameter_and_config_round_trips():
    model = build_model("sasrec", 4, 10, seed=0, max_len=6, dim=8)
    in_parts = {id(p) for part in model.parts().values() for p in part.parameters()}
    assert in_parts == {id(p) for p in model.parameters()}
    rebuilt = model_from_config(json.loads(json.dumps(model.config())))
    rebuilt.load_state_dict(model.state_dict())
    users = torch.arange(4)
    assert torch.equal(rebuilt.eval().score(users), model.eval().score(users))


@pytest.mark.parametrize("option, value", [("max_len", 0), ("heads", 0), ("dropout", 1.0)])
def test_bad_model_settings_name_the_value(option, value):
    with pytest.raises(ConfigError, match=f"{option} must .*got {value}"):
        build_model("sasrec", 2, 5, **{option: value})


@pytest.mark.parametrize("option, value", [("epochs", 0), ("lr", -1.0)])
def test_bad_training_settings_name_the_value(option, value):
    with pytest.raises(ConfigError, match=f"{option} must .*got {value}"):
        Recommender("sasrec", **{option: value})


def test_missing_timestamps_are_a_clear_error():
    model = build_model("sasrec", 2, 5)
    data = RatingTensors(torch.tensor([0, 0, 1]), torch.tensor([0, 1, 2]), torch.ones(3))
    with pytest.raises(ConfigError, match="'timestamp' column"):
        Trainer(model, TrainConfig.for_preset("sasrec", progress=False)).fit(data)
    with pytest.raises(DataFormatError, match="timestamp"):  # the facade checks the frame
        Recommender("sasrec", progress=False).fit(chains(n_users=5).drop(columns="timestamp"))
