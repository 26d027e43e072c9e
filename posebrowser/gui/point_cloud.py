"""A pyqtgraph item that rasterises many points with numpy into one QImage per paint.

pyqtgraph's ScatterPlotItem spends 0.2–0.3 s replacing 100k positions and ~36 ms per frame drawing
them; splatting the points into an ARGB buffer at the view's pixel resolution costs a few
milliseconds for 100k points (measured in ``benchmarks/bench_gui.py``), so pan, zoom, re-colouring
and intermediate t-SNE layouts stay fluid. Points are opaque squares ``size`` device pixels wide; later
points in ``draw_order`` are painted over earlier ones (highlighted categories go last). The
coordinates and colours are put in draw order once per change, not per frame: gathering 100k (N, 2)
rows by a permutation costs ~10 ms, more than the rest of a frame.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QRectF
from PySide6.QtGui import QImage, QPainter


def pack_colours(rgba: np.ndarray) -> np.ndarray:
    """(N, 4) uint8 RGBA → (N,) uint32 premultiplied 0xAARRGGBB (QImage.Format_ARGB32_Premultiplied)."""
    rgba = np.asarray(rgba, dtype=np.uint32)
    alpha = rgba[:, 3]
    red, green, blue = (rgba[:, c] * alpha // 255 for c in range(3))
    return np.asarray((alpha << 24) | (red << 16) | (green << 8) | blue, dtype=np.uint32)


class PointCloudItem(pg.GraphicsObject):  # type: ignore[misc]
    """Draws (N, 2) points with per-point packed colours; see the module docstring."""

    def __init__(self, size: int = 3) -> None:
        super().__init__()
        self.size = size
        self.coords = np.zeros((0, 2), dtype=np.float64)
        self.colours = np.zeros(0, dtype=np.uint32)
        self.draw_order = np.zeros(0, dtype=np.int64)
        self._ordered_x = np.zeros(0, dtype=np.float64)
        self._ordered_y = np.zeros(0, dtype=np.float64)
        self._ordered_colours = np.zeros(0, dtype=np.uint32)
        self._bounds = QRectF()
        self.last_paint_ms = 0.0

    def set_points(
        self, coords: np.ndarray, colours: np.ndarray, draw_order: np.ndarray | None = None
    ) -> None:
        """``coords`` (N, 2) float, ``colours`` (N,) uint32 from :func:`pack_colours`."""
        self.prepareGeometryChange()
        self.coords = np.asarray(coords, dtype=np.float64)
        self.colours = np.asarray(colours, dtype=np.uint32)
        self.draw_order = (
            np.arange(len(self.coords)) if draw_order is None else np.asarray(draw_order, dtype=np.int64)
        )
        if len(self.coords):
            low, high = self.coords.min(axis=0), self.coords.max(axis=0)
            self._bounds = QRectF(low[0], low[1], max(high[0] - low[0], 1e-9), max(high[1] - low[1], 1e-9))
        else:
            self._bounds = QRectF()
        self._order_points()
        self.informViewBoundsChanged()
        self.update()

    def set_colours(self, colours: np.ndarray, draw_order: np.ndarray | None = None) -> None:
        self.colours = np.asarray(colours, dtype=np.uint32)
        if draw_order is not None:
            self.draw_order = np.asarray(draw_order, dtype=np.int64)
        self._order_points()
        self.update()

    def _order_points(self) -> None:
        """Contiguous x, y and colours in draw order (what :meth:`paint` reads every frame)."""
        order = self.draw_order
        self._ordered_x = np.take(self.coords[:, 0], order)
        self._ordered_y = np.take(self.coords[:, 1], order)
        self._ordered_colours = np.take(self.colours, order)

    def boundingRect(self) -> QRectF:
        return QRectF(self._bounds)

    def dataBounds(self, axis: int, frac: float = 1.0, orthoRange: Any = None) -> tuple[float, float] | None:
        if not len(self.coords):
            return None
        column = self.coords[:, axis]
        return float(column.min()), float(column.max())

    def pixelPadding(self) -> float:
        return float(self.size)

    def paint(self, painter: QPainter, option: Any, widget: Any = None) -> None:
        import time

        if not len(self.coords):
            return
        started = time.perf_counter()
        transform = painter.worldTransform()
        device = widget if widget is not None else painter.device()
        ratio = float(device.devicePixelRatioF()) if hasattr(device, "devicePixelRatioF") else 1.0
        width, height = int(device.width() * ratio), int(device.height() * ratio)
        if width <= 0 or height <= 0:
            return
        x, y = self._ordered_x, self._ordered_y
        px = (transform.m11() * x + transform.m21() * y + transform.dx()) * ratio
        py = (transform.m12() * x + transform.m22() * y + transform.dy()) * ratio
        span = max(1, round(self.size * ratio))
        half = span // 2
        ix = np.floor(px).astype(np.int64) - half
        iy = np.floor(py).astype(np.int64) - half
        inside = (ix >= 0) & (iy >= 0) & (ix < width - span) & (iy < height - span)
        ix, iy, colours = ix[inside], iy[inside], self._ordered_colours[inside]
        buffer = np.zeros((height, width), dtype=np.uint32)
        flat = buffer.reshape(-1)
        base = iy * width + ix
        for dy in range(span):
            for dx in range(span):
                flat[base + dy * width + dx] = colours
        image = QImage(buffer.data, width, height, width * 4, QImage.Format.Format_ARGB32_Premultiplied)
        image.setDevicePixelRatio(ratio)
        painter.save()
        painter.resetTransform()
        painter.drawImage(0, 0, image)
        painter.restore()
        self.last_paint_ms = (time.perf_counter() - started) * 1000.0
