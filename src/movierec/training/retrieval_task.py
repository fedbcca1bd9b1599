"""In-batch softmax: each user's positive movie against the batch's other movies."""

from __future__ import annotations

import torch
import torch.nn.functional as F

from movierec.training.tasks import Task


class InBatchSoftmaxTask(Task):
    """Cross-entropy over a [B, B] logit matrix whose diagonal holds the positives."""

    name = "in_batch_softmax"

    def loss(self, output: torch.Tensor, ratings: torch.Tensor) -> torch.Tensor:
        return F.cross_entropy(output, torch.arange(len(output), device=output.device))
