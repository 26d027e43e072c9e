"""The ground-truth inspector: for one result or gallery item, the image with its 2-D skeleton, a
rotatable 3-D skeleton, the four ground-truth distances to the query, its posebits agreeing or clashing
with the query's, and why its frame is green or red (see :mod:`posebrowser.gui.inspection`)."""

from __future__ import annotations

import html
from pathlib import Path

import numpy as np
from PySide6.QtCore import QPointF, QRectF, QSize, Qt, Signal
from PySide6.QtGui import QColor, QMouseEvent, QPainter, QPaintEvent, QPixmap, QShowEvent
from PySide6.QtWidgets import (
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QSizePolicy,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from posebrowser.figures.panels import pose_for_view
from posebrowser.gui.frames import LABELS, UNITS
from posebrowser.gui.inspection import Inspection
from posebrowser.gui.skeleton_painter import fit_to_rect, image_to_rect, paint_skeleton, project_3d
from posebrowser.gui.theme import CORRECT_COLOUR, MUTED_COLOUR, WRONG_COLOUR

BACKGROUND = QColor("#1a1d22")


class SkeletonImage(QWidget):
    """The item's image, scaled to fit, with its 2-D skeleton drawn over it."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.pixmap = QPixmap()
        self.joints: np.ndarray | None = None
        self.bones_drawn = 0
        self.setMinimumSize(160, 160)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)

    def sizeHint(self) -> QSize:
        return QSize(220, 220)

    def show_item(self, path: str, joints: np.ndarray | None) -> None:
        self.pixmap = QPixmap(path) if Path(path).is_file() else QPixmap()
        self.joints = joints
        self.update()

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        painter.fillRect(self.rect(), BACKGROUND)
        self.bones_drawn = 0
        if not self.pixmap.isNull():
            size = self.pixmap.size().scaled(self.size(), Qt.AspectRatioMode.KeepAspectRatio)
            target = QRectF(
                (self.width() - size.width()) / 2,
                (self.height() - size.height()) / 2,
                size.width(),
                size.height(),
            )
            painter.drawPixmap(target, self.pixmap, QRectF(self.pixmap.rect()))
            if self.joints is not None:
                points = image_to_rect(self.joints, self.pixmap.width(), self.pixmap.height(), target)
                self.bones_drawn = paint_skeleton(painter, points, width=2.0)
        painter.end()


class Skeleton3DView(QWidget):
    """The 3-D joints as a stick figure; drag to turn it (azimuth) and tilt it (elevation)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.pose: np.ndarray | None = None
        self.azimuth, self.elevation = -20.0, 12.0
        self.bones_drawn = 0
        self._drag: QPointF | None = None
        self.setMinimumSize(160, 160)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setToolTip("3-D skeleton (pelvis-centred, facing aligned): drag to rotate")
        self.setCursor(Qt.CursorShape.OpenHandCursor)

    def sizeHint(self) -> QSize:
        return QSize(220, 220)

    def show_joints(self, joints: np.ndarray | None) -> None:
        self.pose = None if joints is None or not np.isfinite(joints).all() else pose_for_view(joints)
        self.update()

    def rotate(self, degrees_azimuth: float, degrees_elevation: float) -> None:
        self.azimuth = (self.azimuth + degrees_azimuth) % 360.0
        self.elevation = float(np.clip(self.elevation + degrees_elevation, -89.0, 89.0))
        self.update()

    def screen_points(self) -> np.ndarray | None:
        """(16, 2) widget coordinates of the joints at the current view, None without 3-D joints."""
        if self.pose is None:
            return None
        projected = project_3d(self.pose, self.azimuth, self.elevation)
        return fit_to_rect(projected, QRectF(self.rect()).adjusted(8, 8, -8, -8), reach=1.0)

    def mousePressEvent(self, event: QMouseEvent) -> None:
        self._drag = event.position()

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        if self._drag is not None:
            delta = event.position() - self._drag
            self._drag = event.position()
            self.rotate(delta.x() * 0.6, delta.y() * 0.6)

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        self._drag = None

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        painter.fillRect(self.rect(), BACKGROUND)
        points = self.screen_points()
        self.bones_drawn = 0
        if points is None:
            painter.setPen(MUTED_COLOUR)
            painter.drawText(self.rect(), Qt.AlignmentFlag.AlignCenter, "no 3-D joints")
        else:
            self.bones_drawn = paint_skeleton(painter, points, width=2.5)
            painter.setPen(MUTED_COLOUR)
            painter.drawText(
                self.rect().adjusted(4, 2, -4, -2),
                Qt.AlignmentFlag.AlignBottom | Qt.AlignmentFlag.AlignRight,
                f"az {self.azimuth:.0f}°  el {self.elevation:.0f}°",
            )
        painter.end()


def _distance_rows(inspection: Inspection) -> str:
    if not inspection.distances:
        return "<i>No ground-truth distances: the query has no annotated gallery image.</i>"
    rows = "".join(
        f"<tr><td>{html.escape(LABELS[name])}</td><td align='right'><b>{value:.3g}</b></td>"
        f"<td>{html.escape(UNITS[name])}</td></tr>"
        for name, value in inspection.distances.items()
    )
    return f"<table cellspacing='2'>{rows}</table>"


class InspectorView(QWidget):
    """The dock's content; :meth:`show_inspection` fills it. ``shown`` is emitted whenever it becomes
    visible (its dock opened or its tab raised): what changed while it was hidden is inspected then."""

    shown = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.inspection: Inspection | None = None
        self.title = QLabel("Click a result or a gallery image to inspect its ground truth.", self)
        self.title.setWordWrap(True)
        self.image = SkeletonImage(self)
        self.skeleton = Skeleton3DView(self)
        self.verdict = QLabel("", self)
        self.verdict.setWordWrap(True)
        self.distances = QLabel("", self)
        self.distances.setTextFormat(Qt.TextFormat.RichText)
        self.bits = QTreeWidget(self)
        self.bits.setColumnCount(3)
        self.bits.setHeaderLabels(["posebit", "this", "query"])
        self.bits.setRootIsDecorated(False)
        self.bits.setAlternatingRowColors(True)
        header = self.bits.header()
        header.setStretchLastSection(False)
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        for column in (1, 2):
            header.setSectionResizeMode(column, QHeaderView.ResizeMode.ResizeToContents)
        pictures = QHBoxLayout()
        pictures.addWidget(self.image)
        pictures.addWidget(self.skeleton)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self.title)
        layout.addLayout(pictures, 2)
        layout.addWidget(self.verdict)
        layout.addWidget(self.distances)
        layout.addWidget(self.bits, 3)

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        self.shown.emit()

    def show_inspection(self, inspection: Inspection) -> None:
        self.inspection = inspection
        where = "not among the results" if inspection.rank is None else f"result #{inspection.rank + 1}"
        query = f" of {inspection.query_text}" if inspection.query_text else ""
        estimated = " — <i>estimated pose</i>" if inspection.estimated else ""
        self.title.setText(
            f"<b>gallery #{inspection.index}</b> {html.escape(Path(inspection.path).name)} — "
            f"{where}{html.escape(query)}{estimated}"
        )
        self.image.show_item(inspection.path, inspection.joints_2d)
        self.skeleton.show_joints(inspection.joints_3d)
        colour = (
            MUTED_COLOUR
            if inspection.verdict is None
            else CORRECT_COLOUR
            if inspection.verdict
            else WRONG_COLOUR
        )
        self.verdict.setStyleSheet(f"color: {colour.name()};")
        self.verdict.setText(inspection.reason)
        self.distances.setText(_distance_rows(inspection))
        self._fill_bits(inspection)

    def _fill_bits(self, inspection: Inspection) -> None:
        self.bits.clear()
        words = {1: "yes", 0: "no", -1: "?"}
        items = []
        for bit in inspection.bits:
            query = "" if bit.query_value is None else words[bit.query_value]
            item = QTreeWidgetItem([bit.label, words.get(bit.value, "?"), query])
            if bit.agrees is not None:
                colour = CORRECT_COLOUR if bit.agrees else WRONG_COLOUR
                for column in range(3):
                    item.setForeground(column, colour)
                item.setToolTip(0, "agrees with the query" if bit.agrees else "clashes with the query")
            items.append(item)
        self.bits.addTopLevelItems(items)
        kind = "estimated posebit" if inspection.estimated else "posebit"
        self.bits.setHeaderLabels(
            [f"{kind} ({inspection.agreements()} agree, {inspection.clashes()} clash)", "this", "query"]
        )
