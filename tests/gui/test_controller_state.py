"""SessionState: each change is stored before it is announced, the frame criterion is announced only
when it changes, and a new gallery resets every field before the first signal goes out."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
from fake_engine import make_engine
from PySide6.QtCore import Signal
from session_rig import SIGNALS, make_rig, record

from posebrowser.core.query import ImageTerm, Query
from posebrowser.gui.frames import FrameCriterion
from posebrowser.gui.session import Session
from posebrowser.gui.session_state import SessionState
from posebrowser.gui.state import ColourState
from posebrowser.gui.workers import Workers


def test_a_listener_reads_the_value_it_is_told_about(qtbot: Any) -> None:
    state = SessionState()
    seen: list[object] = []
    state.query_changed.connect(lambda query: seen.append(state.query is query))
    state.conditions_changed.connect(lambda conditions: seen.append(state.conditions == conditions))
    state.colours_changed.connect(lambda colours: seen.append(state.colours is colours))
    state.set_query(Query((ImageTerm(gallery_index=4, path=None, weight=1.0),)))
    state.set_conditions({"a": True, "b": 0})  # type: ignore[dict-item]
    state.set_colours(ColourState("posebit:a", "a", np.zeros(3, dtype=np.float32)))
    assert seen == [True, True, True]
    assert state.conditions == {"a": 1, "b": 0} and all(type(v) is int for v in state.conditions.values())


def test_the_selection_is_sorted_and_unique(qtbot: Any) -> None:
    state = SessionState()
    got: list[np.ndarray] = []
    state.selection_changed.connect(got.append)
    state.set_selection([5, 1, 5, 3])
    np.testing.assert_array_equal(state.selection, [1, 3, 5])
    assert state.selection.dtype == np.int64 and got[0] is state.selection


def test_the_frame_criterion_is_announced_only_when_it_changes(qtbot: Any) -> None:
    state = SessionState()
    got: list[FrameCriterion] = []
    state.frame_criterion_changed.connect(got.append)
    state.set_frame_criterion(FrameCriterion())  # the default again: nothing to say
    chosen = FrameCriterion("threshold", "procrustes", 0.3)
    state.set_frame_criterion(chosen)
    state.set_frame_criterion(FrameCriterion("threshold", "procrustes", 0.3))
    assert got == [chosen] and state.frame_criterion == chosen


def test_ordered_conditions_follow_the_vocabulary(qtbot: Any, tmp_path: Path) -> None:
    rig = make_rig(tmp_path)
    names = rig.engine.vocabulary.names
    rig.state.set_conditions({names[5]: 1, names[0]: 0, names[3]: 1})
    assert rig.state.ordered_conditions() == ((names[0], 0), (names[3], 1), (names[5], 1))
    assert SessionState().bit_labels() == {} and SessionState().gallery_size == 0


def test_a_new_gallery_resets_everything_before_announcing_it(qtbot: Any, tmp_path: Path) -> None:
    rig = make_rig(tmp_path)
    state, names = rig.state, rig.engine.vocabulary.names
    state.set_conditions({names[0]: 1})
    state.set_selection([1, 2])
    rig.queries.request_image_query(3)
    seen: list[tuple[object, ...]] = []
    state.settings_changed.connect(
        lambda: seen.append((state.query, state.results, state.conditions, state.selection.size))
    )
    rig.recorder.clear()
    state.reset_for_engine(rig.engine, "elsewhere", "val", "info")
    assert seen == [(None, None, {}, 0)], "the first listener already sees the whole reset"
    assert rig.recorder.names() == [
        "settings_changed",
        "engine_changed",
        "conditions_changed",
        "query_changed",
        "results_changed",
        "selection_changed",
    ]
    assert state.gallery_path == "elsewhere" and state.settings.split == "val" and state.projection is None


def test_the_recorder_hears_every_signal_the_state_declares(qtbot: Any) -> None:
    """The controller tests rely on the recorder: a signal added to the state must be recorded too."""
    declared = {name for name, value in vars(SessionState).items() if isinstance(value, Signal)}
    assert declared == set(SIGNALS)
    state = SessionState()
    recorder = record(state)
    state.info.emit("hello")
    state.history_changed.emit(True, False)
    assert recorder.events == [("info", ("hello",)), ("history_changed", (True, False))]


def test_the_session_facade_reads_the_state_and_refuses_writes(qtbot: Any, tmp_path: Path) -> None:
    engine = make_engine(tmp_path / "images", count=40)
    session = Session(lambda ctx, path: engine, Workers(synchronous=True))
    session.load()
    assert session.engine is engine and session.settings is session.state.settings
    got: list[object] = []
    session.query_changed.connect(got.append)  # the state's own signal
    session.request_image_query(4)
    assert got == [session.state.query] and session.query is session.state.query
    with pytest.raises(AttributeError, match="intent"):
        session.query = None  # type: ignore[misc]
    assert session.query is not None
