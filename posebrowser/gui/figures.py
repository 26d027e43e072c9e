"""Writing a widget as a PNG (pixels at the screen's device-pixel ratio) or an SVG (vector where Qt
paints vectors: text, frames, overlays; embedded images for thumbnails and the point raster).

Both are rendered into memory and written atomically: a crash never leaves half an image behind."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QBuffer, QByteArray, QIODevice
from PySide6.QtGui import QPainter
from PySide6.QtWidgets import QGraphicsView, QWidget

from posebrowser.fileio import atomic_write_bytes

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
