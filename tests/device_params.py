"""The devices that device-parametrised tests run on: the CPU always, CUDA when torch sees a
GPU and skipped cleanly otherwise (`pytest -k cuda` on a GPU machine runs the GPU half)."""

import pytest
import torch

NEEDS_GPU = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
DEVICES = ["cpu", pytest.param("cuda", marks=NEEDS_GPU)]
