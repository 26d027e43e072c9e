"""Ranked results: thumbnails with rank and distance, a green/red frame for correctness against the
ground truth (as in the thesis figures), and chips for the asked posebits the result agrees or clashes
with. Click re-queries; the context menu adds a result to the query as a + or − term."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import (
    QAbstractListModel,
    QModelIndex,
    QPersistentModelIndex,
    QPoint,
    QRect,
    QSize,
    Qt,
    QTimer,
    Signal,
)
from PySide6.QtGui import QColor, QGuiApplication, QPainter, QPaintEvent, QPen
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QLabel,
    QListView,
    QMenu,
    QSpinBox,
    QStyle,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QVBoxLayout,
    QWidget,
)

from posebrowser.gui.figures import save_widget_image
from posebrowser.gui.state import ResultsState
from posebrowser.gui.theme import CORRECT_COLOUR, MUTED_COLOUR, WRONG_COLOUR
from posebrowser.gui.thumbnails import ThumbnailLoader

RowRole = Qt.ItemDataRole.UserRole + 1
THUMB = 112
FRAME = 4
TEXT_HEIGHT = 30


class ResultsModel(QAbstractListModel):
    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self.state: ResultsState | None = None

    def set_state(self, state: ResultsState | None) -> None:
        self.beginResetModel()
        self.state = state
        self.endResetModel()

    def rowCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() or self.state is None else len(self.state.paths)

    def data(
        self, index: QModelIndex | QPersistentModelIndex, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        state = self.state
        if state is None or not index.isValid():
            return None
        row = index.row()
        if role == RowRole:
            return row
        if role == Qt.ItemDataRole.ToolTipRole:
            lines = [
                f"rank {row + 1}: gallery #{int(state.indices[row])}  {Path(state.paths[row]).name}",
                f"distance {float(state.distances[row]):.4f}",
            ]
            if state.correct is not None:
                verdict = "correct" if state.correct[row] else "wrong"
                lines.append(f"{verdict} (criterion: {state.correct_meaning})")
            for column, label in enumerate(state.chip_labels):
                mark = {1: "agrees", 0: "clashes", -1: "unknown"}[int(state.chip_agree[row, column])]
                lines.append(f"{'' if state.chip_values[column] else 'not '}{label}: {mark}")
            lines.append("Click to query with it; right-click to add it to the query.")
            return "\n".join(lines)
        return None


class ResultDelegate(QStyledItemDelegate):
    """Paints thumbnail + frame + "#rank  distance" + agree/clash chips."""

    def __init__(self, model: ResultsModel, loader: ThumbnailLoader, parent: Any = None) -> None:
        super().__init__(parent)
        self.model = model
        self.loader = loader

    def sizeHint(self, option: QStyleOptionViewItem, index: QModelIndex | QPersistentModelIndex) -> QSize:
        return QSize(THUMB + 2 * FRAME + 6, THUMB + 2 * FRAME + TEXT_HEIGHT)

    def paint(
        self, painter: QPainter, option: QStyleOptionViewItem, index: QModelIndex | QPersistentModelIndex
    ) -> None:
        state = self.model.state
        if state is None:
            return
        row = index.row()
        rect: QRect = option.rect
        painter.save()
        if option.state & QStyle.StateFlag.State_MouseOver:
            painter.fillRect(rect, QColor("#2a2f37"))
        frame = QRect(rect.x() + 3, rect.y() + 2, THUMB + 2 * FRAME, THUMB + 2 * FRAME)
        if state.correct is not None:
            painter.fillRect(frame, CORRECT_COLOUR if state.correct[row] else WRONG_COLOUR)
        pixmap = self.loader.pixmap(state.paths[row], THUMB) or self.loader.placeholder(THUMB)
        target = frame.adjusted(FRAME, FRAME, -FRAME, -FRAME)
        scaled = pixmap.size().scaled(target.size(), Qt.AspectRatioMode.KeepAspectRatio)
        painter.drawPixmap(
            QRect(target.center() - QPoint(scaled.width() // 2, scaled.height() // 2), scaled), pixmap
        )
        painter.setPen(QColor("#d7dae0"))
        text_rect = QRect(rect.x() + 3, frame.bottom() + 2, frame.width(), 14)
        painter.drawText(
            text_rect, Qt.AlignmentFlag.AlignLeft, f"#{row + 1}  d={float(state.distances[row]):.3f}"
        )
        chip_y = text_rect.bottom() + 3
        for column in range(min(len(state.chip_names), 12)):
            agree = int(state.chip_agree[row, column])
            colour = CORRECT_COLOUR if agree == 1 else WRONG_COLOUR if agree == 0 else MUTED_COLOUR
            painter.setPen(QPen(colour.darker(130)))
            painter.setBrush(colour)
            painter.drawRoundedRect(QRect(rect.x() + 4 + column * 10, chip_y, 8, 8), 2, 2)
        painter.restore()


class HintListView(QListView):
    """A list view that paints a hint while it has no rows."""

    def __init__(self, hint: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.hint = hint

    def paintEvent(self, event: QPaintEvent) -> None:
        super().paintEvent(event)
        model = self.model()
        if model is None or model.rowCount() == 0:
            painter = QPainter(self.viewport())
            painter.setPen(MUTED_COLOUR)
            area = self.viewport().rect().adjusted(24, 0, -24, 0)
            flags = Qt.AlignmentFlag.AlignCenter | Qt.TextFlag.TextWordWrap
            painter.drawText(area, int(flags), self.hint)
            painter.end()


class ResultsView(QWidget):
    """Ranked result grid; emits intents only."""

    image_query_requested = Signal(int)
    add_term_requested = Signal(int, float)
    count_requested = Signal(int)

    def __init__(self, loader: ThumbnailLoader, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.model = ResultsModel(self)
        self.list = HintListView(
            "Click a gallery image, tick posebits, drop an image here or type a query above.", self
        )
        self.list.setViewMode(QListView.ViewMode.IconMode)
        self.list.setUniformItemSizes(True)
        self.list.setResizeMode(QListView.ResizeMode.Adjust)
        self.list.setMovement(QListView.Movement.Static)
        self.list.setMouseTracking(True)
        self.list.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.list.setModel(self.model)
        self.list.setItemDelegate(ResultDelegate(self.model, loader, self.list))
        self.list.clicked.connect(self._clicked)
        self.list.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.list.customContextMenuRequested.connect(self._context_menu)
        self.count = QSpinBox(self)
        self.count.setRange(1, 1000)
        self.count.setValue(50)
        self.count.setToolTip("How many results a query returns")
        self.count.editingFinished.connect(lambda: self.count_requested.emit(int(self.count.value())))
        self.legend = QLabel("", self)
        self.legend.setWordWrap(True)
        self.legend.setToolTip("What the coloured frames mean for the current query")
        header = QHBoxLayout()
        header.setContentsMargins(4, 2, 4, 2)
        header.addWidget(QLabel("Results:", self))
        header.addWidget(self.count)
        header.addWidget(self.legend, 1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(header)
        layout.addWidget(self.list)
        self._repaint = QTimer(self)
        self._repaint.setSingleShot(True)
        self._repaint.setInterval(30)
        self._repaint.timeout.connect(self.list.viewport().update)
        loader.thumbnail_ready.connect(lambda _key: self._repaint.start())

    def show_results(self, state: ResultsState | None) -> None:
        self.model.set_state(state)
        meaning = None if state is None or state.correct is None else state.correct_meaning
        self.legend.setText(
            "" if meaning is None else f"green frame: {meaning}; red: not (hover a result for its distances)"
        )

    def gallery_index(self, row: int) -> int:
        assert self.model.state is not None
        return int(self.model.state.indices[row])

    def _clicked(self, index: QModelIndex) -> None:
        if index.isValid():
            self.image_query_requested.emit(self.gallery_index(index.row()))

    def _context_menu(self, position: QPoint) -> None:
        index = self.list.indexAt(position)
        if not index.isValid() or self.model.state is None:
            return
        gallery_index = self.gallery_index(index.row())
        path = self.model.state.paths[index.row()]
        menu = QMenu(self)
        menu.addAction("Query with this image", lambda: self.image_query_requested.emit(gallery_index))
        menu.addAction("Add to query as + term", lambda: self.add_term_requested.emit(gallery_index, 1.0))
        menu.addAction("Add to query as − term", lambda: self.add_term_requested.emit(gallery_index, -1.0))
        menu.addSeparator()
        menu.addAction("Copy file path", lambda: QGuiApplication.clipboard().setText(path))
        menu.exec(self.list.viewport().mapToGlobal(position))

    def export_image(self, path: str) -> None:
        """Write the visible results grid as PNG or SVG (chosen by the suffix)."""
        save_widget_image(self.list.viewport(), path, "posebrowser results")
