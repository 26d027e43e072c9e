"""Gallery thumbnails drawn on the projection map once the user has zoomed in (level of detail).

Zoomed out, the map shows dots only (:class:`~posebrowser.gui.point_cloud.PointCloudItem`). When at
most ``max_visible`` points lie inside the view rectangle, this layer draws each of them as a small
thumbnail centred on its point, framed in the point's colour (so a colouring by posebit or by
distance stays readable). Only the visible points' thumbnails are requested from the shared
:class:`~posebrowser.gui.thumbnails.ThumbnailLoader` (decoded off the GUI thread, cached as QPixmaps);
a point whose thumbnail is still decoding keeps its dot until the loader reports it ready. At most
``draw_budget`` thumbnails are drawn per frame, the ones nearest the view's centre first.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QRectF, QTimer
from PySide6.QtGui import QColor, QPainter, QPixmap

from posebrowser.gui.point_cloud import PointCloudItem
from posebrowser.gui.thumbnails import ThumbnailLoader

#: Thumbnail edge on the map, in logical pixels (decoded at this size: drawn unscaled).
MAP_THUMB = 48
#: Level of detail: thumbnails appear once at most this many points are inside the view.
MAX_VISIBLE = 200
#: At most this many thumbnails are drawn per frame.
DRAW_BUDGET = 200
FRAME_PX = 2
#: Decodes finishing within this many ms are shown by one repaint.
REPAINT_COALESCE_MS = 30
#: Image paths remembered per gallery index (looked up again past this many).
PATH_CACHE_ITEMS = 20_000


class SortedByX:
    """``coords`` (N, 2) float64 sorted by x once, so the points in a narrow view rectangle are found in
    the vertical strip it spans (two binary searches) instead of by testing all N points."""

    def __init__(self, coords: np.ndarray) -> None:
        self.coords = coords
        self.order = np.argsort(coords[:, 0], kind="stable")
        self.x = coords[self.order, 0]
        self.y = coords[self.order, 1]

    def in_rect(self, rect: QRectF, limit: int) -> np.ndarray | None:
        """Indices inside ``rect`` (edges included), ascending; None as soon as more than ``limit``."""
        start = int(np.searchsorted(self.x, rect.left(), side="left"))
        stop = int(np.searchsorted(self.x, rect.right(), side="right"))
        strip = self.y[start:stop]
        inside = (strip >= rect.top()) & (strip <= rect.bottom())
        if int(np.count_nonzero(inside)) > limit:
            return None
        return np.sort(self.order[start:stop][inside]).astype(np.int64)


def nearest_to_centre(indices: np.ndarray, coords: np.ndarray, rect: QRectF, budget: int) -> np.ndarray:
    """The ``budget`` of ``indices`` nearest the centre of ``rect`` (all of them when they fit)."""
    if len(indices) <= budget:
        return indices
    centre = np.array([rect.center().x(), rect.center().y()])
    scale = np.array([max(rect.width(), 1e-12), max(rect.height(), 1e-12)])
    distance = np.sum(((coords[indices] - centre) / scale) ** 2, axis=1)
    return indices[np.argsort(distance, kind="stable")[:budget]]


class MapThumbnailItem(pg.GraphicsObject):  # type: ignore[misc]
    """Thumbnails over the points of ``cloud`` when zoomed in; see the module docstring.

    After each paint, ``visible_indices`` holds the points inside the view (empty when more than
    ``max_visible``), ``requested_indices`` those whose thumbnail was not cached yet (decode queued),
    and ``drawn_indices`` those drawn as thumbnails.
    """

    def __init__(self, loader: ThumbnailLoader, cloud: PointCloudItem, size: int = MAP_THUMB) -> None:
        super().__init__()
        self.loader = loader
        self.cloud = cloud
        self.size = size
        self.max_visible = MAX_VISIBLE
        self.draw_budget = DRAW_BUDGET
        self._path_for: Callable[[int], str] | None = None
        self._paths: dict[int, str] = {}
        self._waiting: set[str] = set()
        self._colours: dict[int, QColor] = {}
        self._ranked_order: np.ndarray | None = None
        self._rank = np.zeros(0, dtype=np.int64)
        self._index: SortedByX | None = None
        self.last_paint_ms = 0.0
        self._reset_indices()
        self._repaint = QTimer(self)
        self._repaint.setSingleShot(True)
        self._repaint.setInterval(REPAINT_COALESCE_MS)
        self._repaint.timeout.connect(self.update)
        loader.thumbnail_ready.connect(self._thumbnail_ready)

    def _reset_indices(self) -> None:
        empty = np.zeros(0, dtype=np.int64)
        self.visible_indices, self.requested_indices, self.drawn_indices = empty, empty, empty

    def set_path_for(self, path_for: Callable[[int], str] | None) -> None:
        """Where item ``index``'s image lies (a new gallery clears everything shown)."""
        self._path_for = path_for
        self._paths.clear()
        self.clear()

    def clear(self) -> None:
        """Forget what was shown and requested (a new projection: the paths stay); repaint."""
        self.prepareGeometryChange()  # the points' bounds may change next
        self._waiting.clear()
        self._reset_indices()
        self.update()

    def set_enabled(self, enabled: bool) -> None:
        """Thumbnails on or off (off: dots only at every zoom)."""
        if not enabled:
            self.clear()
        self.setVisible(enabled)

    # ------------------------------------------------------------------ geometry
    def boundingRect(self) -> QRectF:
        """The points' bounds padded by half a framed thumbnail (in data units at the current zoom)."""
        bounds = self.cloud.boundingRect()
        if bounds.isNull():
            return QRectF()
        pixel_x, pixel_y = self.pixelWidth(), self.pixelHeight()
        half = self.size / 2 + FRAME_PX
        return bounds.adjusted(-half * pixel_x, -half * pixel_y, half * pixel_x, half * pixel_y)

    def viewTransformChanged(self) -> None:
        self.prepareGeometryChange()  # the padding above is in pixels

    # ------------------------------------------------------------------ painting
    def paint(self, painter: QPainter, option: Any, widget: Any = None) -> None:
        started = time.perf_counter()
        self._reset_indices()
        view = self.getViewBox()
        coords = self.cloud.coords
        if view is None or self._path_for is None or len(coords) == 0:
            return
        rect = view.viewRect()
        if len(coords) > self.max_visible and rect.contains(self.cloud.boundingRect()):
            return  # the whole map is in view (e.g. each t-SNE layout): too many points, no search
        visible = self._spatial_index().in_rect(rect, self.max_visible)
        if visible is None or len(visible) == 0:
            return
        self.visible_indices = visible
        chosen = nearest_to_centre(visible, coords, rect, self.draw_budget)
        chosen = chosen[np.argsort(self._draw_rank()[chosen], kind="stable")]  # highlighted ones on top
        ready: list[tuple[int, QPixmap]] = []
        requested: list[int] = []
        for index in chosen.tolist():
            pixmap = self.loader.pixmap(self._path(index), self.size)
            if pixmap is None:
                requested.append(index)
                self._waiting.add(self.loader.key_for(self._path(index), self.size))
            else:
                ready.append((index, pixmap))
        self.requested_indices = np.sort(np.array(requested, dtype=np.int64))
        self._draw(painter, ready)
        self.drawn_indices = np.sort(np.array([index for index, _ in ready], dtype=np.int64))
        self.last_paint_ms = (time.perf_counter() - started) * 1000.0

    def _draw(self, painter: QPainter, ready: list[tuple[int, QPixmap]]) -> None:
        """Framed pixmaps centred on their points, in device-independent widget pixels (unscaled)."""
        if not ready:
            return
        transform = painter.worldTransform()
        device = painter.device()
        ratio = float(device.devicePixelRatioF()) if hasattr(device, "devicePixelRatioF") else 1.0
        indices = np.array([index for index, _ in ready], dtype=np.int64)
        x, y = self.cloud.coords[indices, 0], self.cloud.coords[indices, 1]
        px = transform.m11() * x + transform.m21() * y + transform.dx()
        py = transform.m12() * x + transform.m22() * y + transform.dy()
        painter.save()
        painter.resetTransform()
        frame = 2 * FRAME_PX
        for (index, pixmap), centre_x, centre_y in zip(ready, px.tolist(), py.tolist(), strict=True):
            width, height = round(pixmap.width() / ratio), round(pixmap.height() / ratio)
            left, top = round(centre_x - width / 2), round(centre_y - height / 2)
            colour = self._colour(index)
            painter.fillRect(left - FRAME_PX, top - FRAME_PX, width + frame, height + frame, colour)
            painter.drawPixmap(left, top, width, height, pixmap)  # integer overloads: no QRectF per item
        painter.restore()

    # ------------------------------------------------------------------ caches
    def _path(self, index: int) -> str:
        path = self._paths.get(index)
        if path is None:
            assert self._path_for is not None
            if len(self._paths) >= PATH_CACHE_ITEMS:
                self._paths.clear()
            path = self._paths[index] = str(self._path_for(index))
        return path

    def _colour(self, index: int) -> QColor:
        """The point's own colour (packed ARGB; the map's colours are opaque, so not premultiplied)."""
        colours = self.cloud.colours
        packed = int(colours[index]) if index < len(colours) else 0xFF8A909B
        colour = self._colours.get(packed)
        if colour is None:
            colour = self._colours[packed] = QColor.fromRgba(packed)
        return colour

    def _spatial_index(self) -> SortedByX:
        """The points sorted by x, built on first use per coordinates array (~10 ms at 100k)."""
        if self._index is None or self._index.coords is not self.cloud.coords:
            self._index = SortedByX(self.cloud.coords)
        return self._index

    def _draw_rank(self) -> np.ndarray:
        """Position of every point in the cloud's draw order (cached per order array)."""
        order = self.cloud.draw_order
        if order is not self._ranked_order:
            self._rank = np.empty(len(order), dtype=np.int64)
            self._rank[order] = np.arange(len(order))
            self._ranked_order = order
        return self._rank

    def _thumbnail_ready(self, key: str) -> None:
        if key in self._waiting:
            self._waiting.discard(key)
            self._repaint.start()
