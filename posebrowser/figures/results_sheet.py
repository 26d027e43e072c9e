"""Every result of a query on paper: the query (its image, or its terms as text for a posebit query)
and the whole ranked result list in a grid, each tile with its rank, its distance and its green/red
frame; plus the same list as a CSV or JSON table. Qt-free.

A PDF gets pages of ``rows_per_page`` rows; an SVG or PNG is one sheet with every row. In SVG each
result image carries the gid ``result-image-RANK`` and the query image ``query-image``, so an exported
file can be counted and checked against the result list.
"""

from __future__ import annotations

import csv
import io
import json
import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.patches import Patch, Rectangle
from numpy.typing import NDArray

from posebrowser.figures.export import (
    FORMATS,
    PNG_DPI,
    PUBLICATION_WIDTH_IN,
    figure_bytes,
    format_for,
    new_figure,
)
from posebrowser.figures.panels import CORRECT_COLOUR, WRONG_COLOUR
from posebrowser.fileio import atomic_write_bytes

COLUMNS = 8
ROWS_PER_PAGE = 8
#: A cell is one unit wide; its image is a unit square and its caption sits below it.
CELL_HEIGHT = 1.25
HEADER_HEIGHT = 1.35
CONTINUED_HEIGHT = 0.45
#: PNG sheets are drawn at :data:`PNG_DPI` unless that would make them taller than this many pixels.
MAX_PNG_PIXELS = 16000
VERDICTS = {True: "green", False: "red", None: "none"}


@dataclass(frozen=True)
class SheetResult:
    """One result: its image (H, W, 3) uint8 or None, rank (1-based), gallery index, image path, search
    distance and frame (True green, False red, None no frame)."""

    image: NDArray[np.uint8] | None
    rank: int
    index: int
    path: str
    distance: float
    correct: bool | None


@dataclass(frozen=True)
class SheetQuery:
    """The query: its image (None for a query without one), the lines that describe it (its terms),
    what a green frame means (None: no frames), and the query image's path when there is one."""

    image: NDArray[np.uint8] | None
    lines: tuple[str, ...]
    meaning: str | None
    image_path: str | None = None


def _paged(results: Sequence[SheetResult], per_page: int | None) -> list[Sequence[SheetResult]]:
    if per_page is None or len(results) <= per_page:
        return [results]
    return [results[start : start + per_page] for start in range(0, len(results), per_page)]


def results_pages(
    query: SheetQuery,
    results: Sequence[SheetResult],
    columns: int = COLUMNS,
    rows_per_page: int | None = ROWS_PER_PAGE,
) -> list[Figure]:
    """The sheets: the first opens with the query, every one holds up to ``rows_per_page`` rows of
    ``columns`` results (None: one sheet with all of them)."""
    per_page = None if rows_per_page is None else rows_per_page * columns
    pages = _paged(results, per_page)
    figures = []
    for number, page in enumerate(pages, start=1):
        header = _header_height(query) if number == 1 else CONTINUED_HEIGHT
        rows = max(1, math.ceil(len(page) / columns))
        units_tall = header + rows * CELL_HEIGHT
        unit_in = PUBLICATION_WIDTH_IN / columns
        figure = new_figure(units_tall * unit_in, layout=None)
        figure.suppressComposite = True  # one image per result in SVG and PDF, named by its gid
        axes = figure.add_axes((0.0, 0.0, 1.0, 1.0))
        axes.set_xlim(0, columns)
        axes.set_ylim(units_tall, 0)
        axes.set_axis_off()
        if number == 1:
            _draw_header(axes, query, len(results), columns)
        else:
            first, last = page[0].rank, page[-1].rank
            axes.text(0.05, 0.3, f"Results {first}–{last} of {len(results)} (continued)", fontsize=8)
        for position, result in enumerate(page):
            row, column = divmod(position, columns)
            _draw_result(axes, result, column, header + row * CELL_HEIGHT)
        figures.append(figure)
    return figures


def _header_height(query: SheetQuery) -> float:
    """Room for the query image, or for its lines of text when it has none."""
    if query.image is not None:
        return HEADER_HEIGHT
    return float(np.clip(0.45 + 0.13 * len(query.lines), 0.8, 3.0))


def _draw_image(axes: Axes, image: NDArray[np.uint8], left: float, top: float, gid: str) -> None:
    """``image`` fitted into the unit square at (left, top), centred, aspect kept."""
    height, width = image.shape[:2]
    scale = 0.9 / max(height, width)
    x0, y0 = left + (1 - width * scale) / 2, top + (1 - height * scale) / 2
    axes.imshow(
        image, extent=(x0, x0 + width * scale, y0 + height * scale, y0), interpolation="none", gid=gid
    )
    axes.set_aspect("auto")


def _draw_result(axes: Axes, result: SheetResult, left: float, top: float) -> None:
    if result.image is not None:
        _draw_image(axes, result.image, left, top, f"result-image-{result.rank}")
    if result.correct is not None:
        verdict = "correct" if result.correct else "wrong"
        axes.add_patch(
            Rectangle(
                (left + 0.04, top + 0.04),
                0.92,
                0.92,
                fill=False,
                edgecolor=CORRECT_COLOUR if result.correct else WRONG_COLOUR,
                linewidth=2.0,
                gid=f"frame-{verdict}-{result.rank}",
            )
        )
    axes.text(
        left + 0.5,
        top + 1.05,
        f"#{result.rank}  d={result.distance:.3g}",
        ha="center",
        va="top",
        fontsize=5.5,
        gid=f"result-title-{result.rank}",
    )


def _draw_header(axes: Axes, query: SheetQuery, count: int, columns: int) -> None:
    text_left = 0.05
    if query.image is not None:
        _draw_image(axes, query.image, 0.0, 0.2, "query-image")
        axes.text(0.5, 0.1, "Query", ha="center", va="center", fontsize=7, fontweight="bold")
        text_left = 1.15
    else:
        axes.text(text_left, 0.1, "Query", va="center", fontsize=7, fontweight="bold")
    axes.text(text_left, 0.3, "\n".join(query.lines), va="top", fontsize=6.5, gid="query-text")
    summary = f"{count} results, ranked by distance"
    axes.text(columns - 0.05, 0.1, summary, ha="right", va="center", fontsize=7)
    if query.meaning:
        axes.legend(
            handles=[
                Patch(
                    facecolor="none", edgecolor=CORRECT_COLOUR, linewidth=2, label=f"green: {query.meaning}"
                ),
                Patch(facecolor="none", edgecolor=WRONG_COLOUR, linewidth=2, label="red: not"),
            ],
            loc="upper right",
            bbox_to_anchor=(1.0, 1.0 - 0.22 / axes.get_ylim()[0]),
            fontsize=6,
            frameon=False,
        )


# ------------------------------------------------------------------------------------ files
def save_sheets(figures: Sequence[Figure], path: str | Path) -> Path:
    """Write the sheets to ``path`` by its suffix: a PDF with a page per sheet, or (SVG, PNG) the one
    sheet of :func:`results_pages` with ``rows_per_page=None``."""
    path = Path(path)
    fmt = format_for(path)
    if fmt == "pdf":
        from matplotlib.backends.backend_pdf import PdfPages

        buffer = io.BytesIO()
        with PdfPages(buffer, metadata={"Creator": "posebrowser"}) as pdf:
            for figure in figures:
                pdf.savefig(figure)
        atomic_write_bytes(path, buffer.getvalue())
        return path
    if len(figures) != 1:
        raise ValueError(f"A {fmt.upper()} file holds one sheet; draw the results with rows_per_page=None.")
    figure = figures[0]
    dpi = min(PNG_DPI, int(MAX_PNG_PIXELS / figure.get_size_inches()[1]))
    atomic_write_bytes(path, figure_bytes(figure, fmt, dpi=max(dpi, 30)))
    return path


def save_results_sheet(query: SheetQuery, results: Sequence[SheetResult], path: str | Path) -> Path:
    """The query and every result as a figure at ``path`` (.pdf paged, .svg or .png one sheet)."""
    rows_per_page = ROWS_PER_PAGE if format_for(path) == "pdf" else None
    return save_sheets(results_pages(query, results, rows_per_page=rows_per_page), path)


def results_rows(results: Sequence[SheetResult]) -> list[dict[str, Any]]:
    """One row per result: rank, gallery index, image path, distance and frame verdict
    (green / red / none)."""
    return [
        {
            "rank": result.rank,
            "index": result.index,
            "path": result.path,
            "distance": result.distance,
            "frame": VERDICTS[result.correct],
        }
        for result in results
    ]


def save_results_table(query: SheetQuery, results: Sequence[SheetResult], path: str | Path) -> Path:
    """Every result as CSV (one row each) or JSON (the query, what green means and the rows), chosen
    by the suffix of ``path``."""
    path = Path(path)
    rows = results_rows(results)
    if path.suffix.lower() == ".json":
        payload = {
            "query": list(query.lines),
            "query_image": query.image_path,
            "frame_meaning": query.meaning,
            "count": len(rows),
            "results": rows,
        }
        atomic_write_bytes(path, json.dumps(payload, indent=2).encode("utf-8"))
        return path
    if path.suffix.lower() != ".csv":
        raise ValueError(f"Result tables are written as CSV or JSON, not {path.suffix or 'no suffix'}.")
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=["rank", "index", "path", "distance", "frame"])
    writer.writeheader()
    writer.writerows(rows)
    atomic_write_bytes(path, buffer.getvalue().encode("utf-8"))
    return path


def save_results_export(query: SheetQuery, results: Sequence[SheetResult], path: str | Path) -> list[Path]:
    """What *Export results* writes for ``path``: a figure (.pdf, .svg, .png) together with the CSV and
    JSON tables beside it (same name, other suffix), or only the table asked for (.csv, .json)."""
    path = Path(path)
    if path.suffix.lower() in (".csv", ".json"):
        return [save_results_table(query, results, path)]
    if path.suffix.lower() not in FORMATS:
        raise ValueError(
            f"Results are exported as PDF, SVG, PNG, CSV or JSON, not {path.suffix or 'no suffix'}."
        )
    return [
        save_results_sheet(query, results, path),
        save_results_table(query, results, path.with_suffix(".csv")),
        save_results_table(query, results, path.with_suffix(".json")),
    ]
