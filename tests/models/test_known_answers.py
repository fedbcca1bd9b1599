"""Models with hand-set weights give hand-computed answers; presets reject bad options."""

from __future__ import annotations

import math

import pytest
import torch

from movierec.errors import ConfigError
from movierec.models import MatrixFactorization, RatingClassifier, build_model
from movierec.training import MSETask, task_for


def hand_set_mf(**options: object) -> MatrixFactorization:
    model = MatrixFactorization(2, 2, (1.0, 5.0), dim=2, **options)
    with torch.no_grad():
        model.user.embedding.weight.copy_(torch.tensor([[1.0, 0.0], [0.5, 2.0]]))
        model.movie.embedding.weight.copy_(torch.tensor([[2.0, 1.0], [0.0, -1.0]]))
        model.user.bias.weight.copy_(torch.tensor([[0.5], [-0.25]]))
        model.movie.bias.weight.copy_(torch.tensor([[0.1], [0.2]]))
        model.head.value.fill_(1.0)
    return model


def test_biased_mf_plain_scores_are_hand_computed() -> None:
    model = hand_set_mf(sigmoid_range=False)
    got = model.predict(torch.tensor([0, 1, 1]), torch.tensor([0, 0, 1]))
    # user0.movie0: 2 + 0.5 + 0.1 + 1 = 3.6; user1.movie0: 1 + 2 - 0.25 + 0.1 + 1 = 3.85;
    # user1.movie1: -2 - 0.25 + 0.2 + 1 = -1.05 -> clamped to 1
    torch.testing.assert_close(got, torch.tensor([3.6, 3.85, 1.0]))


def test_biased_mf_sigmoid_range_is_hand_computed() -> None:
    model = hand_set_mf(sigmoid_range=True, range_margin=0.5)
    got = model(torch.tensor([0]), torch.tensor([0]))
    expected = 0.5 + 5.0 / (1.0 + math.exp(-3.6))
    torch.testing.assert_close(got, torch.tensor([expected]))


def test_bce_model_rescales_the_logit() -> None:
    model = hand_set_mf(loss="bce")
    logit = model(torch.tensor([0]), torch.tensor([0]))
    torch.testing.assert_close(logit, torch.tensor([3.6]))
    torch.testing.assert_close(model.predict(torch.tensor([0]), torch.tensor([0])),
                               torch.tensor([1.0 + 4.0 / (1.0 + math.exp(-3.6))]))


@pytest.mark.parametrize("options", [{"sigmoid_range": True, "l2": 0.1},
                                     {"sigmoid_range": False, "l2": 0.0},
                                     {"loss": "bce", "l2": 0.05}])
def test_manual_gradients_equal_autograd(options: dict) -> None:
    torch.manual_seed(0)
    model = MatrixFactorization(5, 4, (1.0, 5.0), dim=3, init_std=0.5, **options)
    users, movies = torch.tensor([0, 1, 1, 4, 0]), torch.tensor([0, 3, 3, 2, 0])
    ratings = torch.tensor([5.0, 1.0, 2.0, 4.0, 3.0])
    task = task_for(model)
    (task.loss(model(users, movies), ratings) + model.penalty(users, movies)).backward()
    expected = {name: p.grad.clone() for name, p in model.named_parameters()}
    model.zero_grad(set_to_none=True)
    model.manual_gradients(users, movies, lambda out: task.loss_and_grad(out, ratings))
    for name, param in model.named_parameters():
        torch.testing.assert_close(param.grad, expected[name], msg=name)


def test_classifier_expected_value_of_known_logits() -> None:
    model = RatingClassifier(2, 2, (1.0, 5.0))
    logits = torch.log(torch.tensor([[0.1, 0.2, 0.3, 0.2, 0.2]]))
    # 0.1*1 + 0.2*2 + 0.3*3 + 0.2*4 + 0.2*5 = 3.2
    torch.testing.assert_close(model.ratings_from_output(logits), torch.tensor([3.2]))


def test_classifier_half_star_classes() -> None:
    values = tuple(v / 2 for v in range(1, 11))
    model = RatingClassifier(3, 3, (0.5, 5.0), rating_values=values).eval()
    assert model(torch.tensor([0]), torch.tensor([1])).shape == (1, 10)
    assert task_for(model).classes(torch.tensor([0.5, 3.5, 5.0])).tolist() == [0, 6, 9]


def test_mse_task_is_mean_squared_error() -> None:
    loss, grad = MSETask().loss_and_grad(torch.tensor([1.0, 3.0]), torch.tensor([2.0, 3.0]))
    assert loss.item() == pytest.approx(0.5)
    torch.testing.assert_close(grad, torch.tensor([-1.0, 0.0]))


def test_unknown_preset_and_option_are_config_errors() -> None:
    with pytest.raises(ConfigError, match="biased-mf"):
        build_model("svd-plus-plus", 3, 3)
    with pytest.raises(ConfigError, match=r"valid options: .*dim"):
        build_model("biased-mf", 3, 3, dimension=8)
