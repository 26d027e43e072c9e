"""Writing a widget as a PNG (pixels at the screen's device-pixel ratio) or an SVG (vector where Qt
paints vectors: text, frames, overlays; embedded images for thumbnails and the point raster)."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtGui import QPainter
from PySide6.QtWidgets import QGraphicsView, QWidget


def save_widget_image(widget: QWidget, path: str | Path, title: str = "posebrowser") -> None:
    """Render ``widget`` to ``path``; the format follows the suffix (.svg, else a raster format)."""
    path = str(path)
    if path.lower().endswith(".svg"):
        from PySide6.QtSvg import QSvgGenerator

        generator = QSvgGenerator()
        generator.setFileName(path)
        generator.setSize(widget.size())
        generator.setViewBox(widget.rect())
        generator.setTitle(title)
        if isinstance(widget, QGraphicsView):  # its render() takes a painter only
            painter = QPainter(generator)
            widget.render(painter)
            painter.end()
        else:
            widget.render(generator)
    elif not widget.grab().save(path):
        raise OSError(f"Could not write the image {path}.")
