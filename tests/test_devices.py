"""The device helpers every facade, evaluation and service path moves data with."""

import numpy as np
import pytest
import torch
from device_params import DEVICES
from torch import nn

from movierec.devices import as_index, available_devices, model_device, resolve_device, to_numpy
from movierec.errors import ConfigError


@pytest.mark.parametrize("device", DEVICES)
def test_model_device_follows_parameters_then_buffers(device):
    assert model_device(nn.Linear(2, 3).to(device)).type == device
    holder = nn.Module()
    holder.register_buffer("counts", torch.zeros(3, device=device))
    assert model_device(holder).type == device
    assert model_device(nn.Module()) == torch.device("cpu")  # nothing to go by


@pytest.mark.parametrize("device", DEVICES)
def test_as_index_gives_int64_on_the_device(device):
    for values in (np.array([3, 1], dtype=np.int32), [3, 1], torch.tensor([3, 1])):
        index = as_index(values, device)
        assert index.dtype == torch.long and index.device.type == device
        assert index.tolist() == [3, 1]
    table = torch.arange(10.0, device=device)
    assert table.index_select(0, as_index(np.array([4, 2]), device)).tolist() == [4.0, 2.0]


def test_as_index_shares_an_int64_array_on_the_cpu():
    array = np.array([5, 6], dtype=np.int64)
    array_view = as_index(array)
    array[0] = 7
    assert array_view.tolist() == [7, 6]


@pytest.mark.parametrize("device", DEVICES)
def test_to_numpy_detaches_and_copies_back(device):
    weight = torch.ones(2, requires_grad=True, device=device)
    assert to_numpy(weight * 2).tolist() == [2.0, 2.0]


def test_resolve_device_names_the_problem():
    assert resolve_device("cpu") == torch.device("cpu")
    with pytest.raises(ConfigError, match="not a torch device"):
        resolve_device("gpu0")
    if not torch.cuda.is_available():
        with pytest.raises(ConfigError, match="sees no GPU"):
            resolve_device("cuda")
    assert available_devices()[0] == "cpu"
    assert ("cuda" in available_devices()) == torch.cuda.is_available()


@pytest.mark.parametrize("device", DEVICES)
def test_ranking_runs_where_the_scores_are(device):
    """Masking, top-k and metrics of a scorer whose scores live on `device`: the CPU's
    answer, with only [users, k] coming back."""
    from movierec.data import SeenMovies, top_k_unseen
    from movierec.evaluate.ranking import factorized_top_k_accuracy, ranking_metrics

    scores = torch.tensor([[0.9, 0.8, 0.7, 0.6, 0.5], [0.1, 0.2, float("nan"), 0.4, 0.5]])
    seen = SeenMovies.from_indices(np.array([0]), np.array([0]), 2, 5)
    on_device = scores.to(device)
    top, values = top_k_unseen(on_device, 2, seen=seen, users=np.array([0, 1]),
                               allowed=torch.tensor([True, True, True, False, True]))
    assert top.tolist() == [[1, 2], [4, 1]] and isinstance(values, np.ndarray)
    test_users, test_movies = np.array([0, 0, 1]), np.array([2, 4, 4])
    for scorer_scores in (scores, on_device):
        metrics = ranking_metrics(lambda users, s=scorer_scores: s[as_index(users, s.device)],
                                  test_users, test_movies, 5, seen=seen, ks=(2,))
        assert metrics["recall@2"] == pytest.approx(0.75)
        found = factorized_top_k_accuracy(lambda users, s=scorer_scores: s[users], test_users,
                                          test_movies, ks=(1,))
        assert found["factorized_top_1"] == pytest.approx(1 / 3)
