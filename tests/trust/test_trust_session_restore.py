"""Restoring a hand-edited or damaged session file into a live window: every problem is a typed,
user-readable error (DataError / QueryError), never a TypeError from deep inside."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "gui"))
import fake_engine

from posebrowser.errors import PosebrowserError

BAD_PARTS: dict[str, dict[str, Any]] = {
    "weight_string": {"query": [{"type": "image", "gallery_index": 1, "weight": "abc"}]},
    "index_out_of_range": {"query": [{"type": "image", "gallery_index": 10**9}]},
    "index_string": {"query": [{"type": "image", "gallery_index": "7"}]},
    "conditions_not_pairs": {"query": [{"type": "posebits", "conditions": [1, 2]}]},
    "conditions_unknown_bit": {"query": [{"type": "posebits", "conditions": [["no_such_bit", 1]]}]},
    "conditions_list": {"conditions": [1, 2]},
    "conditions_bad_value": {"conditions": {"x": "yes"}},
    "k_string": {"settings": {"k": "many"}},
    "selection_dict": {"selection": {"a": 1}},
    "selection_out_of_range": {"selection": [-1]},
    "mode_bogus": {"query": [{"type": "posebits", "mode": "rm -rf", "conditions": []}]},
}


@pytest.mark.gui
def test_damaged_sessions_give_typed_errors(qtbot: Any, tmp_path: Path) -> None:
    from posebrowser.app import build
    from posebrowser.gui import session_io
    from posebrowser.gui.settings_store import SettingsStore

    engine = fake_engine.make_engine(tmp_path / "images", count=50)
    window, session, _ = build(lambda ctx, path: engine, SettingsStore(tmp_path / "settings.ini"),
                               synchronous=True)
    qtbot.addWidget(window)
    session.load()
    problems = []
    try:
        for name, part in BAD_PARTS.items():
            document = {"format": "posebrowser-session", "version": 1, "gallery": str(tmp_path / "images"),
                        "query": [], "settings": {}, **part}
            path = tmp_path / "images" / f"{name}.pbsession.json"
            path.write_text(json.dumps(document))
            try:
                session_io.restore_session(session, path)
            except PosebrowserError as error:
                if not str(error).strip():
                    problems.append(f"{name}: empty message")
            except Exception as error:  # what the test is for: untyped errors reach the user as tracebacks
                problems.append(f"{name}: {type(error).__name__}: {error}")
    finally:
        session.workers.shutdown()
    assert not problems, "\n".join(problems)
