"""Sparse user rows (0/1 histories) as `nn.EmbeddingBag` inputs, and a linear layer over them
that reads only the weight rows of the movies a batch holds."""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
import scipy.sparse as sp
import torch
from torch import nn


class SparseRows(NamedTuple):
    """A batch of sparse rows, as `nn.EmbeddingBag` takes them: the column indices of all
    rows concatenated, where each row starts, and each entry's value."""

    indices: torch.Tensor
    offsets: torch.Tensor
    values: torch.Tensor

    @classmethod
    def from_csr(cls, rows: sp.csr_matrix, device: torch.device) -> SparseRows:
        return cls(torch.from_numpy(rows.indices.astype(np.int64)).to(device),
                   torch.from_numpy(rows.indptr[:-1].astype(np.int64)).to(device),
                   torch.from_numpy(rows.data.astype(np.float32)).to(device))

    @classmethod
    def from_dense(cls, rows: torch.Tensor) -> SparseRows:
        """The non-zero entries of a dense [rows, columns] tensor, row by row."""
        row, column = rows.nonzero(as_tuple=True)
        counts = torch.bincount(row, minlength=len(rows))
        offsets = torch.cat([counts.new_zeros(1), counts.cumsum(0)[:-1]])
        return cls(column, offsets, rows[row, column])

    def row_of_entry(self) -> torch.Tensor:
        """The row each entry belongs to."""
        end = torch.full((1,), len(self.indices), device=self.offsets.device)
        lengths = torch.diff(self.offsets, append=end)
        return torch.repeat_interleave(torch.arange(len(self.offsets), device=end.device),
                                       lengths)


class SparseInputLinear(nn.Module):
    """x W + b for sparse rows x; W is stored input-major (`rows.weight[i]` is input i's
    output row), so a batch reads and updates only the rows of the movies it contains."""

    def __init__(self, n_in: int, n_out: int, bias: bool = True,
                 weight: torch.Tensor | None = None) -> None:
        super().__init__()
        bound = n_in ** -0.5  # nn.Linear's initialisation, not nn.EmbeddingBag's N(0, 1)
        if weight is None:
            weight = torch.empty(n_in, n_out).uniform_(-bound, bound)
        self.rows = nn.EmbeddingBag(n_in, n_out, mode="sum", _weight=weight)
        self.bias = nn.Parameter(torch.empty(n_out).uniform_(-bound, bound)) if bias else None

    def forward(self, x: SparseRows) -> torch.Tensor:
        out = self.rows(x.indices, x.offsets, per_sample_weights=x.values)
        return out if self.bias is None else out + self.bias
