"""`RatingTensors`: (user index, movie index, rating[, timestamp]) rows as aligned tensors."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch


@dataclass
class RatingTensors:
    """Aligned 1-d tensors: users and movies as int64 indices, ratings as float32 and,
    when the data has them, timestamps as int64 Unix seconds (rankers read time order)."""

    users: torch.Tensor
    movies: torch.Tensor
    ratings: torch.Tensor
    timestamps: torch.Tensor | None = None

    def __post_init__(self) -> None:
        self.users = _column(self.users, torch.long)
        self.movies = _column(self.movies, torch.long)
        self.ratings = _column(self.ratings, torch.float32)
        columns = [self.users, self.movies, self.ratings]
        if self.timestamps is not None:
            self.timestamps = _column(self.timestamps, torch.long)
            columns.append(self.timestamps)
        sizes = {len(column) for column in columns}
        if len(sizes) != 1:
            raise ValueError(f"users, movies, ratings and timestamps differ in length: "
                             f"{sorted(sizes)}")

    def __len__(self) -> int:
        return len(self.ratings)

    def _apply(self, fn) -> RatingTensors:  # type: ignore[no-untyped-def]
        return RatingTensors(fn(self.users), fn(self.movies), fn(self.ratings),
                             None if self.timestamps is None else fn(self.timestamps))

    def to(self, device: str | torch.device) -> RatingTensors:
        return self._apply(lambda column: column.to(device))

    def concat(self, other: RatingTensors) -> RatingTensors:
        """These rows followed by `other`'s (timestamps kept only when both have them)."""
        times = (torch.cat([self.timestamps, other.timestamps])
                 if self.timestamps is not None and other.timestamps is not None else None)
        return RatingTensors(torch.cat([self.users, other.users]),
                             torch.cat([self.movies, other.movies]),
                             torch.cat([self.ratings, other.ratings]), times)

    def take(self, index: torch.Tensor) -> RatingTensors:
        """The rows at `index` (a permutation, a slice of one, or a mask)."""
        return self._apply(lambda column: column[index])


def _column(values: object, dtype: torch.dtype) -> torch.Tensor:
    """A tensor of `values`; a read-only numpy array (pandas' copy-on-write columns) is
    copied, as torch cannot share memory it must not write."""
    if isinstance(values, np.ndarray) and not values.flags.writeable:
        values = values.copy()
    return torch.as_tensor(values, dtype=dtype)
