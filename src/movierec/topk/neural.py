"""Neural models as top-k scorers: rating models ranked by predicted rating, and two-tower."""

from __future__ import annotations

import numpy as np
import pandas as pd
import scipy.sparse as sp
import torch

from movierec.models.two_tower import TwoTower
from movierec.training import RatingTensors, TrainConfig, Trainer
from movierec.training.retrieval_task import InBatchSoftmaxTask


class RatingModelRanker:
    """Any rating preset, ranking movies by predicted rating (trained on the ratings)."""

    def __init__(self, preset: str = "biased-mf", **options: object) -> None:
        self.name, self.preset, self.options = preset, preset, options

    def fit_ratings(self, ratings: pd.DataFrame) -> RatingModelRanker:
        from movierec import Recommender

        self.rec = Recommender(self.preset, progress=False, **self.options).fit(ratings)
        return self

    def score(self, users: np.ndarray) -> torch.Tensor:
        with torch.no_grad():
            return self.rec.model.score_all_movies(torch.from_numpy(users))


class TwoTowerRanker:
    """Two-tower retrieval trained with in-batch softmax on the interactions."""

    name = "two-tower"

    def __init__(self, epochs: int = 10, batch_size: int = 1024, lr: float = 3e-3,
                 temperature: float = 0.05, dim: int = 64, hidden: tuple[int, ...] = (128,),
                 seed: int = 0) -> None:
        self.model_options = {"dim": dim, "hidden": hidden, "temperature": temperature}
        self.config = TrainConfig(epochs=epochs, batch_size=batch_size, lr=lr, seed=seed,
                                  lr_schedule="onecycle", progress=False, num_threads=1)

    def fit(self, train: sp.csr_matrix) -> TwoTowerRanker:
        torch.manual_seed(self.config.seed)
        self.model = TwoTower(*train.shape, **self.model_options)
        self.model.set_sampling_probabilities(
            torch.from_numpy(np.asarray(train.sum(axis=0)).ravel()))
        rows, cols = train.nonzero()
        data = RatingTensors(torch.from_numpy(rows.astype(np.int64)),
                             torch.from_numpy(cols.astype(np.int64)), torch.ones(len(rows)))
        Trainer(self.model, self.config, task=InBatchSoftmaxTask()).fit(data)
        with torch.no_grad():
            self.user_vectors = self.model.user_vectors()
            self.movie_vectors = self.model.movie_vectors()
        return self

    def score(self, users: np.ndarray) -> torch.Tensor:
        return self.user_vectors[torch.from_numpy(users)] @ self.movie_vectors.T
