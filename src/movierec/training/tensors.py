"""`RatingTensors`: (user index, movie index, rating) triples as aligned tensors."""

from __future__ import annotations

from dataclasses import dataclass

import torch


@dataclass
class RatingTensors:
    """Aligned 1-d tensors: users and movies as int64 indices, ratings as float32."""

    users: torch.Tensor
    movies: torch.Tensor
    ratings: torch.Tensor

    def __post_init__(self) -> None:
        self.users = torch.as_tensor(self.users, dtype=torch.long)
        self.movies = torch.as_tensor(self.movies, dtype=torch.long)
        self.ratings = torch.as_tensor(self.ratings, dtype=torch.float32)
        sizes = {len(self.users), len(self.movies), len(self.ratings)}
        if len(sizes) != 1:
            raise ValueError(f"users, movies and ratings differ in length: {sorted(sizes)}")

    def __len__(self) -> int:
        return len(self.ratings)

    def to(self, device: str | torch.device) -> RatingTensors:
        return RatingTensors(self.users.to(device), self.movies.to(device),
                             self.ratings.to(device))

    def concat(self, other: RatingTensors) -> RatingTensors:
        """These rows followed by `other`'s."""
        return RatingTensors(torch.cat([self.users, other.users]),
                             torch.cat([self.movies, other.movies]),
                             torch.cat([self.ratings, other.ratings]))

    def take(self, index: torch.Tensor) -> RatingTensors:
        """The rows at `index` (a permutation, a slice of one, or a mask)."""
        return RatingTensors(self.users[index], self.movies[index], self.ratings[index])
