"""The map's point layer paints in draw order from arrays it re-orders on every points or colours change."""

from __future__ import annotations

from typing import Any

import numpy as np
import pyqtgraph as pg
from PySide6.QtGui import QColor

from posebrowser.gui.point_cloud import PointCloudItem, pack_colours

RED, BLUE, GREEN = (230, 40, 40, 255), (40, 60, 230, 255), (40, 200, 60, 255)


def _centre_colour(plot: Any) -> tuple[int, int, int]:
    image = plot.grab().toImage()
    viewport = plot.viewport()
    centre = viewport.mapTo(plot, viewport.rect().center())
    colour = QColor(image.pixel(centre))
    return colour.red(), colour.green(), colour.blue()


def test_later_points_in_draw_order_are_painted_on_top(qtbot: Any) -> None:
    plot = pg.PlotWidget(background="#000000")
    qtbot.addWidget(plot)
    plot.resize(200, 200)
    plot.hideAxis("left")
    plot.hideAxis("bottom")
    cloud = PointCloudItem(size=5)
    plot.addItem(cloud)
    coords = np.array([[0.0, 0.0], [0.0, 0.0], [-1.0, -1.0], [1.0, 1.0]])  # 0 and 1 share the centre
    colours = pack_colours(np.array([RED, BLUE, RED, RED], dtype=np.uint8))
    cloud.set_points(coords, colours)
    plot.getPlotItem().getViewBox().setRange(xRange=(-1.5, 1.5), yRange=(-1.5, 1.5), padding=0)
    plot.show()
    qtbot.waitExposed(plot)
    assert _centre_colour(plot) == BLUE[:3], "point 1 is drawn after point 0"
    cloud.set_colours(colours, draw_order=np.array([1, 0, 2, 3]))
    assert _centre_colour(plot) == RED[:3], "a new draw order puts point 0 on top"
    cloud.set_colours(pack_colours(np.array([GREEN, BLUE, RED, RED], dtype=np.uint8)))
    assert _centre_colour(plot) == GREEN[:3], "new colours, same order"
    cloud.set_points(coords[::-1].copy(), pack_colours(np.array([RED, RED, GREEN, BLUE], dtype=np.uint8)))
    assert _centre_colour(plot) == BLUE[:3], "new points, default order: point 3 on top"
