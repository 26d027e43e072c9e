"""The window fits a laptop screen, and the bottom docks (Mask, Messages, Evaluation) open compact, so the
results grid keeps its rows; each bottom tab keeps its own height: Evaluation opens tall enough for its
curves, Mask goes back to a strip."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt

from posebrowser.gui.main_window import EVALUATION_HEIGHT, MainWindow


def bottom_height(window: MainWindow) -> int:
    return max(window.docks[name].height() for name in ("mask", "log", "evaluation"))


def test_the_window_fits_a_1280_pixel_wide_screen(window: MainWindow, qtbot: Any) -> None:
    qtbot.wait(50)
    assert window.minimumSizeHint().width() <= 1280
    assert max(dock.minimumSizeHint().width() for dock in window.docks.values()) <= 500
    window.resize(1280, 720)
    qtbot.wait(50)
    assert window.width() <= 1280 and window.results_view.width() >= 400


def test_the_gallery_shows_rows_of_thumbnails_beside_the_inspector(window: MainWindow, qtbot: Any) -> None:
    window.resize(1560, 940)
    qtbot.wait(50)
    gallery, inspector = window.docks["gallery"], window.docks["inspector"]
    assert gallery.height() >= 250, "the gallery is where queries start: more than one row of thumbnails"
    assert inspector.height() >= inspector.minimumSizeHint().height()


def test_the_bottom_docks_open_compact(window: MainWindow, qtbot: Any) -> None:
    window.resize(1560, 940)
    qtbot.wait(50)
    assert window.docks["mask"].isVisible()
    assert bottom_height(window) <= 130, "the empty mask strip must not take the results' rows"


def test_each_bottom_tab_keeps_its_own_height(window: MainWindow, qtbot: Any) -> None:
    window.resize(1560, 940)
    qtbot.wait(50)
    mask_height = window.docks["mask"].height()
    window.docks["evaluation"].raise_()
    # as tall as the window lets it be, up to its own height
    qtbot.waitUntil(lambda: window.docks["evaluation"].height() >= min(EVALUATION_HEIGHT, 280), timeout=2000)
    window.docks["mask"].raise_()
    qtbot.waitUntil(lambda: abs(window.docks["mask"].height() - mask_height) <= 2, timeout=2000)
    # a height the user sets is the one the tab comes back at
    window.resizeDocks([window.docks["mask"]], [220], Qt.Orientation.Vertical)
    qtbot.waitUntil(lambda: window.docks["mask"].height() >= 180, timeout=2000)
    user_height = window.docks["mask"].height()
    window.docks["log"].raise_()
    qtbot.waitUntil(lambda: window.docks["log"].height() <= 130, timeout=2000)
    window.docks["mask"].raise_()
    qtbot.waitUntil(lambda: abs(window.docks["mask"].height() - user_height) <= 2, timeout=2000)


def test_a_floating_bottom_dock_is_left_alone(window: MainWindow, qtbot: Any) -> None:
    window.resize(1560, 940)
    qtbot.wait(50)
    dock = window.docks["evaluation"]
    dock.setFloating(True)
    dock.resize(500, 180)
    dock.show()
    qtbot.wait(50)
    assert dock.height() == 180
