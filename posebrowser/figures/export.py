"""New figures on their own Agg canvas (no pyplot, so no global state and safe on worker threads) and
their export as PNG, SVG or PDF, chosen by the file suffix and written atomically."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Literal

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from numpy.typing import NDArray

from posebrowser.fileio import atomic_write_bytes

#: Width of a two-column journal page (178 mm), the size figures are drawn at.
PUBLICATION_WIDTH_IN = 7.0
#: Raster resolution of PNG exports.
PNG_DPI = 300
FORMATS: dict[str, str] = {".png": "png", ".svg": "svg", ".pdf": "pdf"}


def new_figure(
    height_in: float,
    width_in: float = PUBLICATION_WIDTH_IN,
    layout: Literal["constrained"] | None = "constrained",
) -> Figure:
    """A figure of ``width_in`` × ``height_in`` inches with an Agg canvas attached (``layout`` None: the
    caller places its axes itself)."""
    figure = Figure(figsize=(width_in, height_in), dpi=100, layout=layout)
    FigureCanvasAgg(figure)
    return figure


def format_for(path: str | Path) -> str:
    """ "png", "svg" or "pdf" from the suffix of ``path``; ValueError for anything else."""
    suffix = Path(path).suffix.lower()
    if suffix not in FORMATS:
        raise ValueError(f"Figures are written as PNG, SVG or PDF, not {suffix or 'a file without suffix'}.")
    return FORMATS[suffix]


def figure_bytes(figure: Figure, fmt: str, dpi: int = PNG_DPI) -> bytes:
    """The encoded figure: ``fmt`` is "png", "svg" or "pdf" (text stays text in SVG and PDF)."""
    buffer = io.BytesIO()
    import matplotlib

    with matplotlib.rc_context({"svg.fonttype": "none"}):  # SVG text stays <text>, not glyph paths
        figure.savefig(buffer, format=fmt, dpi=dpi, metadata=_metadata(fmt))
    return buffer.getvalue()


def _metadata(fmt: str) -> dict[str, str] | None:
    if fmt == "png":
        return {"Software": "posebrowser"}
    return {"Creator": "posebrowser"}


def save_figure(figure: Figure, path: str | Path, dpi: int = PNG_DPI) -> Path:
    """Write ``figure`` to ``path`` in the format its suffix names (.png, .svg, .pdf); returns the path."""
    path = Path(path)
    atomic_write_bytes(path, figure_bytes(figure, format_for(path), dpi))
    return path


def render_rgba(figure: Figure, dpi: int = 100) -> NDArray[np.uint8]:
    """The figure as an (H, W, 4) uint8 RGBA array, for showing it on screen."""
    figure.set_dpi(dpi)
    canvas = figure.canvas
    assert isinstance(canvas, FigureCanvasAgg)
    canvas.draw()
    return np.ascontiguousarray(np.asarray(canvas.buffer_rgba(), dtype=np.uint8))
