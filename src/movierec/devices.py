"""Where a model lives and how data gets there: the one place that moves index arrays to a
model's device and model outputs back to numpy.

CUDA refuses what the CPU forgives: an index tensor on another device than the table it
reads (`index_select`, `embedding`, `index_add_`) and `.numpy()` of a GPU tensor. Every
facade, evaluation and service path goes through these helpers, so a model fitted with
`device="cuda"` scores, ranks, saves and loads like one fitted on the CPU.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
from torch import nn

from movierec.errors import ConfigError

DeviceLike = str | torch.device


def model_device(model: nn.Module) -> torch.device:
    """The device of the model's first parameter or buffer (the CPU for a model with none)."""
    for tensor in model.parameters():
        return tensor.device
    for tensor in model.buffers():
        return tensor.device
    return torch.device("cpu")


def as_index(values: np.ndarray | Sequence[int] | torch.Tensor,
             device: DeviceLike = "cpu") -> torch.Tensor:
    """Indices as an int64 tensor on `device` (numpy arrays are shared, not copied, on the
    CPU)."""
    if isinstance(values, torch.Tensor):
        return values.to(device=device, dtype=torch.long)
    array = np.asarray(values)
    if array.dtype != np.int64:
        array = array.astype(np.int64)
    return torch.from_numpy(array).to(device)


def to_numpy(tensor: torch.Tensor) -> np.ndarray:
    """A tensor's values as numpy, from any device, detached from autograd."""
    return tensor.detach().cpu().numpy()


def available_devices() -> list[str]:
    """"cpu", then "cuda" when torch sees a GPU: the devices tests run their checks on."""
    return ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])


def resolve_device(device: DeviceLike) -> torch.device:
    """`device` as a torch.device; a CUDA device on a machine without one is a ConfigError
    that says so, rather than torch's error deep inside the first step."""
    try:
        resolved = torch.device(device)
    except RuntimeError as err:
        raise ConfigError(f"device {device!r} is not a torch device ({err}); use 'cpu' or "
                          "'cuda'") from None
    if resolved.type == "cuda" and not torch.cuda.is_available():
        raise ConfigError(f"device {device!r} asked for, but torch sees no GPU here; use "
                          "device='cpu' (a model trained on a GPU loads on the CPU too)")
    return resolved
