"""Checks that a figure file is a real PNG of the expected size with something drawn on it."""

from __future__ import annotations

from pathlib import Path

import numpy as np


def assert_png(path: Path, width_in: float, height_in: float, dpi: int = 100) -> np.ndarray:
    """The file is a PNG of width x height inches at `dpi`, and not blank."""
    import matplotlib.image

    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    pixels = matplotlib.image.imread(path)
    assert pixels.shape[:2] == (round(height_in * dpi), round(width_in * dpi))
    assert pixels[..., :3].var() > 0
    return pixels
