"""A self-contained HTML page: inline CSS, figures as base64 PNG, pandas tables; no CDN."""

from __future__ import annotations

import base64
import html
from typing import TYPE_CHECKING

import pandas as pd

from movierec.analysis.plotting import png_bytes

if TYPE_CHECKING:
    from matplotlib.figure import Figure

STYLE = """
body { font-family: system-ui, sans-serif; margin: 2em auto; max-width: 1150px; color: #222; }
h1 { border-bottom: 2px solid #444; } h2 { margin-top: 2em; border-bottom: 1px solid #ccc; }
img { max-width: 100%; height: auto; display: block; margin: 1em 0; }
table { border-collapse: collapse; font-size: 0.85em; margin: 1em 0; }
th, td { border: 1px solid #ddd; padding: 3px 7px; text-align: left; vertical-align: top; }
th { background: #f3f3f3; } td { font-variant-numeric: tabular-nums; }
p.note { color: #555; font-size: 0.9em; } nav a { margin-right: 1em; }
"""


def figure(fig: Figure, alt: str) -> str:
    """An <img> holding the figure as an embedded PNG."""
    encoded = base64.b64encode(png_bytes(fig)).decode("ascii")
    return f'<img alt="{html.escape(alt)}" src="data:image/png;base64,{encoded}">'


def table(frame: pd.DataFrame, *, index: bool = False, floats: str = "{:.3f}") -> str:
    """The frame as an HTML table; NaN shown empty, floats with `floats`."""
    return frame.to_html(index=index, na_rep="", float_format=floats.format, border=0,
                         escape=True)


def paragraph(text: str, note: bool = False) -> str:
    """Escaped text in a <p>; `note` makes it small and grey."""
    css = ' class="note"' if note else ""
    return f"<p{css}>{html.escape(text)}</p>"


Section = tuple[str, str, list[str]]  # (anchor, heading, html parts)


def page(title: str, subtitle: str, sections: list[Section]) -> str:
    """A whole HTML document with a contents bar linking to each section."""
    nav = " ".join(f'<a href="#{a}">{html.escape(h)}</a>' for a, h, _ in sections)
    body = "\n".join(f'<section id="{a}"><h2>{html.escape(h)}</h2>\n' + "\n".join(parts)
                     + "\n</section>" for a, h, parts in sections)
    return (f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
            f"<title>{html.escape(title)}</title><style>{STYLE}</style></head>\n<body>"
            f"<h1>{html.escape(title)}</h1>{paragraph(subtitle, note=True)}<nav>{nav}</nav>\n"
            f"{body}\n</body></html>\n")
