"""GUI fixtures: a main window wired to a fake engine, offscreen, with synchronous workers by default.

To watch the tests, run them on a real display and pause after each one:
``QT_QPA_PLATFORM=xcb POSEBROWSER_GUI_PAUSE=2 pytest tests/gui``.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).parent))  # fake_engine, whatever pytest's import mode

from fake_engine import FakeEngine, make_engine

from posebrowser.app import build
from posebrowser.gui.main_window import MainWindow
from posebrowser.gui.settings_store import SettingsStore


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    here = Path(__file__).parent
    for item in items:
        if here in Path(str(item.fspath)).parents:
            item.add_marker(pytest.mark.gui)


@pytest.fixture
def fake_engine(tmp_path: Path) -> FakeEngine:
    return make_engine(tmp_path / "images", count=200)


@pytest.fixture
def make_window(qtbot: Any, tmp_path: Path) -> Iterator[Callable[..., MainWindow]]:
    """Build a shown window over ``engine``; ``synchronous`` runs jobs on the calling thread."""
    windows: list[MainWindow] = []

    def make(engine: FakeEngine, synchronous: bool = True) -> MainWindow:
        window, session, _ = build(
            lambda ctx, path: engine, SettingsStore(tmp_path / "settings.ini"), synchronous=synchronous
        )
        qtbot.addWidget(window)
        window.photo.cache_root = tmp_path / "estimates"  # photo estimates and crops stay in the test
        window.show()
        session.load()
        if not synchronous:
            qtbot.waitUntil(lambda: session.engine is not None, timeout=5000)
        windows.append(window)
        return window

    yield make
    pause_s = float(os.environ.get("POSEBROWSER_GUI_PAUSE", "0") or 0)
    if pause_s > 0:
        qtbot.wait(int(pause_s * 1000))
    for window in windows:
        window.session.workers.shutdown()


@pytest.fixture
def window(make_window: Callable[..., MainWindow], fake_engine: FakeEngine) -> MainWindow:
    return make_window(fake_engine)
