"""Tasks turn a model's output and the true ratings into a loss (TFRS style: the model
scores, the task adds the loss). Each task also gives d loss / d output, which the
no-autograd fast path of factorisation models needs."""

from __future__ import annotations

from abc import ABC, abstractmethod

import torch
import torch.nn.functional as F

from movierec.errors import ConfigError
from movierec.models.base import RatingModel


class Task(ABC):
    """A loss over (model output, ratings), averaged over the batch."""

    name: str

    @abstractmethod
    def loss(self, output: torch.Tensor, ratings: torch.Tensor) -> torch.Tensor:
        """Scalar mean loss; differentiable through `output`."""

    def loss_and_grad(self, output: torch.Tensor,
                      ratings: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(loss, d loss / d output) in closed form, for [B] outputs, without autograd."""
        raise NotImplementedError(f"task {self.name!r} has no closed-form gradient")


class MSETask(Task):
    """Mean squared error on the rating scale."""

    name = "mse"

    def loss(self, output: torch.Tensor, ratings: torch.Tensor) -> torch.Tensor:
        return F.mse_loss(output, ratings)

    def loss_and_grad(self, output: torch.Tensor,
                      ratings: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        error = output - ratings
        return error.square().mean(), error * (2.0 / len(error))


class BCETask(Task):
    """Binary cross-entropy of logits against ratings min-max scaled to [0, 1]."""

    name = "bce"

    def __init__(self, rating_range: tuple[float, float]) -> None:
        self.low, self.high = rating_range

    def targets(self, ratings: torch.Tensor) -> torch.Tensor:
        return (ratings - self.low) / (self.high - self.low)

    def loss(self, output: torch.Tensor, ratings: torch.Tensor) -> torch.Tensor:
        return F.binary_cross_entropy_with_logits(output, self.targets(ratings))

    def loss_and_grad(self, output: torch.Tensor,
                      ratings: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        targets = self.targets(ratings)
        loss = F.binary_cross_entropy_with_logits(output, targets)
        return loss, (torch.sigmoid(output) - targets) / len(output)


class CrossEntropyTask(Task):
    """Cross-entropy over rating classes; a rating maps to the nearest class value."""

    name = "cross_entropy"

    def __init__(self, rating_values: tuple[float, ...]) -> None:
        self.values = torch.tensor(rating_values)
        self.boundaries = (self.values[1:] + self.values[:-1]) / 2

    def classes(self, ratings: torch.Tensor) -> torch.Tensor:
        return torch.bucketize(ratings, self.boundaries.to(ratings.device))

    def loss(self, output: torch.Tensor, ratings: torch.Tensor) -> torch.Tensor:
        return F.cross_entropy(output, self.classes(ratings))


def task_for(model: RatingModel) -> Task:
    """The task matching `model.loss_name`."""
    if model.loss_name == "mse":
        return MSETask()
    if model.loss_name == "bce":
        return BCETask(model.rating_range)
    if model.loss_name == "cross_entropy":
        return CrossEntropyTask(model.rating_values)  # type: ignore[attr-defined]
    if model.loss_name == "in_batch_softmax":
        from movierec.training.retrieval_task import InBatchSoftmaxTask

        return InBatchSoftmaxTask()
    raise ConfigError(f"no task for loss {model.loss_name!r}; known: mse, bce, cross_entropy, "
                      "in_batch_softmax")
