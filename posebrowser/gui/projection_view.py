"""Interactive 2-D map of the gallery embeddings (pyqtgraph).

All gallery points are one :class:`PointCloudItem` (numpy rasterisation, a few ms per frame at
100k); the small overlays (results, selection, query star) are pyqtgraph ScatterPlotItems. Hover and
click pick with a scipy cKDTree built on the worker (~0.02 ms per pick at 100k); the lasso is a
ViewBox drag. The query is a star, its results are ringed, the lasso selection is cyan.
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QEvent, QPointF, Qt, Signal
from PySide6.QtGui import QCursor
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from posebrowser.gui.colour_bar import ColourBar
from posebrowser.gui.figures import save_widget_image
from posebrowser.gui.map_thumbnails import MapThumbnailItem
from posebrowser.gui.map_widgets import HoverCard, LassoViewBox, ProjectionParameters, searchable_combo
from posebrowser.gui.point_cloud import PointCloudItem, pack_colours
from posebrowser.gui.state import (
    DISTANCE_METRICS,
    PROJECTION_METHODS,
    ColourState,
    ProjectionState,
    available_projection_methods,
)
from posebrowser.gui.theme import icon
from posebrowser.gui.thumbnails import ThumbnailLoader

PICK_RADIUS_PX = 8.0
SELECTION_COLOUR = int(pack_colours(np.array([[0, 220, 255, 255]], dtype=np.uint8))[0])
COLOUR_MAP = "viridis_r"
BASE_SIZE = 3
TITLE_CHARS = 90


def points_in_polygon(points: np.ndarray, polygon: np.ndarray) -> np.ndarray:
    """Even-odd rule: which of ``points`` (N, 2) lie inside ``polygon`` (P, 2)? Returns (N,) bool.

    Kept over ``matplotlib.path.Path.contains_points`` because it is faster here: at 100k points and a
    256-vertex lasso it takes 29 ms against matplotlib's 56 ms (43 ms with the same bounding-box
    prefilter); ``benchmarks/bench_map.py`` measures both, and a test checks they agree.
    """
    inside = np.zeros(len(points), dtype=bool)
    if len(polygon) < 3 or len(points) == 0:
        return inside
    low, high = polygon.min(axis=0), polygon.max(axis=0)
    candidates = np.flatnonzero(np.all((points >= low) & (points <= high), axis=1))
    x, y = points[candidates, 0], points[candidates, 1]
    hit = np.zeros(len(candidates), dtype=bool)
    previous = polygon[-1]
    for current in polygon:
        (xi, yi), (xj, yj) = current, previous
        if yi != yj:
            crosses = ((yi > y) != (yj > y)) & (x < (xj - xi) * (y - yi) / (yj - yi) + xi)
            hit ^= crosses
        previous = current
    inside[candidates] = hit
    return inside


def near_far_colours() -> np.ndarray:
    """(256, 4) uint8 RGBA of the continuous colouring: matplotlib's viridis reversed (near = yellow,
    far = dark purple), perceptually uniform and readable by colour-blind users."""
    global _NEAR_FAR
    if _NEAR_FAR is None:
        from matplotlib import colormaps  # imported on first use: keeps matplotlib out of the launch

        _NEAR_FAR = (colormaps[COLOUR_MAP](np.linspace(0.0, 1.0, 256)) * 255).round().astype(np.uint8)
    return _NEAR_FAR


_NEAR_FAR: np.ndarray | None = None


class ProjectionView(QWidget):
    """The projection map and its controls; emits intents only."""

    method_requested = Signal(str)
    subspace_requested = Signal(bool)
    colour_by_requested = Signal(str)
    params_requested = Signal(str, object)  # method, {parameter: value}
    image_query_requested = Signal(int)
    selection_requested = Signal(object)
    selection_query_requested = Signal()
    export_selection_requested = Signal()

    def __init__(self, loader: ThumbnailLoader, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.hover_card = HoverCard(loader, self)
        self.coords = np.zeros((0, 2), dtype=np.float32)
        self._path_for: Any = None
        self.last_pick_ms = 0.0
        self._tree: Any = None
        self._hovered = -1
        self._colours = ColourState("none", "plain", None)
        self._result_indices = np.zeros(0, dtype=np.int64)
        self._selection = np.zeros(0, dtype=np.int64)
        self._labels: dict[str, str] = {}
        self._shown: ProjectionState | None = None
        self.method = QComboBox(self)
        for value, label in available_projection_methods():
            self.method.addItem(label, value)
        self.method.setToolTip("Projection method (PCA is instant; t-SNE shows its layout as it optimises)")
        self.method.currentIndexChanged.connect(
            lambda _: self._request_method(str(self.method.currentData()))
        )
        self.colour = searchable_combo(self)
        self.colour.setToolTip(
            "Colour points by a posebit, or by ground-truth distance to the query (type to search)"
        )
        self.colour.currentIndexChanged.connect(self._colour_chosen)
        self.subspace = QCheckBox("Subspace", self)
        self.subspace.setToolTip(
            "Project the masked embedding of the ticked posebits: the posebit's "
            "subspace collapses towards the origin"
        )
        self.subspace.toggled.connect(self.subspace_requested.emit)
        self.thumbnails = QCheckBox("Thumbnails", self)
        self.thumbnails.setChecked(True)
        self.thumbnails.setToolTip(
            "Zoomed in (few points in view), draw each point as its image, framed in its colour"
        )
        self.parameters = ProjectionParameters(self)
        self.parameters.changed.connect(self.params_requested.emit)
        self.lasso = QToolButton(self)
        self.lasso.setIcon(icon("lasso"))
        self.lasso.setText("Lasso")
        self.lasso.setCheckable(True)
        self.lasso.setToolTip("Lasso: drag to select points (L)")
        self.lasso.toggled.connect(self._lasso_toggled)
        query_selection = QPushButton("Query selection", self)
        query_selection.setToolTip(
            "Add the selection to the query as one named term: the mean embedding of the selected points"
        )
        query_selection.clicked.connect(self.selection_query_requested.emit)
        self.clear_selection = QToolButton(self)
        self.clear_selection.setText("Clear selection")
        self.clear_selection.setToolTip("Clear the lasso selection")
        self.clear_selection.clicked.connect(
            lambda: self.selection_requested.emit(np.zeros(0, dtype=np.int64))
        )
        export_selection = QToolButton(self)
        export_selection.setIcon(icon("export"))
        export_selection.setToolTip("Export the selection to CSV")
        export_selection.clicked.connect(self.export_selection_requested.emit)
        self.view_box = LassoViewBox()
        self.view_box.lasso_finished.connect(self.select_polygon)
        self.plot = pg.PlotWidget(viewBox=self.view_box, background="#1a1d22")
        self.plot.hideAxis("left")
        self.plot.hideAxis("bottom")
        self.plot.setMenuEnabled(False)
        self.points = PointCloudItem(size=BASE_SIZE)
        self.plot.addItem(self.points)
        self.map_thumbnails = MapThumbnailItem(loader, self.points)
        self.map_thumbnails.setZValue(5)  # over the dots, under the selection, results and query
        self.plot.addItem(self.map_thumbnails, ignoreBounds=True)
        self.thumbnails.toggled.connect(lambda _: self._sync_thumbnails())
        self._results_item = pg.ScatterPlotItem(size=10, pen=pg.mkPen("#ffd43b", width=1.5), brush=None)
        self.selection_points = PointCloudItem(size=BASE_SIZE + 1)  # a lasso may hold 100k points
        self._query_item = pg.ScatterPlotItem(
            size=20, symbol="star", pen=pg.mkPen("#1a1d22"), brush=pg.mkBrush("#ffffff")
        )
        for z, item in ((10, self.selection_points), (11, self._results_item), (12, self._query_item)):
            item.setZValue(z)
            self.plot.addItem(item)
        self.plot.scene().sigMouseMoved.connect(self._hover)
        self.plot.scene().sigMouseClicked.connect(self._clicked)
        self.legend = QLabel("", self)
        self.legend.setStyleSheet("color: #8a909b;")
        self.colour_bar = ColourBar(self)
        # two rows, what is drawn then what to do with a selection: one row made the dock 885 px wide at
        # least, and with it the window 1,650 px, wider than most laptop screens
        drawn, selected = QHBoxLayout(), QHBoxLayout()
        drawn.setContentsMargins(4, 4, 4, 0)
        selected.setContentsMargins(4, 0, 4, 0)
        drawn.addWidget(self.method)
        drawn.addWidget(self.colour, 1)
        drawn.addWidget(self.parameters)
        for button in (
            self.subspace,
            self.thumbnails,
            self.lasso,
            query_selection,
            self.clear_selection,
            export_selection,
        ):
            selected.addWidget(button)
        selected.addStretch(1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(drawn)
        layout.addLayout(selected)
        layout.addWidget(self.plot, 1)
        layout.addWidget(self.legend)
        layout.addWidget(self.colour_bar)
        self.set_colour_choices({})

    # ------------------------------------------------------------------ inputs from the session
    @property
    def path_for(self) -> Any:
        """Gallery index → image path (hover card and map thumbnails); None before a gallery opens."""
        return self._path_for

    @path_for.setter
    def path_for(self, path_for: Any) -> None:
        self._path_for = path_for
        self.map_thumbnails.set_path_for(path_for)  # a new gallery: nothing of the old one stays

    def set_colour_choices(self, labels: dict[str, str]) -> None:
        """Fill the colour-by combo: plain, the four distances, then every posebit (name → label)."""
        self._labels = dict(labels)
        self.colour.blockSignals(True)
        self.colour.clear()
        self.colour.addItem("Colour: plain", "none")
        for name, label in DISTANCE_METRICS:
            self.colour.addItem(f"Distance to query: {label}", f"distance:{name}")
        for name, label in sorted(labels.items(), key=lambda item: item[1]):
            self.colour.addItem(f"Posebit: {label}", f"posebit:{name}")
        self.colour.blockSignals(False)

    def show_projection(self, state: ProjectionState | None) -> None:
        if state is None:
            return
        changed = state.coords is not self.coords
        self._shown = state
        self.coords = np.asarray(state.coords, dtype=np.float32)
        _select(self.method, state.method)
        if self.subspace.isChecked() != bool(state.subspace):  # e.g. after a session restore
            self.subspace.blockSignals(True)
            self.subspace.setChecked(bool(state.subspace))
            self.subspace.blockSignals(False)
        self._tree = state.picker
        point = state.query_point  # the star moves first: a star left in the old map's units
        if point is None:  # would stretch the new map's fit into a corner dot
            self._query_item.setData([], [])
        else:
            self._query_item.setData([float(point[0])], [float(point[1])])
        self._sync_thumbnails()
        if changed:
            self.map_thumbnails.clear()
            self._redraw_points()
            self._redraw_overlays()
            self.view_box.autoRange(padding=0.02, items=[self.points])
        self.plot.setTitle(self._title(state), color="#8a909b", size="9pt")

    def _sync_thumbnails(self) -> None:
        """Thumbnails when ticked, on a final map only (an optimising t-SNE moves every point per layout)."""
        final = self._shown is None or self._shown.final
        self.map_thumbnails.set_enabled(self.thumbnails.isChecked() and final)

    def _request_method(self, method: str) -> None:
        """Until the new map arrives, the title says which map is shown and which one is computing
        (a UMAP may take minutes, with nothing drawn meanwhile)."""
        shown = self._shown
        if shown is not None and shown.method != method:
            pending = f"{self._title(shown)}  (computing {self.method.currentText()}…)"
            self.plot.setTitle(pending, color="#8a909b", size="9pt")
        self.method_requested.emit(method)

    def _title(self, state: ProjectionState) -> str:
        """Method, and for a subspace map the posebits that define it (so a map of other ticks shows)."""
        title = dict(PROJECTION_METHODS).get(state.method, state.method)
        if state.subspace:
            asked = ", ".join(
                ("" if value else "not ") + self._labels.get(name, name) for name, value in state.subspace
            )
            title += f" — subspace of: {asked}"
            if len(title) > TITLE_CHARS:
                title = title[: TITLE_CHARS - 1] + "…"
        return title + ("" if state.final else "  (optimising…)")

    def show_colours(self, state: ColourState) -> None:
        self._colours = state
        _select(self.colour, state.spec)
        self._redraw_points()

    def show_results(self, indices: np.ndarray) -> None:
        self._result_indices = np.asarray(indices, dtype=np.int64)
        self._redraw_overlays()

    def show_selection(self, indices: np.ndarray) -> None:
        self._selection = np.asarray(indices, dtype=np.int64)
        self._redraw_overlays()

    # ------------------------------------------------------------------ drawing
    def _redraw_points(self) -> None:
        coords, values = self.coords, self._colours.values
        count = len(coords)
        rgba = np.empty((count, 4), dtype=np.uint8)
        order: np.ndarray | None = None
        if values is None or len(values) != count:
            rgba[:] = (138, 144, 155, 255)
            self.legend.setText("")
        elif self._colours.categorical:
            rgba[:] = (70, 74, 82, 255)
            rgba[values == 0] = (125, 131, 142, 255)
            rgba[values == 1] = (235, 80, 80, 255)
            order = np.argsort(np.nan_to_num(values, nan=-1.0), kind="stable")
            self.legend.setText(f"red: {self._colours.label}   grey: not   dark: unknown")
        else:
            lut = near_far_colours()
            bins = np.clip(
                (np.nan_to_num(values, nan=1.0) * (len(lut) - 1)).round().astype(int), 0, len(lut) - 1
            )
            rgba[:] = lut[bins]
            order = np.argsort(-np.nan_to_num(values, nan=1.0), kind="stable")
            self.legend.setText("")
        continuous = values is not None and len(values) == count and not self._colours.categorical
        self.colour_bar.show_colouring(
            self._colours if continuous else None, near_far_colours() if continuous else None
        )
        self.points.set_points(coords, pack_colours(rgba), order)

    def _redraw_overlays(self) -> None:
        results = self._result_indices[self._result_indices < len(self.coords)]
        self._results_item.setData(self.coords[results, 0], self.coords[results, 1])
        selected = self._selection[self._selection < len(self.coords)]
        colour = np.full(len(selected), SELECTION_COLOUR, dtype=np.uint32)
        self.selection_points.set_points(self.coords[selected], colour)

    # ------------------------------------------------------------------ picking
    def pick(self, x: float, y: float) -> int:
        """Nearest point to data position (x, y) within PICK_RADIUS_PX pixels, or -1."""
        if len(self.coords) == 0 or self._tree is None:  # no picking on intermediate t-SNE layouts
            return -1
        start = time.perf_counter()
        distance, index = self._tree.query((x, y))
        self.last_pick_ms = (time.perf_counter() - start) * 1000.0
        pixel = self.view_box.viewPixelSize()
        if distance > PICK_RADIUS_PX * max(pixel[0], pixel[1]):
            return -1
        return int(index)

    def scene_position_of(self, index: int) -> QPointF:
        """Scene position of point ``index`` (for tests and tooltips)."""
        point = QPointF(float(self.coords[index, 0]), float(self.coords[index, 1]))
        return QPointF(self.view_box.mapViewToScene(point))

    def _hover(self, scene_position: QPointF) -> None:
        if len(self.coords) == 0 or not self.view_box.sceneBoundingRect().contains(scene_position):
            self._hovered = -1
            self.hover_card.hide()
            return
        point = self.view_box.mapSceneToView(scene_position)
        index = self.pick(point.x(), point.y())
        if index == self._hovered:
            return
        self._hovered = index
        if index < 0 or self.path_for is None:
            self.hover_card.hide()
            return
        self.hover_card.show_item(index, str(self.path_for(index)), QCursor.pos())

    def leaveEvent(self, event: QEvent) -> None:
        self._hovered = -1
        self.hover_card.hide()
        super().leaveEvent(event)

    def _clicked(self, event: Any) -> None:
        if self.view_box.lasso_enabled or event.button() != Qt.MouseButton.LeftButton:
            return
        point = self.view_box.mapSceneToView(event.scenePos())
        index = self.pick(point.x(), point.y())
        if index >= 0:
            event.accept()
            self.image_query_requested.emit(index)

    def select_polygon(self, polygon: np.ndarray) -> None:
        """Select the points inside ``polygon`` ((P, 2) data coordinates) and emit them."""
        polygon = np.asarray(polygon, dtype=np.float64)
        if len(polygon) > 256:
            polygon = polygon[np.linspace(0, len(polygon) - 1, 256).astype(int)]
        inside = np.flatnonzero(points_in_polygon(self.coords.astype(np.float64), polygon))
        self.selection_requested.emit(inside.astype(np.int64))

    def _lasso_toggled(self, enabled: bool) -> None:
        self.view_box.lasso_enabled = enabled
        self.plot.setCursor(Qt.CursorShape.CrossCursor if enabled else Qt.CursorShape.ArrowCursor)

    def _colour_chosen(self, _position: int) -> None:
        self.colour_by_requested.emit(str(self.colour.currentData()))

    # ------------------------------------------------------------------ export
    def export_image(self, path: str) -> None:
        """Write the map as PNG or SVG (chosen by the suffix)."""
        save_widget_image(self.plot, path, "posebrowser projection")


def _select(combo: QComboBox, data: str) -> None:
    position = combo.findData(data)
    if position >= 0 and position != combo.currentIndex():
        combo.blockSignals(True)
        combo.setCurrentIndex(position)
        combo.blockSignals(False)
