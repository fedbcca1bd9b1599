"""Two-tower retrieval: logits shape and corrections by hand; training separates taste groups."""

import math

import torch

from movierec.models.two_tower import TwoTower
from movierec.training import RatingTensors, TrainConfig, Trainer
from movierec.training.retrieval_task import InBatchSoftmaxTask


def test_logits_apply_temperature_logq_and_duplicate_mask():
    model = TwoTower(3, 4, dim=4, hidden=(), out_dim=2, temperature=0.5)
    model.set_sampling_probabilities(torch.tensor([1.0, 1.0, 2.0, 0.0]))
    users, movies = torch.tensor([0, 1, 2]), torch.tensor([2, 1, 2])
    logits = model(users, movies)
    u, m = model.user(users), model.movie(movies)
    expected = u @ m.T / 0.5 - torch.log(torch.tensor([0.5, 0.25, 0.5]))[None, :]
    assert logits.shape == (3, 3)
    assert torch.isneginf(logits[0, 2]) and torch.isneginf(logits[2, 0])  # same movie twice
    keep = ~torch.isneginf(logits)
    torch.testing.assert_close(logits[keep], expected[keep])
    assert math.isclose(model.log_q[3].item(), math.log(1 / 4), rel_tol=1e-6)  # unseen: 1


def test_in_batch_softmax_loss_by_hand():
    logits = torch.tensor([[2.0, 0.0], [1.0, 1.0]])
    expected = -(math.log(math.exp(2) / (math.exp(2) + 1)) + math.log(0.5)) / 2
    assert math.isclose(InBatchSoftmaxTask().loss(logits, torch.ones(2)).item(), expected,
                        rel_tol=1e-6)


def test_training_ranks_in_group_movies_first():
    # users 0..19 interact with movies 0..9, users 20..39 with movies 10..19
    users = torch.arange(40).repeat_interleave(10)
    movies = (torch.arange(10).repeat(40) + 10 * (users >= 20)).long()
    model = TwoTower(40, 20, dim=8, hidden=(), out_dim=8, temperature=0.1)
    model.set_sampling_probabilities(torch.bincount(movies, minlength=20))
    config = TrainConfig(epochs=30, batch_size=40, lr=0.05, progress=False, num_threads=1)
    Trainer(model, config, task=InBatchSoftmaxTask()).fit(
        RatingTensors(users, movies, torch.ones(len(users))))
    with torch.no_grad():
        top = model.score_all_movies(torch.arange(40)).topk(5, dim=1).indices
    in_group = (top // 10) == (torch.arange(40) >= 20).long()[:, None]
    assert in_group.float().mean() > 0.95
