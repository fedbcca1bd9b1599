"""Figures without pyplot: bare matplotlib Figures on the Agg canvas, saved atomically.

matplotlib is imported inside these functions, so importing `movierec.analysis` stays cheap
and never touches a GUI backend.
"""

from __future__ import annotations

import io
import os
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from matplotlib.figure import Figure

DPI = 100


def new_figure(width: float, height: float) -> Figure:
    """A Figure of width x height inches at `DPI`, drawn by Agg, with constrained layout."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height), dpi=DPI, layout="constrained")
    FigureCanvasAgg(fig)
    return fig


def png_bytes(fig: Figure) -> bytes:
    """The figure as PNG bytes, exactly figsize x DPI pixels."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=DPI)
    return buffer.getvalue()


def save_figure(fig: Figure, path: str | Path) -> Path:
    """Write the figure as a PNG file, atomically."""
    return write_atomic(path, png_bytes(fig))


def write_atomic(path: str | Path, data: bytes) -> Path:
    """Write to a temporary file in the same folder, then rename it over `path`."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def shorten(text: str, width: int = 32) -> str:
    """Cut a label to `width` characters with an ellipsis, so long titles do not crowd plots."""
    return text if len(text) <= width else text[: width - 1] + "…"
