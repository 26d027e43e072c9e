"""Boxes brushed on the map for the *t-SNE with brushed boxes* figure.

The user lassoes points on the map and chooses *Figures → Keep lasso selection as a box* (B): the
rectangle around the selected points becomes the next numbered box, drawn on the map in its colour.
Boxes live in the map's coordinates, so a new layout (another method, subspace or parameter) clears
them. :meth:`BrushBoxes.snapshot` hands the figure the map, its colouring and the boxes.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QObject, QRectF, Signal
from PySide6.QtGui import QAction, QColor, QPen
from PySide6.QtWidgets import QGraphicsRectItem

from posebrowser.figures.boxes import Box, MapInput, box_colour, points_in_box
from posebrowser.gui.state import PROJECTION_METHODS, ColourState, ProjectionState

#: Boxes one figure holds at most (each adds a collage beside the map).
MAX_BOXES = 12


class BrushBoxes(QObject):
    """The numbered boxes on the current map, their overlay on the map view and their menu actions."""

    changed = Signal()

    def __init__(self, window: Any, menu: Any) -> None:
        """``window`` is the MainWindow (session, projection view, notifier); the two actions go into
        ``menu``, the *Figures* menu."""
        super().__init__(window)
        self.window = window
        self.boxes: list[Box] = []
        self.projection: ProjectionState | None = None
        self.colours = ColourState("none", "plain", None)
        self.selection = np.zeros(0, dtype=np.int64)
        self.overlay: list[Any] = []
        session = window.session
        session.projection_changed.connect(self._projection_changed)
        session.colours_changed.connect(self._colours_changed)
        session.selection_changed.connect(self._selection_changed)
        self.keep_action = QAction("Keep lasso selection as a box", window)
        self.keep_action.setShortcut("B")
        self.keep_action.setStatusTip(
            "The rectangle around the lasso selection becomes the next numbered box of the "
            "t-SNE with brushed boxes figure"
        )
        self.keep_action.triggered.connect(self.keep_selection)
        self.clear_action = QAction("Clear boxes", window)
        self.clear_action.triggered.connect(self.clear)
        menu.addAction(self.keep_action)
        menu.addAction(self.clear_action)

    # ------------------------------------------------------------------ session → boxes
    def _projection_changed(self, state: ProjectionState | None) -> None:
        if state is None:
            return
        previous = self.projection
        self.projection = state
        if previous is not None and state.coords is not previous.coords and self.boxes:
            self.clear()
            self.window.notifier.info("The map changed: its brushed boxes were cleared.")

    def _colours_changed(self, state: ColourState) -> None:
        self.colours = state

    def _selection_changed(self, indices: Any) -> None:
        self.selection = np.asarray(indices, dtype=np.int64)

    # ------------------------------------------------------------------ user actions
    def keep_selection(self) -> Box | None:
        """Add the box around the lasso selection (None, with a message, when there is nothing to box)."""
        state = self.projection
        if state is None or not state.final:
            self.window.notifier.warning("Wait for the map to finish: boxes are kept on the final layout.")
            return None
        if len(self.boxes) >= MAX_BOXES:
            self.window.notifier.warning(f"A figure holds {MAX_BOXES} boxes at most: clear them first.")
            return None
        coords = np.asarray(state.coords)
        chosen = self.selection[(self.selection >= 0) & (self.selection < len(coords))]
        if len(chosen) == 0:
            self.window.notifier.warning("Lasso points on the map first (L): the box is drawn around them.")
            return None
        box = Box.around(f"box {len(self.boxes) + 1}", coords[chosen])
        self.add(box)
        inside = len(points_in_box(coords, box))
        self.window.notifier.info(f"Box {len(self.boxes)} kept: {inside} points inside.")
        return box

    def add(self, box: Box) -> None:
        """Append ``box`` (map coordinates) and draw it on the map."""
        self.boxes.append(box)
        self._draw(len(self.boxes), box)
        self.changed.emit()

    def clear(self) -> None:
        plot = self.window.projection_view.plot
        for item in self.overlay:
            plot.removeItem(item)
        self.overlay.clear()
        self.boxes.clear()
        self.changed.emit()

    def _draw(self, number: int, box: Box) -> None:
        colour = QColor(box_colour(number))
        rectangle = QGraphicsRectItem(QRectF(box.x0, box.y0, box.x1 - box.x0, box.y1 - box.y0))
        pen = QPen(colour)
        pen.setCosmetic(True)
        pen.setWidth(2)
        rectangle.setPen(pen)
        rectangle.setZValue(20)
        label = pg.TextItem(str(number), color="w", fill=pg.mkBrush(colour), anchor=(0, 1))
        label.setPos(box.x0, box.y1)
        label.setZValue(21)
        plot = self.window.projection_view.plot
        for item in (rectangle, label):
            plot.addItem(item, ignoreBounds=True)
            self.overlay.append(item)

    # ------------------------------------------------------------------ figure input
    def snapshot(self) -> MapInput | None:
        """The current map, its colouring and the boxes, for the figure (None before the first map)."""
        state = self.projection
        if state is None:
            return None
        coords = np.asarray(state.coords, dtype=np.float32)
        values = self.colours.values
        if values is not None and len(values) != len(coords):
            values = None
        label = self.colours.label if values is not None else "plain"
        method = dict(PROJECTION_METHODS).get(state.method, state.method)
        return MapInput(
            coords=coords,
            values=None if values is None else np.asarray(values, dtype=np.float32),
            label=label,
            categorical=bool(self.colours.categorical),
            method=method,
            boxes=tuple(self.boxes),
        )
