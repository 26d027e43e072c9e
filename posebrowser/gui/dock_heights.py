"""Each tab of a tabbed group of docks keeps its own height.

The bottom group holds *Mask* (a strip of bars), *Messages* (a few lines) and *Evaluation* (curves and a
table): one shared height would either squeeze the curves or take the results grid's rows for an empty
mask strip. :class:`TabHeights` remembers the height each tab was last shown at (or its default) and
gives it back when the tab is raised again; a floating dock is left alone.
"""

from __future__ import annotations

from PySide6.QtCore import QObject, Qt, QTimer
from PySide6.QtWidgets import QDockWidget, QMainWindow, QTabBar


class TabHeights(QObject):
    """Per-tab heights for ``docks`` (dock → default height in px) tabbed together in ``window``."""

    def __init__(self, window: QMainWindow, docks: dict[QDockWidget, int]) -> None:
        super().__init__(window)
        self.window = window
        self.heights = dict(docks)
        self.current: QDockWidget | None = None
        for dock in docks:
            dock.visibilityChanged.connect(lambda visible, dock=dock: self._visibility(dock, visible))

    def _visibility(self, dock: QDockWidget, visible: bool) -> None:
        if not visible or dock.isFloating() or dock is self.current:
            return
        previous, self.current = self.current, dock
        if previous is None:  # the first tab shown: keep the layout as built or restored
            return
        if not previous.isFloating():
            self.heights[previous] = self._group_height(previous)  # hidden, it keeps its last geometry
        QTimer.singleShot(0, lambda: self._apply(dock))

    def _group_height(self, dock: QDockWidget) -> int:
        """The height ``resizeDocks`` speaks of: the dock's own plus the tab bar's of its group."""
        for bar in self.window.findChildren(QTabBar):
            titles = {bar.tabText(index) for index in range(bar.count())}
            if bar.isVisible() and dock.windowTitle() in titles:
                return dock.height() + bar.height()
        return dock.height()

    def _apply(self, dock: QDockWidget) -> None:
        if dock is self.current and dock.isVisible() and not dock.isFloating():
            self.window.resizeDocks([dock], [self.heights[dock]], Qt.Orientation.Vertical)
