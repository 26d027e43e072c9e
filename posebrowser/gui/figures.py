"""Writing a widget as a PNG (pixels at the screen's device-pixel ratio) or an SVG (vector where Qt
paints vectors: text, frames, overlays; embedded images for thumbnails and the point raster), and the
thesis' figures of the *Figures* menu drawn with matplotlib from the current model and query
(:func:`build_figure`; real vector content in SVG and PDF, see :mod:`posebrowser.figures`).

Everything is rendered into memory and written atomically: a crash never leaves half an image behind."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from PySide6.QtCore import QBuffer, QByteArray, QIODevice
from PySide6.QtGui import QPainter
from PySide6.QtWidgets import QGraphicsView, QWidget

from posebrowser.core.query import ImageTerm
from posebrowser.errors import QueryError
from posebrowser.fileio import atomic_write_bytes
from posebrowser.gui.frames import Frames, anchor_index
from posebrowser.gui.state import ResultsState

if TYPE_CHECKING:  # matplotlib is imported when a figure is drawn, not at start-up
    from matplotlib.figure import Figure

    from posebrowser.figures.boxes import MapInput
    from posebrowser.figures.thesis import Tile

RASTER_FORMATS = {".png": "PNG", ".jpg": "JPEG", ".jpeg": "JPEG", ".bmp": "BMP", ".webp": "WEBP"}


def save_widget_image(widget: QWidget, path: str | Path, title: str = "posebrowser") -> None:
    """Render ``widget`` to ``path``; the format follows the suffix (.svg, else a raster format)."""
    path = Path(path)
    data = QByteArray()
    buffer = QBuffer(data)
    buffer.open(QIODevice.OpenModeFlag.WriteOnly)
    suffix = path.suffix.lower()
    if suffix == ".svg":
        from PySide6.QtSvg import QSvgGenerator

        generator = QSvgGenerator()
        generator.setOutputDevice(buffer)
        generator.setSize(widget.size())
        generator.setViewBox(widget.rect())
        generator.setTitle(title)
        if isinstance(widget, QGraphicsView):  # its render() takes a painter only
            painter = QPainter(generator)
            widget.render(painter)
            painter.end()
        else:
            widget.render(generator)
    elif not widget.grab().save(buffer, RASTER_FORMATS.get(suffix, "PNG")):
        raise OSError(f"Could not encode the image {path}.")
    buffer.close()
    atomic_write_bytes(path, bytes(data.data()))


# ------------------------------------------------------------------------------------ thesis figures
#: The *Figures* menu: (kind, menu text). Each is drawn by :func:`build_figure` with matplotlib.
FIGURE_KINDS = (
    ("preview", "Retrieval preview (2-D joints, 3-D skeletons)"),
    ("grid", "Question grid (top 25, green/red)"),
    ("masks", "Mask bars (is / is not)"),
    ("escape", "Escape-zero strip (mask ranking sampled)"),
    ("card", "Dataset annotation card"),
    ("evaluation", "hit@k curves (after Evaluate)"),
    ("brushes", "t-SNE with brushed boxes (the current map)"),
)
FIGURE_FILTER = "PDF (*.pdf);;SVG (*.svg);;PNG (*.png)"


@dataclass(frozen=True)
class FigureRequest:
    """What a figure is drawn from: the engine, the shown results and their frames, the posebit labels,
    the ticked posebits, the evaluation report (None until evaluated) and the map with its brushed
    boxes (None before the first map)."""

    kind: str
    engine: Any
    state: ResultsState | None
    frames: Frames | None
    labels: dict[str, str]
    conditions: tuple[tuple[str, int], ...] = ()
    evaluation: dict[str, Any] | None = None
    brushed: MapInput | None = None


def _query_tile(request: FigureRequest, text: str) -> Tile:
    from posebrowser.figures import live
    from posebrowser.figures.thesis import Tile

    gallery = request.engine.gallery
    query = None if request.state is None else request.state.query
    anchor = anchor_index(query)
    if anchor is not None:
        return live.gallery_tile(gallery, anchor, "Query")
    for term in getattr(query, "terms", ()):
        if isinstance(term, ImageTerm) and term.path is not None:
            return live.file_tile(term.path, "Query")
    return Tile(None, text)


def query_image(gallery: Any, query: Any) -> tuple[np.ndarray | None, str | None]:
    """The query's image as RGB pixels and its file (a gallery item's or an image file's), or
    (None, None) for a query without an image term."""
    from PIL import Image

    anchor = anchor_index(query)
    if anchor is not None:
        image = gallery.load_image(anchor).convert("RGB")
        return np.asarray(image, dtype=np.uint8), str(gallery.image_path(anchor))
    for term in getattr(query, "terms", ()):
        if isinstance(term, ImageTerm) and term.path is not None:
            with Image.open(term.path) as opened:
                return np.asarray(opened.convert("RGB"), dtype=np.uint8), str(term.path)
    return None, None


def brushed_map_figure(request: FigureRequest) -> Figure:
    """The current map coloured as on screen, its brushed boxes and a collage of each box's images."""
    from posebrowser.figures.brushed_map import brushed_map

    brushed = request.brushed
    if brushed is None:
        raise QueryError("Open the map first: this figure draws it with its brushed boxes.")
    if not brushed.boxes:
        raise QueryError(
            "Brush a box first: lasso points on the map, then Figures → Keep lasso selection as a box."
        )
    gallery = request.engine.gallery
    return brushed_map(brushed, lambda index: gallery.image_path(index))


def _needs_results(request: FigureRequest) -> ResultsState:
    if request.state is None or len(request.state.indices) == 0:
        raise QueryError("Run a query first: this figure shows its results.")
    return request.state


def _mask_condition(request: FigureRequest) -> tuple[str, int]:
    state = request.state
    asked = [] if state is None else list(zip(state.chip_names, state.chip_values, strict=True))
    conditions = asked + list(request.conditions)
    if not conditions:
        raise QueryError("Tick a posebit (or query with one) first: the figure shows its masks.")
    name, value = conditions[0]
    return str(name), int(value)


def query_title(state: ResultsState, labels: dict[str, str]) -> str:
    """A posebit question as the thesis titles it ("right elbow is bent? True"), else the expression."""
    if state.chip_names and anchor_index(state.query) is None:
        return "; ".join(
            f"{label}? {bool(value)}"
            for label, value in zip(state.chip_labels, state.chip_values, strict=True)
        )
    return str(state.query.to_expr(labels)) if hasattr(state.query, "to_expr") else "query"


def build_figure(request: FigureRequest) -> Figure:
    """The figure ``request.kind`` from the current model and query (slow: run it on a worker)."""
    from posebrowser.figures import live
    from posebrowser.figures.thesis import hit_curves

    gallery = request.engine.gallery
    if request.kind == "masks":
        name, _ = _mask_condition(request)
        return live.mask_bars_figure(request.engine.mask_for, name, request.labels.get(name, name))
    if request.kind == "escape":
        name, value = _mask_condition(request)
        mask = np.asarray(request.engine.mask_for(((name, value),)), dtype=np.float32)
        embeddings = np.asarray(request.engine.embeddings, dtype=np.float32)
        return live.escape_zero_figure(gallery, embeddings, mask, name, value, request.labels.get(name, name))
    if request.kind == "evaluation":
        if request.evaluation is None:
            raise QueryError("Evaluate first (Evaluation panel): the figure shows its hit@k curves.")
        from posebrowser.gui.evaluation_view import hit_tables

        return hit_curves(hit_tables(request.evaluation), str(request.evaluation["meta"].get("gallery", "")))
    if request.kind == "brushes":
        return brushed_map_figure(request)
    if request.kind == "card":
        rows = [] if request.state is None else [int(i) for i in request.state.indices[:4]]
        if not rows:
            rows = np.linspace(0, len(gallery) - 1, num=min(4, len(gallery))).astype(int).tolist()
        return live.annotation_card_figure(gallery, rows, request.labels)
    state = _needs_results(request)
    text = query_title(state, request.labels)
    correct = None if request.frames is None else request.frames.correct
    meaning = None if request.frames is None else request.frames.meaning
    if request.kind == "preview":
        return live.retrieval_preview_figure(
            gallery, _query_tile(request, text), state.indices, correct, meaning, text, state.distances
        )
    if request.kind == "grid":
        query = _query_tile(request, text) if anchor_index(state.query) is not None else None
        return live.question_grid_figure(gallery, query, state.indices, correct, meaning, text)
    raise QueryError(f"Unknown figure {request.kind!r}.")


def export_figure(request: FigureRequest, path: str | Path) -> Path:
    """Draw ``request`` and write it to ``path`` (PNG, SVG or PDF by suffix)."""
    from posebrowser.figures.export import save_figure

    return save_figure(build_figure(request), path)
