"""A list view the keyboard can browse: it says when the keyboard moves its current item (arrows, Home,
End, Page keys) and when Enter is pressed on it, so the gallery and the results can inspect the item the
keyboard reaches (the query kept) and query by it on Enter."""

from __future__ import annotations

from PySide6.QtCore import QModelIndex, Qt, Signal
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import QListView


class BrowseListView(QListView):
    keyboard_moved = Signal(QModelIndex)
    keyboard_entered = Signal(QModelIndex)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        current = self.currentIndex()
        if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter) and current.isValid():
            self.keyboard_entered.emit(current)
            return
        super().keyPressEvent(event)
        if self.currentIndex() != current and self.currentIndex().isValid():
            self.keyboard_moved.emit(self.currentIndex())
