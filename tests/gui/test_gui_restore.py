"""Restoring a session: checked first, applied all or nothing, one message either way."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from posebrowser.gui import session_io
from posebrowser.gui.main_window import MainWindow
from posebrowser.gui.notifications import Level


def _saved(window: MainWindow, tmp_path: Path, **changes: Any) -> Path:
    """A session file of ``window``'s state with ``changes`` (``settings`` entries merged)."""
    session = window.session
    session.set_split("val")
    session.request_image_query(3)
    path = tmp_path / "state.pbsession.json"
    session_io.save_session(session, path)
    data = json.loads(path.read_text())
    data["settings"].update(changes.pop("settings", {}))
    data.update(changes)
    path.write_text(json.dumps(data))
    session.set_split(None)
    session.request_image_query(7)
    window.notifier.history.clear()
    return path


def _restore_from_menu(window: MainWindow, path: Path, monkeypatch: Any) -> None:
    monkeypatch.setattr(window, "_open_path", lambda *args: str(path))
    window.restore_session()


def test_missing_gallery_restores_nothing_with_one_error(
    window: MainWindow, tmp_path: Path, monkeypatch: Any
) -> None:
    path = _saved(window, tmp_path, gallery="moved_away", settings={"k": 20})
    _restore_from_menu(window, path, monkeypatch)
    assert len(window.notifier.history) == 1
    level, text = window.notifier.history[0]
    assert level is Level.ERROR and "moved_away" in text and "does not exist" in text
    session = window.session
    assert session.settings.k == 50 and session.settings.split is None
    assert session.query.terms[0].gallery_index == 7
    assert session.gallery_path == str(tmp_path / "images")


def test_an_invalid_field_changes_nothing(window: MainWindow, tmp_path: Path, monkeypatch: Any) -> None:
    path = _saved(window, tmp_path, settings={"k": 5000})  # split "val" precedes the bad k
    _restore_from_menu(window, path, monkeypatch)
    assert [level for level, _ in window.notifier.history] == [Level.ERROR]
    assert window.session.settings.split is None and window.session.settings.k == 50


def test_a_good_session_says_restored_once(window: MainWindow, tmp_path: Path, monkeypatch: Any) -> None:
    path = _saved(window, tmp_path)
    _restore_from_menu(window, path, monkeypatch)
    assert window.notifier.history == [(Level.INFO, f"Session restored from {path}.")]
    assert window.session.settings.split == "val" and window.session.query.terms[0].gallery_index == 3
