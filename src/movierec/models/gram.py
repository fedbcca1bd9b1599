"""The item-item Gram matrix of 0/1 histories and its regularised inverse, shared by the
closed-form item-item rankers (EASE, the DLAE start of `dae`)."""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
import torch


def item_gram(x: sp.csr_matrix) -> torch.Tensor:
    """G = X'X, movies x movies, float64."""
    return torch.from_numpy((x.T @ x).toarray().astype(np.float64))


def regularised_inverse(gram: torch.Tensor, diagonal: torch.Tensor) -> torch.Tensor:
    """(G + diag(diagonal))^-1 for a positive `diagonal`: a Cholesky factorisation (the
    matrix is symmetric positive definite), about twice as fast as a general inverse."""
    factor = torch.linalg.cholesky(gram + torch.diag(diagonal))
    return torch.cholesky_inverse(factor)
