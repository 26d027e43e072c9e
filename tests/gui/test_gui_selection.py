"""A lasso selection is ONE query term — the centroid of the selected images — that can be named,
removed, saved, and the selection cleared (it used to become one chip per selected point)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
from PySide6.QtCore import Qt

from posebrowser.core.query import SelectionTerm
from posebrowser.core.query_parser import parse_query
from posebrowser.gui import session_io
from posebrowser.gui.main_window import MainWindow


def _lasso_most(window: MainWindow) -> np.ndarray:
    view = window.projection_view
    low, high = np.percentile(view.coords, 2, axis=0), np.percentile(view.coords, 98, axis=0)
    view.select_polygon(
        np.array([[low[0], low[1]], [high[0], low[1]], [high[0], high[1]], [low[0], high[1]]])
    )
    return window.session.selection


def test_a_big_selection_is_one_named_centroid_term(window: MainWindow, qtbot: Any) -> None:
    session, bar = window.session, window.query_bar
    selected = _lasso_most(window)
    assert selected.size > 150
    session.request_selection_query()
    (term,) = session.query.terms
    assert isinstance(term, SelectionTerm) and term.name == "selection 1" and term.indices == tuple(selected)
    assert len(bar.chips) == 1 and bar.chips[0].name is not None
    expected = session.engine.embeddings[selected].mean(axis=0)
    np.testing.assert_allclose(
        session.results.result.query_vector, expected / np.linalg.norm(expected), atol=1e-5
    )
    name = bar.chips[0].name
    name.setText("arms out")
    qtbot.keyClick(name, Qt.Key.Key_Return)
    assert session.query.terms[0].name == "arms out"
    assert parse_query(bar.expression.text(), session.engine.vocabulary) == session.query, "it round-trips"
    session.request_add_result_term(3, -1.0)
    session.request_selection_query()
    assert [getattr(t, "name", None) for t in session.query.terms] == ["arms out", None, "selection 1"]
    window.projection_view.clear_selection.click()
    assert session.selection.size == 0 and window.projection_view.selection_points.coords.shape[0] == 0
    session.request_remove_term(0)
    assert [type(t).__name__ for t in session.query.terms] == ["ImageTerm", "SelectionTerm"]


def test_a_bad_name_is_refused_and_the_old_one_stays(window: MainWindow, qtbot: Any) -> None:
    _lasso_most(window)
    window.session.request_selection_query()
    name = window.query_bar.chips[0].name
    name.setText('bad "name"')
    qtbot.keyClick(name, Qt.Key.Key_Return)
    assert window.session.query.terms[0].name == "selection 1"
    assert window.query_bar.chips[0].name.text() == "selection 1"
    assert any("name" in text for _, text in window.notifier.history)


def test_a_selection_term_is_saved_and_restored(make_window: Any, fake_engine: Any, tmp_path: Path) -> None:
    first = make_window(fake_engine)
    _lasso_most(first)
    first.session.request_selection_query()
    path = tmp_path / "s.pbsession.json"
    session_io.save_session(first.session, path)
    second = make_window(fake_engine)
    session_io.restore_session(second.session, path)
    assert second.session.query == first.session.query
