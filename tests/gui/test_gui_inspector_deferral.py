"""The inspector never delays the results a click asks for, inspects only the last of fast clicks, and
works only while it is visible (with real worker threads, as in the app)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from annotated_engine import annotated_engine
from PySide6.QtCore import QEvent, QObject, Qt

from posebrowser.gui import ground_truth
from posebrowser.gui.main_window import MainWindow


@pytest.fixture
def window(make_window: Callable[..., MainWindow], tmp_path: Path) -> MainWindow:
    ground_truth.clear()
    return make_window(annotated_engine(tmp_path / "images"), synchronous=False)


def _click_gallery(window: MainWindow, qtbot: Any, row: int) -> int:
    gallery = window.gallery_view
    rect = gallery.list.visualRect(gallery.index_at_row(row))
    qtbot.mouseClick(gallery.list.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    return int(gallery.model.indices[row])


def _record_submissions(window: MainWindow, log: list[str]) -> None:
    workers = window.session.workers
    submit = workers.submit

    def recording(channel: str, *args: Any, **kwargs: Any) -> int:
        log.append(channel)
        return submit(channel, *args, **kwargs)

    workers.submit = recording  # type: ignore[method-assign]
    window.session.results_changed.connect(lambda _state: log.append("results shown"))


def _settle(window: MainWindow, qtbot: Any) -> None:
    qtbot.waitUntil(lambda: not window.session.workers.is_busy(), timeout=5000)
    qtbot.wait(150)  # the inspector's poll and paint grace
    qtbot.waitUntil(lambda: not window.session.workers.is_busy(), timeout=5000)


def test_clicking_a_then_b_fast_ends_with_b_inspected(window: MainWindow, qtbot: Any) -> None:
    _settle(window, qtbot)
    log: list[str] = []
    _record_submissions(window, log)
    first = _click_gallery(window, qtbot, 0)
    second = _click_gallery(window, qtbot, 5)
    assert first != second
    qtbot.waitUntil(
        lambda: (
            window.insight.inspector.inspection is not None
            and window.insight.inspector.inspection.index == second
        ),
        timeout=5000,
    )
    _settle(window, qtbot)
    inspection = window.insight.inspector.inspection
    assert inspection is not None and inspection.index == second
    assert f"gallery #{second}</b>" in window.insight.inspector.title.text()
    assert log.count("inspect") == 1  # one inspection for the two clicks, of the last one
    assert int(window.results_view.model.state.indices[0]) == second  # B's search won too


def test_the_inspection_starts_after_the_clicked_search_has_shown_its_results(
    window: MainWindow, qtbot: Any
) -> None:
    _settle(window, qtbot)
    log: list[str] = []
    _record_submissions(window, log)
    clicked = _click_gallery(window, qtbot, 3)
    qtbot.waitUntil(
        lambda: (
            window.insight.inspector.inspection is not None
            and window.insight.inspector.inspection.index == clicked
        ),
        timeout=5000,
    )
    assert log.index("search") < log.index("results shown") < log.index("inspect")


def test_a_hidden_inspector_computes_nothing_and_catches_up_when_shown(
    window: MainWindow, qtbot: Any
) -> None:
    dock = window.docks["inspector"]
    dock.hide()
    _settle(window, qtbot)
    log: list[str] = []
    _record_submissions(window, log)
    clicked = _click_gallery(window, qtbot, 2)
    qtbot.waitUntil(lambda: "results shown" in log, timeout=5000)
    _settle(window, qtbot)
    assert "inspect" not in log and window.insight.inspector.inspection is None
    dock.show()
    qtbot.waitUntil(
        lambda: (
            window.insight.inspector.inspection is not None
            and window.insight.inspector.inspection.index == clicked
        ),
        timeout=5000,
    )


def test_the_gallery_poses_are_aligned_when_the_gallery_opens(window: MainWindow, qtbot: Any) -> None:
    gallery = window.session.engine.gallery
    qtbot.waitUntil(lambda: ground_truth.is_prepared(gallery, "3d"), timeout=5000)


class _Paints(QObject):
    def __init__(self) -> None:
        super().__init__()
        self.count = 0

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.Paint:
            self.count += 1
        return False


def test_new_results_are_painted_before_the_other_views_react_to_them(
    make_window: Callable[..., MainWindow], tmp_path: Path, qtbot: Any
) -> None:
    """The results grid paints inside ``show_results``; the map, the inspector and the rest repaint after."""
    window = make_window(annotated_engine(tmp_path / "images"))
    qtbot.waitExposed(window)
    qtbot.wait(50)  # the first paint of the shown window
    paints = _Paints()
    window.results_view.list.viewport().installEventFilter(paints)
    seen: list[tuple[int, int]] = []
    window.session.results_changed.connect(  # connected after the results view's own slot
        lambda state: seen.append((len(state.indices), paints.count))
    )
    before = paints.count
    window.session.request_image_query(4)
    assert seen and seen[-1][0] > 0 and seen[-1][1] > before
