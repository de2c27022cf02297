"""Writing report files: atomic JSON/text/bytes writers, PNG figures, number formats of report pages.

The report folder of ``tfapprox verify --all`` (:mod:`tfapprox.verify.report`) and the extra pages
checks contribute (``experiments.md``: App. H.2 of Wang & E 2024 by construction) are written
through these functions: every file atomically (:func:`tfapprox.verify.atomic.write_atomic`), every
figure drawn on an Agg canvas without pyplot (no global matplotlib backend switch).
"""

from __future__ import annotations

import io
import json
import sys
from pathlib import Path
from typing import Any

__all__ = ["write_json_atomic", "write_text_atomic", "write_bytes_atomic", "new_figure", "figure_png",
           "save_figure_atomic", "page_png", "fmt_number", "fmt4"]


def write_bytes_atomic(path: str | Path, data: bytes) -> None:
    """Write bytes to ``path`` atomically, mode ``0o600`` minus the umask, creating missing
    parent folders: :func:`tfapprox.verify.atomic.write_atomic` (the one writer of the toolkit)."""
    from .atomic import write_atomic

    write_atomic(path, data, make_parents=True)


def write_text_atomic(path: str | Path, text: str) -> None:
    """Write text to ``path`` atomically (see :func:`write_bytes_atomic`)."""
    write_bytes_atomic(path, text.encode("utf-8"))


def write_json_atomic(path: str | Path, data: Any) -> None:
    """Write JSON to ``path`` atomically (see :func:`write_text_atomic`)."""
    write_text_atomic(path, json.dumps(data, indent=2, allow_nan=False) + "\n")


def new_figure(figsize: tuple[float, float] = (6, 4)) -> tuple[Any, Any]:
    """A matplotlib ``(figure, axes)`` pair drawn by the Agg canvas, without pyplot.

    No global backend switch (``matplotlib.use``) and no pyplot state: importing or
    running the checks leaves a notebook's inline backend alone, and the figure is freed
    when it goes out of scope (nothing to close).
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=figsize)
    FigureCanvasAgg(fig)
    return fig, fig.subplots()


def figure_png(fig: Any, dpi: int = 110) -> bytes:
    """A matplotlib figure as PNG bytes (tight layout).

    A pyplot figure is closed afterwards (figures from :func:`new_figure` need no closing).
    """
    buf = io.BytesIO()
    fig.tight_layout()
    fig.savefig(buf, format="png", dpi=dpi)
    if "matplotlib.pyplot" in sys.modules:  # only a pyplot-managed figure needs closing
        sys.modules["matplotlib.pyplot"].close(fig)
    return buf.getvalue()


def save_figure_atomic(fig: Any, path: str | Path, dpi: int = 110) -> None:
    """Write a matplotlib figure as a PNG file atomically (see :func:`write_bytes_atomic`)."""
    write_bytes_atomic(path, figure_png(fig, dpi))


def page_png(fig: Any) -> bytes:
    """A figure of a report page (``experiments.md``) as PNG bytes, at the pages' 100 dpi."""
    return figure_png(fig, dpi=100)


def fmt4(v: Any) -> str:
    """A number of a report page table to 4 significant digits; ``-`` for ``None``.

    >>> fmt4(None), fmt4(0.123456)
    ('-', '0.1235')
    """
    return "-" if v is None else f"{v:.4g}"


def fmt_number(v: Any) -> str:
    """A cell of a report page table: floats to 3 significant digits, ``-`` for ``None``, else ``str``.

    >>> fmt_number(None), fmt_number(0.0123456), fmt_number(64)
    ('-', '0.0123', '64')
    """
    if v is None:
        return "-"
    if isinstance(v, float):
        return f"{v:.3g}"
    return str(v)
