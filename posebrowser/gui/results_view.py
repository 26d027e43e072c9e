"""Ranked results: thumbnails with rank and distance, a green/red frame for correctness against the
ground truth (as in the thesis figures), and chips for the asked posebits the result agrees or clashes
with. Click re-queries (and shows the result in the inspector); the context menu adds a result to the
query as a + or − term. The frame criterion (true k nearest, a ground-truth distance threshold, the asked
posebits) is the user's choice; 2-D skeletons can be drawn over every thumbnail."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import (
    QAbstractListModel,
    QModelIndex,
    QPersistentModelIndex,
    QPoint,
    QRect,
    QRectF,
    QSize,
    Qt,
    QTimer,
    Signal,
)
from PySide6.QtGui import QColor, QGuiApplication, QImageReader, QPainter, QPaintEvent, QPen
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
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

from posebrowser.gui.browse_list import BrowseListView
from posebrowser.gui.figures import save_widget_image
from posebrowser.gui.frames import CRITERIA, DEFAULT_THRESHOLDS, UNITS, FrameCriterion, Frames, frames_for
from posebrowser.gui.skeleton_painter import image_to_rect, paint_skeleton
from posebrowser.gui.state import DISTANCE_METRICS, ResultsState
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
        self.frames = Frames(None, "no query")

    def set_state(self, state: ResultsState | None, frames: Frames) -> None:
        self.beginResetModel()
        self.state, self.frames = state, frames
        self.endResetModel()

    def set_frames(self, frames: Frames) -> None:
        """New verdicts for the same results (the criterion changed): repaint, no reset."""
        self.frames = frames
        if self.rowCount():
            self.dataChanged.emit(self.index(0, 0), self.index(self.rowCount() - 1, 0))

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
            correct = self.frames.correct
            if correct is not None:
                verdict = "green" if correct[row] else "red"
                lines.append(f"{verdict} frame (green: {self.frames.meaning})")
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
        self.gallery: Any = None
        self.show_skeletons = False
        self._image_sizes: dict[str, tuple[int, int]] = {}

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
        correct = self.model.frames.correct
        if correct is not None:
            painter.fillRect(frame, CORRECT_COLOUR if correct[row] else WRONG_COLOUR)
        pixmap = self.loader.pixmap(state.paths[row], THUMB) or self.loader.placeholder(THUMB)
        target = frame.adjusted(FRAME, FRAME, -FRAME, -FRAME)
        scaled = pixmap.size().scaled(target.size(), Qt.AspectRatioMode.KeepAspectRatio)
        drawn = QRect(target.center() - QPoint(scaled.width() // 2, scaled.height() // 2), scaled)
        painter.drawPixmap(drawn, pixmap)
        if self.show_skeletons:
            self._paint_skeleton(painter, state, row, drawn)
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

    def _paint_skeleton(self, painter: QPainter, state: ResultsState, row: int, drawn: QRect) -> None:
        joints = getattr(self.gallery, "joints_2d", None)
        if joints is None:
            return
        path = state.paths[row]
        size = self._image_sizes.get(path)
        if size is None:  # the joints are in the stored image's pixels; its header tells its size
            found = QImageReader(path).size()
            size = (found.width(), found.height()) if found.isValid() else (drawn.width(), drawn.height())
            self._image_sizes[path] = size
        points = image_to_rect(joints[int(state.indices[row])], size[0], size[1], QRectF(drawn))
        paint_skeleton(painter, points, width=1.2, dots=False)


class HintListView(BrowseListView):
    """A keyboard-browsable list view that paints a hint while it has no rows."""

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
    inspect_requested = Signal(int)
    criterion_changed = Signal(object)

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
        self.delegate = ResultDelegate(self.model, loader, self.list)
        self.list.setItemDelegate(self.delegate)
        self.list.clicked.connect(self._clicked)
        # the keyboard browses: arrows inspect the result they reach (the query kept), Enter queries by it
        self.list.keyboard_moved.connect(self._inspect_index)
        self.list.keyboard_entered.connect(self._clicked)
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
        self._build_criterion(header)
        header.addStretch(1)
        self.legend.setContentsMargins(6, 0, 6, 2)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(header)
        layout.addWidget(self.legend)
        layout.addWidget(self.list)
        self._repaint = QTimer(self)
        self._repaint.setSingleShot(True)
        self._repaint.setInterval(30)
        self._repaint.timeout.connect(self.list.viewport().update)
        loader.thumbnail_ready.connect(lambda _key: self._repaint.start())

    def _build_criterion(self, header: QHBoxLayout) -> None:
        self.criterion_kind = QComboBox(self)
        for value, label in CRITERIA:
            self.criterion_kind.addItem(label, value)
        self.criterion_kind.setToolTip("What makes a result's frame green")
        self.criterion_metric = QComboBox(self)
        for value, label in DISTANCE_METRICS:
            self.criterion_metric.addItem(label, value)
        self.criterion_metric.setCurrentIndex(self.criterion_metric.findData("3d"))
        self.criterion_threshold = QDoubleSpinBox(self)
        self.criterion_threshold.setDecimals(3)
        self.criterion_threshold.setRange(0.0, 1e6)
        self.criterion_threshold.setValue(DEFAULT_THRESHOLDS["3d"])
        self.criterion_threshold.setSuffix(f" {UNITS['3d']}")
        self.skeletons = QCheckBox("Skeletons", self)
        self.skeletons.setToolTip("Draw each result's 2-D skeleton over its thumbnail")
        self.skeletons.toggled.connect(self.set_show_skeletons)
        self.criterion_kind.currentIndexChanged.connect(self._criterion_edited)
        self.criterion_metric.currentIndexChanged.connect(self._metric_chosen)
        self.criterion_threshold.valueChanged.connect(self._criterion_edited)
        header.addWidget(QLabel("Green:", self))
        for widget in (self.criterion_kind, self.criterion_metric, self.criterion_threshold, self.skeletons):
            header.addWidget(widget)
        self._show_threshold_widgets()

    @property
    def gallery(self) -> Any:
        return self.delegate.gallery

    @gallery.setter
    def gallery(self, gallery: Any) -> None:
        self.delegate.gallery = gallery
        self.delegate._image_sizes.clear()

    def criterion(self) -> FrameCriterion:
        return FrameCriterion(
            kind=str(self.criterion_kind.currentData()),
            metric=str(self.criterion_metric.currentData()),
            threshold=float(self.criterion_threshold.value()),
        )

    def set_criterion(self, criterion: FrameCriterion) -> None:
        for widget in (self.criterion_kind, self.criterion_metric, self.criterion_threshold):
            widget.blockSignals(True)
        self.criterion_kind.setCurrentIndex(max(0, self.criterion_kind.findData(criterion.kind)))
        self.criterion_metric.setCurrentIndex(max(0, self.criterion_metric.findData(criterion.metric)))
        self.criterion_threshold.setSuffix(f" {UNITS.get(criterion.metric, '')}")
        self.criterion_threshold.setValue(criterion.threshold)
        for widget in (self.criterion_kind, self.criterion_metric, self.criterion_threshold):
            widget.blockSignals(False)
        self._criterion_edited()

    def _metric_chosen(self) -> None:
        metric = str(self.criterion_metric.currentData())
        self.criterion_threshold.blockSignals(True)
        self.criterion_threshold.setSuffix(f" {UNITS[metric]}")
        self.criterion_threshold.setSingleStep(DEFAULT_THRESHOLDS[metric] / 10)
        self.criterion_threshold.setValue(DEFAULT_THRESHOLDS[metric])
        self.criterion_threshold.blockSignals(False)
        self._criterion_edited()

    def _show_threshold_widgets(self) -> None:
        threshold = self.criterion_kind.currentData() == "threshold"
        self.criterion_metric.setVisible(threshold)
        self.criterion_threshold.setVisible(threshold)

    def _criterion_edited(self) -> None:
        self._show_threshold_widgets()
        if self.model.state is not None:
            self._apply_frames(self.model.state, reset=False)
        self.criterion_changed.emit(self.criterion())

    def set_show_skeletons(self, on: bool) -> None:
        self.delegate.show_skeletons = bool(on)
        if self.skeletons.isChecked() != bool(on):
            self.skeletons.setChecked(bool(on))
        self.list.viewport().update()

    def _apply_frames(self, state: ResultsState, reset: bool) -> None:
        frames = frames_for(self.gallery, state, self.criterion())
        if reset:
            self.model.set_state(state, frames)
        else:
            self.model.set_frames(frames)
        self.legend.setText(frames.legend() + " (hover a result for details; click it to inspect)")

    def show_results(self, state: ResultsState | None) -> None:
        """Show a new answer, painted at once: on screen before the slower views that the same answer
        changes (the map with 100k points, the inspector) repaint."""
        if state is None:
            self.model.set_state(None, Frames(None, "no query"))
            self.legend.setText("")
            return
        self._apply_frames(state, reset=True)
        if self.list.isVisible():
            self.list.doItemsLayout()
            self.list.viewport().repaint()

    def frames(self) -> Frames:
        return self.model.frames

    def gallery_index(self, row: int) -> int:
        assert self.model.state is not None
        return int(self.model.state.indices[row])

    def _inspect_index(self, index: QModelIndex) -> None:
        self.inspect_requested.emit(self.gallery_index(index.row()))

    def _clicked(self, index: QModelIndex) -> None:
        if index.isValid():
            self.inspect_requested.emit(self.gallery_index(index.row()))
            self.image_query_requested.emit(self.gallery_index(index.row()))

    def _context_menu(self, position: QPoint) -> None:
        index = self.list.indexAt(position)
        if not index.isValid() or self.model.state is None:
            return
        gallery_index = self.gallery_index(index.row())
        path = self.model.state.paths[index.row()]
        menu = QMenu(self)
        menu.addAction("Inspect (keep the query)", lambda: self.inspect_requested.emit(gallery_index))
        menu.addAction("Query with this image", lambda: self.image_query_requested.emit(gallery_index))
        menu.addAction("Add to query as + term", lambda: self.add_term_requested.emit(gallery_index, 1.0))
        menu.addAction("Add to query as − term", lambda: self.add_term_requested.emit(gallery_index, -1.0))
        menu.addSeparator()
        menu.addAction("Copy file path", lambda: QGuiApplication.clipboard().setText(path))
        menu.exec(self.list.viewport().mapToGlobal(position))

    def export_image(self, path: str) -> None:
        """Write the visible results grid as PNG or SVG (chosen by the suffix)."""
        save_widget_image(self.list.viewport(), path, "posebrowser results")
