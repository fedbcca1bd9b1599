"""Rich tables for the CLI: one place that turns frames into terminal output."""

from __future__ import annotations

import pandas as pd
from rich.console import Console
from rich.table import Table

console = Console()


def frame_table(frame: pd.DataFrame, title: str | None = None, floats: str = "{:.4f}") -> Table:
    """A Rich table with one column per frame column; floats formatted with `floats`."""
    table = Table(title=title, title_justify="left")
    for column in frame.columns:
        numeric = pd.api.types.is_numeric_dtype(frame[column])
        table.add_column(str(column), justify="right" if numeric else "left")
    for row in frame.itertuples(index=False):
        table.add_row(*(floats.format(v) if isinstance(v, float) else str(v) for v in row))
    return table


def show(frame: pd.DataFrame, title: str | None = None, floats: str = "{:.4f}") -> None:
    console.print(frame_table(frame, title, floats))
