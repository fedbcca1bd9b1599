"""Strong simple top-k baselines; each fits a users x movies 0/1 CSR and scores user blocks."""

from __future__ import annotations

from typing import Protocol

import numpy as np
import scipy.sparse as sp
import torch


class TopKModel(Protocol):
    """fit(interactions CSR) -> self; score(user indices) -> [users, movies] scores."""

    def fit(self, train: sp.csr_matrix) -> TopKModel: ...

    def score(self, users: np.ndarray) -> torch.Tensor: ...


class Popularity:
    """Every user gets the movies most users interacted with."""

    name = "popularity"

    def fit(self, train: sp.csr_matrix) -> Popularity:
        self.counts = torch.from_numpy(np.asarray(train.sum(axis=0), dtype=np.float32).ravel())
        return self

    def score(self, users: np.ndarray) -> torch.Tensor:
        return self.counts.expand(len(users), -1)


class EASE:
    """Embarrassingly Shallow Autoencoder (Steck, WWW 2019): closed-form item-item weights
    B = I - P / diag(P), P = (X'X + lambda I)^-1, diag(B) = 0; scores = X B."""

    name = "ease"

    def __init__(self, l2: float = 500.0) -> None:
        self.l2 = l2

    def fit(self, train: sp.csr_matrix) -> EASE:
        gram = torch.from_numpy((train.T @ train).toarray().astype(np.float64))
        gram.diagonal().add_(self.l2)
        precision = torch.linalg.inv(gram)
        weights = -precision / precision.diagonal()
        weights.diagonal().zero_()
        self.weights = weights.float()
        self.train = train
        return self

    def score(self, users: np.ndarray) -> torch.Tensor:
        rows = torch.from_numpy(self.train[users].toarray())
        return rows @ self.weights


class _ImplicitLibraryModel:
    """Adapter for an `implicit` library model: its user and item factors give the scores."""

    name: str

    def _make(self):  # type: ignore[no-untyped-def]
        raise NotImplementedError

    def fit(self, train: sp.csr_matrix) -> _ImplicitLibraryModel:
        import implicit  # noqa: F401  (fail here, not at import time, when it is missing)
        from threadpoolctl import threadpool_limits

        with threadpool_limits(1, "blas"):  # implicit asks for single-threaded BLAS
            self.model = self._make()
            self.model.fit(train.astype(np.float32), show_progress=False)
        self.user_factors = torch.from_numpy(np.asarray(self.model.user_factors))
        self.item_factors = torch.from_numpy(np.asarray(self.model.item_factors))
        return self

    def score(self, users: np.ndarray) -> torch.Tensor:
        return self.user_factors[torch.from_numpy(users)] @ self.item_factors.T


class ImplicitALS(_ImplicitLibraryModel):
    """iALS (Hu, Koren, Volinsky 2008) from the `implicit` library; confidence 1 + alpha."""

    name = "ials"

    def __init__(self, factors: int = 64, regularization: float = 0.05, alpha: float = 2.0,
                 iterations: int = 15, seed: int = 0) -> None:
        self.params = {"factors": factors, "regularization": regularization, "alpha": alpha,
                       "iterations": iterations, "random_state": seed}

    def _make(self):  # type: ignore[no-untyped-def]
        from implicit.cpu.als import AlternatingLeastSquares

        return AlternatingLeastSquares(**self.params)


class ImplicitBPR(_ImplicitLibraryModel):
    """BPR-MF (Rendle et al. 2009) from the `implicit` library."""

    name = "bpr"

    def __init__(self, factors: int = 64, learning_rate: float = 0.05,
                 regularization: float = 0.01, iterations: int = 100, seed: int = 0) -> None:
        self.params = {"factors": factors, "learning_rate": learning_rate,
                       "regularization": regularization, "iterations": iterations,
                       "random_state": seed}

    def _make(self):  # type: ignore[no-untyped-def]
        from implicit.cpu.bpr import BayesianPersonalizedRanking

        return BayesianPersonalizedRanking(**self.params)
