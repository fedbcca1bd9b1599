"""IdMap: raw MovieLens ids <-> contiguous indices 0..n-1."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Literal

import numpy as np
import pandas as pd

from movierec.data.schema import raw_ids
from movierec.errors import UnknownIdError


class IdMap:
    """A bijection between raw int64 ids and indices 0..n-1 (index i is `ids[i]`)."""

    def __init__(self, ids: Iterable[int], kind: str = "id") -> None:
        self._ids = np.array(ids if hasattr(ids, "__len__") else list(ids), dtype=np.int64)
        self._ids.setflags(write=False)
        self._index = pd.Index(self._ids)
        if not self._index.is_unique:
            dup = self._index[self._index.duplicated()][0]
            raise ValueError(f"{kind} ids must be unique; {dup} appears more than once")
        self.kind = kind

    @classmethod
    def from_ids(cls, ids: Iterable[int], kind: str = "id") -> IdMap:
        """Map of the sorted unique values of `ids` (hashed, then the few distinct ones
        sorted: np.unique takes several times longer on a fit's ids)."""
        return cls(np.sort(pd.unique(np.asarray(ids, dtype=np.int64))), kind)

    @classmethod
    def from_list(cls, ids: list[int], kind: str = "id") -> IdMap:
        """Inverse of to_list: keeps the order given."""
        return cls(ids, kind)

    def to_list(self) -> list[int]:
        """The raw ids in index order, as plain ints (JSON-ready)."""
        return self._ids.tolist()

    @property
    def ids(self) -> np.ndarray:
        return self._ids

    def __len__(self) -> int:
        return len(self._ids)

    def __contains__(self, raw: object) -> bool:
        """Whether the id is known; "42" is 42, and a non-id ("abc", NaN) is a DataFormatError."""
        if np.ndim(raw) != 0:
            return False
        return int(self._raw(raw)) in self._index

    def __eq__(self, other: object) -> bool:
        return isinstance(other, IdMap) and np.array_equal(self._ids, other._ids)

    def __repr__(self) -> str:
        return f"IdMap({self.kind}, n={len(self)})"

    def to_index(self, raw: Iterable[int] | int, *,
                 missing: Literal["error", "negative"] = "error") -> np.ndarray:
        """Indices of raw ids; unknown ids raise UnknownIdError or (missing="negative") give -1."""
        if missing not in ("error", "negative"):
            raise ValueError(f"missing must be 'error' or 'negative', not {missing!r}")
        arr = self._raw(raw)
        idx = self._index.get_indexer(arr.ravel()).astype(np.int64)
        if missing == "error" and (idx < 0).any():
            unknown = pd.unique(arr.ravel()[idx < 0])
            more = f" (and {len(unknown) - 3} more)" if len(unknown) > 3 else ""
            shown = ", ".join(map(str, unknown[:3].tolist()))
            raise UnknownIdError(f"unknown {self.kind} id(s): {shown}{more}")
        return idx.reshape(arr.shape)

    def _raw(self, raw: object) -> np.ndarray:
        """Ids by the one rule of `raw_ids`: numeric strings convert, non-ids raise."""
        return raw_ids(raw, column=f"{self.kind}_id", source=f"{self.kind} ids given")

    def to_raw(self, index: Iterable[int] | int) -> np.ndarray:
        """Raw ids of indices 0..n-1; an index out of range raises IndexError."""
        idx = np.asarray(index, dtype=np.int64)
        if idx.size and (idx.min() < 0 or idx.max() >= len(self)):
            bad = idx[(idx < 0) | (idx >= len(self))].ravel()[0]
            raise IndexError(f"{self.kind} index {bad} is outside 0..{len(self) - 1}")
        return self._ids[idx]

    def extend(self, new_ids: Iterable[int]) -> IdMap:
        """A new map with the unknown ids of `new_ids` appended (first-seen order)."""
        new = pd.unique(np.asarray(new_ids, dtype=np.int64).ravel())
        new = new[self._index.get_indexer(new) < 0]
        return IdMap(np.concatenate([self._ids, new]), self.kind)
