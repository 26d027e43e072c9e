"""The colour bar under the map: which colour means which value of a continuous colouring."""

from __future__ import annotations

import numpy as np
from PySide6.QtGui import QImage, QPixmap
from PySide6.QtWidgets import QHBoxLayout, QLabel, QWidget

from posebrowser.gui.state import ColourState

BAR_WIDTH, BAR_HEIGHT = 220, 10


class ColourBar(QWidget):
    """Label, "near" end, the colour gradient, "far" end; hidden for plain and two-valued colourings."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.title = QLabel(self)
        self.low = QLabel("0 (near)", self)
        self.gradient = QLabel(self)
        self.high = QLabel("max (far)", self)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(4, 0, 4, 2)
        for widget in (self.title, self.low, self.gradient, self.high):
            widget.setStyleSheet("color: #8a909b;")
            layout.addWidget(widget)
        layout.addStretch(1)
        self.hide()

    def show_colouring(self, state: ColourState | None, colours: np.ndarray | None = None) -> None:
        """Show the bar for a continuous ``state`` drawn with ``colours`` ((K, 4) uint8, low → high)."""
        if state is None or state.categorical or colours is None:
            self.hide()
            return
        self.title.setText(f"{state.label}:")
        self.gradient.setPixmap(gradient_pixmap(colours))
        self.setToolTip(
            "Values are scaled to the farthest point: 0 = the query's own pose, max = the farthest pose"
        )
        self.show()


def gradient_pixmap(colours: np.ndarray, width: int = BAR_WIDTH, height: int = BAR_HEIGHT) -> QPixmap:
    """A horizontal gradient of the (K, 4) uint8 RGBA ``colours`` (first = left)."""
    columns = np.asarray(colours, dtype=np.uint8)[np.linspace(0, len(colours) - 1, width).round().astype(int)]
    rgba = np.ascontiguousarray(np.broadcast_to(columns[None, :, :], (height, width, 4)))
    image = QImage(rgba.data, width, height, width * 4, QImage.Format.Format_RGBA8888)
    return QPixmap.fromImage(image.copy())
