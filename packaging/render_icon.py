"""Render ``resources/icons/posebrowser.svg`` to the 256 px PNG that desktops and the AppStream
metadata use (``resources/icons/posebrowser-256.png``), with Qt's SVG renderer, offscreen."""

from __future__ import annotations

import os
import sys
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication, QImage, QPainter
from PySide6.QtSvg import QSvgRenderer

ROOT = Path(__file__).resolve().parents[1]
SVG = ROOT / "resources" / "icons" / "posebrowser.svg"
PNG = ROOT / "resources" / "icons" / "posebrowser-256.png"


def render(svg: Path = SVG, png: Path = PNG, size: int = 256) -> Path:
    """Draw ``svg`` into a transparent ``size``×``size`` ARGB image and save it as ``png``."""
    _app = QGuiApplication.instance() or QGuiApplication(sys.argv[:1])
    renderer = QSvgRenderer(str(svg))
    if not renderer.isValid():
        raise SystemExit(f"{svg}: not a valid SVG")
    image = QImage(size, size, QImage.Format.Format_ARGB32_Premultiplied)
    image.fill(Qt.GlobalColor.transparent)
    painter = QPainter(image)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    renderer.render(painter)
    painter.end()
    if not image.save(str(png), "PNG"):
        raise SystemExit(f"{png}: cannot write")
    return png


if __name__ == "__main__":
    print(render())
