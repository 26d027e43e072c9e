from __future__ import annotations

from typing import Any

from posebrowser.gui.main_window import MainWindow


def test_click_thumbnail_shows_results(window: MainWindow, qtbot: Any) -> None:
    from PySide6.QtCore import Qt

    view = window.gallery_view
    assert view.model.rowCount() == 200
    rect = view.list.visualRect(view.index_at_row(3))
    qtbot.mouseClick(view.list.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    state = window.results_view.model.state
    assert state is not None
    assert int(state.indices[0]) == 3
    assert window.results_view.model.rowCount() == 50
    qtbot.waitUntil(lambda: window.loader.decoded_count >= 8, timeout=3000)
