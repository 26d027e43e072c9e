"""The mask strip: 128 bars of a mask's weights clipped to [0, 1]; weights ≤ 0.3 (the dimensions the
mask collapses) in red, the rest in blue — the thesis' mask bar plot, drawn live."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QRectF, QSize, Qt
from PySide6.QtGui import QColor, QPainter, QPaintEvent
from PySide6.QtWidgets import QSizePolicy, QWidget

COLLAPSED_AT = 0.3
KEPT_COLOUR = QColor(74, 163, 255, 190)
COLLAPSED_COLOUR = QColor(224, 96, 94, 190)


class MaskView(QWidget):
    """Shows one (D,) float mask (D = 128 for the shipped models), or a hint when there is none."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.values: np.ndarray | None = None
        self.setMinimumHeight(60)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)
        self.setToolTip(
            "Mask of the current posebit query: bar height = weight of each embedding "
            f"dimension; red = collapsed (≤ {COLLAPSED_AT})."
        )

    def sizeHint(self) -> QSize:
        return QSize(400, 90)

    def show_mask(self, mask: np.ndarray | None) -> None:
        self.values = None if mask is None else np.clip(np.asarray(mask, dtype=np.float32).ravel(), 0.0, 1.0)
        self.update()

    def collapsed_dimensions(self) -> np.ndarray:
        """Indices of dimensions drawn red: (M,) int64."""
        if self.values is None:
            return np.zeros(0, dtype=np.int64)
        return np.flatnonzero(self.values <= COLLAPSED_AT).astype(np.int64)

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        painter.fillRect(self.rect(), QColor("#1a1d22"))
        if self.values is None or self.values.size == 0:
            painter.setPen(QColor("#6b717c"))
            painter.drawText(
                self.rect(),
                Qt.AlignmentFlag.AlignCenter,
                "No mask: ask posebits with the “Mask origin” method to see one.",
            )
            painter.end()
            return
        margin = 6.0
        width = (self.width() - 2 * margin) / self.values.size
        height = self.height() - 2 * margin
        painter.setPen(Qt.PenStyle.NoPen)
        for dimension, value in enumerate(self.values):
            painter.setBrush(COLLAPSED_COLOUR if value <= COLLAPSED_AT else KEPT_COLOUR)
            bar = float(value) * height
            painter.drawRect(
                QRectF(margin + dimension * width, margin + height - bar, max(width - 1.0, 1.0), bar)
            )
        painter.setPen(QColor("#8a909b"))
        collapsed = int((self.values <= COLLAPSED_AT).sum())
        painter.drawText(
            self.rect().adjusted(8, 4, -8, -4),
            Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignRight,
            f"{collapsed}/{self.values.size} collapsed",
        )
        painter.end()
