"""The map's smaller widgets: the lasso ViewBox, the hover card, the projection-parameter menu and the
searchable colour-by combo box (used by :class:`~posebrowser.gui.projection_view.ProjectionView`)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPoint, QPointF, Qt, Signal
from PySide6.QtGui import QColor, QPainterPath, QPen
from PySide6.QtWidgets import (
    QComboBox,
    QCompleter,
    QDoubleSpinBox,
    QFormLayout,
    QFrame,
    QGraphicsPathItem,
    QLabel,
    QMenu,
    QSpinBox,
    QToolButton,
    QVBoxLayout,
    QWidget,
    QWidgetAction,
)

from posebrowser.core.projection import TSNE_DEFAULTS, UMAP_DEFAULTS
from posebrowser.gui.thumbnails import ThumbnailLoader

HOVER_THUMB = 128


class LassoViewBox(pg.ViewBox):  # type: ignore[misc]
    """A ViewBox whose left-drag draws a lasso polygon while ``lasso_enabled``."""

    lasso_finished = Signal(object)

    def __init__(self) -> None:
        super().__init__(lockAspect=True)
        self.lasso_enabled = False
        self._points: list[QPointF] = []
        self._path_item = QGraphicsPathItem()
        pen = QPen(QColor("#4aa3ff"))
        pen.setCosmetic(True)
        pen.setWidth(2)
        self._path_item.setPen(pen)
        self._path_item.setZValue(100)
        self.addItem(self._path_item, ignoreBounds=True)

    def mouseDragEvent(self, ev: Any, axis: Any = None) -> None:
        if not self.lasso_enabled or ev.button() != Qt.MouseButton.LeftButton:
            super().mouseDragEvent(ev, axis)
            return
        ev.accept()
        if ev.isStart():
            self._points = [self.mapToView(ev.buttonDownPos())]
        self._points.append(self.mapToView(ev.pos()))
        path = QPainterPath(self._points[0])
        for point in self._points[1:]:
            path.lineTo(point)
        self._path_item.setPath(path)
        if ev.isFinish():
            polygon = np.array([(p.x(), p.y()) for p in self._points], dtype=np.float64)
            self._path_item.setPath(QPainterPath())
            self._points = []
            self.lasso_finished.emit(polygon)


class HoverCard(QFrame):
    """A tooltip-like card with the hovered point's thumbnail (from the shared, async loader)."""

    def __init__(self, loader: ThumbnailLoader, parent: QWidget | None = None) -> None:
        super().__init__(parent, Qt.WindowType.ToolTip)
        self.loader = loader
        self.image = QLabel(self)
        self.caption = QLabel(self)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self.image)
        layout.addWidget(self.caption)
        self._waiting = ""
        self._path = ""
        loader.thumbnail_ready.connect(self._ready)

    def show_item(self, index: int, path: str, global_position: QPoint) -> None:
        self._path = path
        pixmap = self.loader.pixmap(path, HOVER_THUMB)
        if pixmap is None:
            self._waiting = self.loader.key_for(path, HOVER_THUMB)
            pixmap = self.loader.placeholder(HOVER_THUMB)
        self.image.setPixmap(pixmap)
        self.caption.setText(f"#{index}  {Path(path).name}")
        self.adjustSize()
        self.move(global_position + QPoint(16, 16))
        self.show()

    def _ready(self, key: str) -> None:
        if key == self._waiting and self.isVisible():
            self._waiting = ""
            pixmap = self.loader.pixmap(self._path, HOVER_THUMB)
            if pixmap is not None:
                self.image.setPixmap(pixmap)


class ProjectionParameters(QToolButton):
    """A menu button with the projections' main parameters: t-SNE perplexity and UMAP neighbours."""

    changed = Signal(str, object)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setText("Parameters")
        self.setToolTip(
            "Projection parameters (t-SNE perplexity, UMAP neighbours); maps are cached per value"
        )
        self.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        self.perplexity = QDoubleSpinBox()
        self.perplexity.setRange(2.0, 200.0)
        self.perplexity.setDecimals(0)
        self.perplexity.setValue(float(TSNE_DEFAULTS["perplexity"]))
        self.perplexity.setToolTip("t-SNE perplexity: about how many neighbours each point attends to")
        self.neighbours = QSpinBox()
        self.neighbours.setRange(2, 200)
        self.neighbours.setValue(int(UMAP_DEFAULTS["n_neighbors"]))
        self.neighbours.setToolTip("UMAP neighbours: small = local detail, large = global layout")
        form = QFormLayout()
        form.addRow("t-SNE perplexity", self.perplexity)
        form.addRow("UMAP neighbours", self.neighbours)
        panel = QWidget()
        panel.setLayout(form)
        action = QWidgetAction(self)
        action.setDefaultWidget(panel)
        menu = QMenu(self)
        menu.addAction(action)
        self.setMenu(menu)
        self.perplexity.editingFinished.connect(
            lambda: self.changed.emit("tsne", {"perplexity": float(self.perplexity.value())})
        )
        self.neighbours.editingFinished.connect(
            lambda: self.changed.emit("umap", {"n_neighbors": int(self.neighbours.value())})
        )


def searchable_combo(parent: QWidget) -> QComboBox:
    """A combo box whose entries can be searched by typing any part of them (the colour-by list has a
    posebit per entry, 178 with the shipped vocabulary); typing never adds an entry."""
    combo = QComboBox(parent)
    combo.setEditable(True)
    combo.setInsertPolicy(QComboBox.InsertPolicy.NoInsert)
    combo.setMinimumContentsLength(24)
    combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
    completer, line = combo.completer(), combo.lineEdit()
    assert completer is not None and line is not None  # an editable combo has both
    completer.setFilterMode(Qt.MatchFlag.MatchContains)
    completer.setCompletionMode(QCompleter.CompletionMode.PopupCompletion)
    completer.setCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
    line.setPlaceholderText("Colour by… (type to search)")
    line.editingFinished.connect(lambda: line.setText(combo.currentText()))  # no half-typed leftovers
    return combo
