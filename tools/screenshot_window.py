"""The real posebrowser window for README screenshots (dev tools under Xvfb, not shipped): the app built as
``python -m posebrowser`` builds it, over the shipped models, and helpers that wait while it works."""

from __future__ import annotations

import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any


def open_window(prefix: str, models: str | None = None) -> tuple[Any, Any, Path]:
    """(window, session, scratch folder) of a shown 1560×940 dark-themed window; its settings live in the
    scratch folder."""
    from PySide6.QtWidgets import QApplication

    from posebrowser.app import RealEngineFactory, build
    from posebrowser.gui.settings_store import SettingsStore
    from posebrowser.gui.theme import apply_dark_theme

    app = QApplication.instance() or QApplication(sys.argv[:1])
    assert isinstance(app, QApplication)
    apply_dark_theme(app)
    work = Path(tempfile.mkdtemp(prefix=prefix))
    window, session, _ = build(RealEngineFactory(models, "cpu", None), SettingsStore(work / "s.ini"))
    window.resize(1560, 940)
    window.show()
    return window, session, work


def settle(seconds: float) -> None:
    """Run the event loop for ``seconds``."""
    from PySide6.QtCore import QEventLoop, QTimer

    loop = QEventLoop()
    QTimer.singleShot(int(seconds * 1000), loop.quit)
    loop.exec()


def wait_for(condition: Callable[[], bool], limit_s: float, step_s: float = 0.1) -> None:
    """Run the event loop until ``condition`` holds or ``limit_s`` has passed."""
    waited = 0.0
    while waited < limit_s and not condition():
        settle(step_s)
        waited += step_s
