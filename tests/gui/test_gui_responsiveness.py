"""The GUI thread keeps ticking while a query and a projection run on a 100k-item gallery."""

from __future__ import annotations

import time
from typing import Any

from fake_engine import make_engine
from PySide6.QtCore import QTimer

#: The target is < 100 ms; the assertion is looser because the reference machine has two
#: cores shared by several jobs. The measured figure is printed (run with -s) and recorded.
STALL_LIMIT_S = 0.5


def test_longest_gui_stall_at_100k(make_window: Any, tmp_path: Any, qtbot: Any, record_property: Any) -> None:
    engine = make_engine(tmp_path / "big", count=100_000)
    window = make_window(engine, synchronous=False)
    session = window.session
    qtbot.waitUntil(
        lambda: session.projection is not None and window.gallery_view.model.rowCount() == 100_000,
        timeout=30000,
    )
    window.resize(1200, 800)
    qtbot.wait(100)
    engine.project_delay_s, engine.project_steps = 0.02, 25
    gaps: list[float] = []
    last = [time.perf_counter()]

    def beat() -> None:
        now = time.perf_counter()
        gaps.append(now - last[0])
        last[0] = now

    heartbeat = QTimer()
    heartbeat.setInterval(5)
    heartbeat.timeout.connect(beat)
    heartbeat.start()
    qtbot.wait(50)
    session.request_image_query(123)
    window.projection_view.method.setCurrentIndex(window.projection_view.method.findData("tsne"))
    qtbot.waitUntil(lambda: session.results is not None, timeout=10000)
    qtbot.waitUntil(
        lambda: session.projection.method == "tsne" and session.projection.query_point is not None,
        timeout=30000,
    )
    view = window.projection_view
    for index in range(0, 100_000, 10_000):
        view.pick(*view.coords[index])
    window.gallery_view.list.verticalScrollBar().setValue(5000)
    qtbot.wait(100)
    heartbeat.stop()
    longest = max(gaps[1:])
    print(
        f"\nlongest GUI-thread stall at 100k: {longest * 1000:.1f} ms over {len(gaps)} beats; "
        f"last pick {view.last_pick_ms:.3f} ms, point paint {view.points.last_paint_ms:.1f} ms"
    )
    record_property("longest_stall_ms", round(longest * 1000, 1))
    assert int(session.results.indices[0]) == 123
    assert longest < STALL_LIMIT_S
