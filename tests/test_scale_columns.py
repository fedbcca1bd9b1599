"""`RatingColumns` views and readers, and the kernel's epoch order."""

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
import torch

from movierec import Recommender
from movierec.data.columnar import RatingColumns
from movierec.errors import ConfigError
from movierec.models import build_model
from movierec.training.kernel_epochs import block_order
from movierec.training.scale import ScaleConfig, ScaleTrainer


@pytest.fixture(scope="module")
def ratings(ratings_factory):
    return ratings_factory(n_users=50, n_movies=30, density=0.5, seed=5)


def test_readers_agree_and_map_ids_in_sorted_order(ratings, tmp_path):
    path = tmp_path / "r.parquet"
    ratings.to_parquet(path)
    frame = RatingColumns.from_frame(ratings)
    for other in (RatingColumns.from_parquet(path),
                  RatingColumns.from_arrow(pa.Table.from_pandas(ratings))):
        for name in ("users", "movies", "ratings"):
            np.testing.assert_array_equal(getattr(other, name), getattr(frame, name))
    assert frame.users.dtype == np.int32 and frame.ratings.dtype == np.float32
    np.testing.assert_array_equal(frame.user_ids.ids[frame.users], ratings["user_id"])
    assert list(frame.movie_ids.ids) == sorted(ratings["movie_id"].unique())


def test_ids_beyond_the_presence_table_are_hashed():
    frame = pd.DataFrame({"user_id": [-3, 2**40, -3], "movie_id": [9, 9, 2**35],
                          "rating": np.float32([1, 2, 3])})
    cols = RatingColumns.from_frame(frame)
    assert cols.user_ids.ids.tolist() == [-3, 2**40] and cols.users.tolist() == [0, 1, 0]
    assert cols.movies.tolist() == [0, 0, 1]


def test_views_index_without_copying(ratings):
    cols = RatingColumns.from_frame(ratings)
    train, test = cols.holdout(0.25, seed=1)
    assert len(train) + len(test) == len(cols) and train.users is cols.users
    assert not np.intersect1d(train.rows, test.rows).size
    inner = train.take(np.arange(0, len(train), 2))  # a view of a view: positions compose
    np.testing.assert_array_equal(inner.gather().ratings, cols.ratings[train.rows[::2]])
    assert inner.rating_range == (float(inner.gather().ratings.min()),
                                  float(inner.gather().ratings.max()))


def test_carve_matches_the_frame_paths_rule(ratings):
    sparse = ratings[ratings["user_id"] % 7 != 0]
    sparse = pd.concat([sparse, ratings[ratings["user_id"] == 7].head(1)])  # one rating
    sparse = sparse.sort_values("user_id", kind="stable")
    train, validation = RatingColumns.from_frame(sparse).carve(0.3, seed=2)
    rec = Recommender("biased-mf", validation_fraction=0.3, seed=2, epochs=1, progress=False)
    rec.fit(sparse, engine="frame")
    frame_held = rec._validation_mask(rec._tensors(sparse))  # the rows the frame path held out
    np.testing.assert_array_equal(validation.rows, np.flatnonzero(frame_held))
    assert len(train) == len(sparse) - frame_held.sum()
    assert 7 not in validation.user_ids.ids[validation.gather().users]  # its one rating trains
    held = validation.gather()
    rest = train.gather()
    assert set(held.users) <= set(rest.users) and set(held.movies) <= set(rest.movies)


def test_grouped_by_user_sorts_stably_only_when_needed(ratings):
    cols = RatingColumns.from_frame(ratings)
    assert cols.grouped_by_user() is cols  # already grouped: no copy
    shuffled = RatingColumns.from_frame(ratings.sample(frac=1, random_state=0))
    grouped = shuffled.grouped_by_user()
    assert np.all(np.diff(grouped.users) >= 0)
    assert sorted(zip(grouped.users, grouped.movies, strict=True)) == sorted(
        zip(cols.users, cols.movies, strict=True))


def test_block_order_deals_a_view_into_ascending_blocks(ratings):
    cols = RatingColumns.from_frame(ratings)
    view = cols.take(np.arange(1, len(cols), 3))
    generator = torch.Generator().manual_seed(0)
    order = block_order(view, generator, blocks=4)
    assert order.dtype == np.int32 and sorted(order) == sorted(view.rows)
    assert (np.diff(order) < 0).sum() <= 3  # four ascending runs
    assert not np.array_equal(order, block_order(view, generator, blocks=4))  # a new deal


def test_resume_refuses_a_checkpoint_of_another_strategy(ratings, tmp_path):
    cols = RatingColumns.from_frame(ratings)

    def model():
        return build_model("biased-mf", len(cols.user_ids), len(cols.movie_ids),
                           rating_range=(1, 5), seed=0, dim=4)

    config = ScaleConfig(epochs=1, progress=False, num_threads=1)
    ScaleTrainer(model(), config, checkpoints=tmp_path).fit(cols)
    batched = ScaleConfig(epochs=2, progress=False, num_threads=1, kernel=False)
    with pytest.raises(ConfigError, match="written by KernelEpochs"):
        ScaleTrainer(model(), batched, checkpoints=tmp_path).fit(cols, resume=True)
