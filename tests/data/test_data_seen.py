import numpy as np

from movierec.data import SeenMovies


def seen():
    # user 0 rated movies 1 and 3; user 1 rated 0; user 2 rated nothing; duplicate row kept once
    return SeenMovies.from_indices(np.array([0, 0, 1, 0]), np.array([1, 3, 0, 3]), 3, 4)


def test_rows_and_columns():
    s = seen()
    assert s.movies_of(0).tolist() == [1, 3] and s.movies_of(2).tolist() == []
    assert s.users_of(3).tolist() == [0]


def test_seen_positions_index_a_score_block():
    rows, cols = seen().seen_positions(np.array([1, 0]))
    assert sorted(zip(rows.tolist(), cols.tolist(), strict=True)) == [(0, 0), (1, 1), (1, 3)]


def test_with_user_rows_replaces_and_grows():
    s = seen().with_user_rows(np.array([0, 4]), np.array([2, 1]), n_users=5)
    assert s.shape == (5, 4)
    assert s.movies_of(0).tolist() == [2] and s.movies_of(1).tolist() == [0]
    assert s.movies_of(4).tolist() == [1] and s.movies_of(3).tolist() == []


def test_array_round_trip():
    s = seen()
    again = SeenMovies.from_arrays(s.to_arrays(), s.shape)
    assert (again.matrix != s.matrix).nnz == 0
