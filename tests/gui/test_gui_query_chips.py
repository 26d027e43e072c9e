"""Query chips stay inside the bar: long posebit chips are elided, the row scrolls to the newest term,
the wheel scrolls it, and a count says how many terms there are."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtGui import QWheelEvent
from PySide6.QtWidgets import QApplication

from posebrowser.core.query import ImageTerm, PosebitTerm, Query
from posebrowser.gui.main_window import MainWindow
from posebrowser.gui.query_bar import CHIP_TEXT_PX, QueryBar


def _long_query(window: MainWindow) -> Query:
    names = window.session.engine.vocabulary.names
    images = tuple(ImageTerm(gallery_index=i, path=None, weight=1.0) for i in range(10))
    bits = PosebitTerm(conditions=tuple((name, 1) for name in names[:6]), mode="conditional", weight=1.0)
    return Query((*images, bits))


def test_chips_scroll_to_the_newest_and_long_chips_are_elided(window: MainWindow, qtbot: Any) -> None:
    bar = QueryBar(window.query_bar.loader)  # on its own, at a width the 11 chips do not fit
    qtbot.addWidget(bar)
    bar.path_for = window.session.image_path
    bar.resize(500, 120)
    bar.show()
    bar.show_query(_long_query(window))
    qtbot.waitUntil(lambda: not bar._waiting, timeout=10_000)  # thumbnails in: the chips are final
    scroll = bar.chip_scroll.horizontalScrollBar()
    qtbot.waitUntil(lambda: scroll.maximum() > 0 and scroll.value() == scroll.maximum(), timeout=10_000)
    newest = bar.chips[-1]
    assert newest.content.width() <= CHIP_TEXT_PX + 8, "the posebit chip is elided"
    assert "\n" in newest.content.toolTip(), "its full text is the tooltip"
    assert newest.content.text().startswith("[conditional] 6 posebits: "), "the count is never elided"
    viewport = bar.chip_scroll.viewport()
    right = newest.mapTo(viewport, QPoint(newest.width() - 1, newest.height() - 1))
    assert viewport.rect().contains(right), "the newest chip is scrolled into view, whole"
    assert bar.term_count.text() == "11 terms"
    scroll = bar.chip_scroll.horizontalScrollBar()
    before = scroll.value()
    wheel = QWheelEvent(
        QPointF(10, 10),
        QPointF(10, 10),
        QPoint(),
        QPoint(0, 120),
        Qt.MouseButton.NoButton,
        Qt.KeyboardModifier.NoModifier,
        Qt.ScrollPhase.NoScrollPhase,
        False,
    )
    QApplication.sendEvent(viewport, wheel)
    assert scroll.value() < before, "the wheel scrolls the chip row back"
