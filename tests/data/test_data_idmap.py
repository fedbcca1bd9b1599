"""IdMap: contiguous indices, round trips and unknown ids."""

from __future__ import annotations

import json

import numpy as np
import pytest

from movierec.data import IdMap
from movierec.errors import DataFormatError, UnknownIdError


def test_from_ids_sorted_unique_and_round_trip():
    m = IdMap.from_ids([30, 10, 20, 10, 30], kind="movie")
    assert len(m) == 3 and m.ids.tolist() == [10, 20, 30]
    raw = np.array([[30, 10], [20, 20]])
    idx = m.to_index(raw)
    assert idx.dtype == np.int64 and idx.tolist() == [[2, 0], [1, 1]]
    np.testing.assert_array_equal(m.to_raw(idx), raw)
    assert 20 in m and 25 not in m and "20" in m and 20.0 in m
    with pytest.raises(DataFormatError, match="movie_id 'x' is not a number"):
        assert "x" not in m


def test_unknown_ids():
    m = IdMap.from_ids([1, 2, 3], kind="user")
    with pytest.raises(UnknownIdError, match=r"unknown user id\(s\): 7, 9$"):
        m.to_index([1, 7, 9, 7])
    with pytest.raises(UnknownIdError, match=r"\(and 2 more\)"):
        m.to_index([4, 5, 6, 7, 8])
    assert m.to_index([3, 99], missing="negative").tolist() == [2, -1]
    with pytest.raises(IndexError):
        m.to_raw([-1])
    with pytest.raises(IndexError):
        m.to_raw([3])


def test_json_round_trip_keeps_order():
    m = IdMap.from_ids([5, 1, 9]).extend([9, 7, 2, 7])
    assert m.to_list() == [1, 5, 9, 7, 2]
    back = IdMap.from_list(json.loads(json.dumps(m.to_list())))
    assert back == m and back.to_index([2]).tolist() == [4]


def test_extend_keeps_existing_indices():
    m = IdMap.from_ids([100, 200])
    bigger = m.extend(np.array([300, 100]))
    assert bigger.to_index([100, 200, 300]).tolist() == [0, 1, 2]
    assert len(m) == 2  # the original is unchanged


def test_duplicates_rejected():
    with pytest.raises(ValueError, match="appears more than once"):
        IdMap.from_list([1, 2, 1])
