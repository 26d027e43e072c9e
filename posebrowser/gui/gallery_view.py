"""The gallery grid: a QListView in icon mode over a model of gallery row indices.

Smooth at 100k items because the model only stores an index array, its row count is answered on the C++
side (Qt's icon layout asks for it several times per item), item sizes are uniform, and thumbnails are
decoded lazily (only for painted items) by :class:`ThumbnailLoader`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
from PySide6.QtCore import QModelIndex, QPersistentModelIndex, QSize, Qt, QTimer, Signal
from PySide6.QtGui import QDragEnterEvent, QDropEvent, QStandardItemModel
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QHBoxLayout,
    QLabel,
    QListView,
    QVBoxLayout,
    QWidget,
)

from posebrowser.gui.browse_list import BrowseListView
from posebrowser.gui.thumbnails import PathForIndex, ThumbnailLoader

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".gif", ".tif", ".tiff", ".webp", ".ppm")
GalleryIndexRole = Qt.ItemDataRole.UserRole + 1


class GalleryModel(QStandardItemModel):
    """Rows = ``indices`` (M,) int64 into the gallery; decoration = the thumbnail at ``thumb_size``.

    A QStandardItemModel whose items are never created: it only holds the row count, in C++. Laying out
    100k icons asks the model for its row count a few hundred thousand times; a Python ``rowCount`` made
    that seconds of frozen GUI thread. ``data`` and ``flags`` stay in Python (asked for painted items)."""

    def __init__(self, loader: ThumbnailLoader, thumb_size: int = 96, parent: Any = None) -> None:
        super().__init__(parent)
        self.loader = loader
        self.thumb_size = thumb_size
        self.indices = np.zeros(0, dtype=np.int64)
        self.path_for: PathForIndex | None = None

    def set_gallery(self, path_for: PathForIndex | None, indices: np.ndarray) -> None:
        """Show rows ``indices``; an unchanged set keeps the view (and its scroll position) as it is."""
        if path_for == self.path_for and np.array_equal(indices, self.indices):
            return
        self.clear()  # a model reset: no rows, no columns
        self.path_for = path_for
        self.indices = np.asarray(indices, dtype=np.int64)
        self.setColumnCount(1)
        self.setRowCount(int(self.indices.size))

    def flags(self, index: QModelIndex | QPersistentModelIndex) -> Qt.ItemFlag:
        if not index.isValid():
            return Qt.ItemFlag.NoItemFlags
        return Qt.ItemFlag.ItemIsSelectable | Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemNeverHasChildren

    def data(
        self, index: QModelIndex | QPersistentModelIndex, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if not index.isValid() or self.path_for is None:
            return None
        gallery_index = int(self.indices[index.row()])
        if role == Qt.ItemDataRole.DecorationRole:
            pixmap = self.loader.pixmap(self.path_for(gallery_index), self.thumb_size)
            return pixmap if pixmap is not None else self.loader.placeholder(self.thumb_size)
        if role == Qt.ItemDataRole.ToolTipRole:
            name = Path(self.path_for(gallery_index)).name
            return f"#{gallery_index}  {name}\nClick to query with this image."
        if role == GalleryIndexRole:
            return gallery_index
        return None


class GalleryView(QWidget):
    """Gallery grid with split / posebit filters; emits intents only."""

    image_query_requested = Signal(int)
    inspect_requested = Signal(int)
    image_file_requested = Signal(str)
    split_requested = Signal(object)
    filter_by_posebits_requested = Signal(bool)

    def __init__(self, loader: ThumbnailLoader, parent: QWidget | None = None, thumb_size: int = 96) -> None:
        super().__init__(parent)
        self.model = GalleryModel(loader, thumb_size, self)
        self.list = BrowseListView(self)
        self.list.setViewMode(QListView.ViewMode.IconMode)
        self.list.setUniformItemSizes(True)
        self.list.setResizeMode(QListView.ResizeMode.Adjust)
        self.list.setMovement(QListView.Movement.Static)
        self.list.setIconSize(QSize(thumb_size, thumb_size))
        self.list.setGridSize(QSize(thumb_size + 8, thumb_size + 8))
        self.list.setSpacing(2)
        self.list.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.list.setVerticalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        self.list.setModel(self.model)
        self.list.clicked.connect(self._clicked)
        self.list.activated.connect(self._clicked)
        # the keyboard browses: arrows inspect the image they reach (the query kept), Enter queries by it
        self.list.keyboard_moved.connect(
            lambda index: self.inspect_requested.emit(int(self.model.data(index, GalleryIndexRole)))
        )
        self.list.keyboard_entered.connect(self._clicked)
        self.split_combo = QComboBox(self)
        for label, value in (("All splits", None), ("Train", "train"), ("Val", "val"), ("Test", "test")):
            self.split_combo.addItem(label, value)
        self.split_combo.setToolTip("Show (and search) only this split of the gallery")
        self.split_combo.currentIndexChanged.connect(
            lambda _: self.split_requested.emit(self.split_combo.currentData())
        )
        self.posebit_filter = QCheckBox("Match posebits", self)
        self.posebit_filter.setToolTip("Show only images whose annotations satisfy the ticked posebits")
        self.posebit_filter.toggled.connect(self.filter_by_posebits_requested.emit)
        self.count_label = QLabel("", self)
        bar = QHBoxLayout()
        bar.setContentsMargins(4, 4, 4, 0)
        bar.addWidget(self.split_combo)
        bar.addWidget(self.posebit_filter)
        bar.addStretch(1)
        bar.addWidget(self.count_label)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(bar)
        layout.addWidget(self.list, 1)
        self.setAcceptDrops(True)
        self._repaint = QTimer(self)
        self._repaint.setSingleShot(True)
        self._repaint.setInterval(30)
        self._repaint.timeout.connect(self.list.viewport().update)
        loader.thumbnail_ready.connect(lambda _key: self._repaint.start())

    def set_estimated(self, estimated: bool) -> None:
        """Say on the posebit filter whether the gallery's posebits were estimated from the photos."""
        self.posebit_filter.setText("Match estimated posebits" if estimated else "Match posebits")
        source = "estimated poses" if estimated else "annotations"
        self.posebit_filter.setToolTip(f"Show only images whose {source} satisfy the ticked posebits")

    def set_gallery(self, path_for: PathForIndex | None, indices: np.ndarray, total: int) -> None:
        self.model.set_gallery(path_for, indices)
        self.count_label.setText(f"{len(indices):,} of {total:,} images")

    def show_filters(self, split: str | None, by_posebits: bool) -> None:
        """Reflect the session's split and posebit filter without emitting."""
        self.split_combo.blockSignals(True)
        self.split_combo.setCurrentIndex(max(self.split_combo.findData(split), 0))
        self.split_combo.blockSignals(False)
        self.posebit_filter.blockSignals(True)
        self.posebit_filter.setChecked(by_posebits)
        self.posebit_filter.blockSignals(False)

    def index_at_row(self, row: int) -> QModelIndex:
        return self.model.index(row, 0)

    def _clicked(self, index: QModelIndex) -> None:
        if index.isValid():
            self.image_query_requested.emit(int(self.model.data(index, GalleryIndexRole)))

    # Drag-and-drop of image files from a file manager → image query.
    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        if event.mimeData().hasUrls() or event.mimeData().hasImage():
            event.acceptProposedAction()

    def dropEvent(self, event: QDropEvent) -> None:
        for url in event.mimeData().urls():
            path = url.toLocalFile()
            if path:
                self.image_file_requested.emit(path)
                event.acceptProposedAction()
                return
