"""Projection view: click a point → query, lasso → selection, colour-by, t-SNE layouts, cancel."""

from __future__ import annotations

import csv
import itertools
from typing import Any

import numpy as np
import pytest
from PySide6.QtCore import QEvent, QPoint, Qt

from posebrowser.gui import session_io
from posebrowser.gui.main_window import MainWindow
from posebrowser.gui.projection_view import points_in_polygon


def _viewport_pos(window: MainWindow, index: int) -> QPoint:
    view = window.projection_view
    return view.plot.mapFromScene(view.scene_position_of(index))


def test_click_projection_point_queries_it(window: MainWindow, qtbot: Any) -> None:
    view = window.projection_view
    window.docks["projection"].resize(600, 500)
    view.plot.resize(500, 400)
    qtbot.wait(50)
    assert view.coords.shape == (200, 2)
    target = int(np.argmax(view.coords[:, 0]))  # an outlying point: nothing else within the pick radius
    position = _viewport_pos(window, target)
    qtbot.mouseClick(view.plot.viewport(), Qt.MouseButton.LeftButton, pos=position)
    query = window.session.query
    assert query is not None and query.terms[0].gallery_index == target
    assert int(window.results_view.model.state.indices[0]) == target
    assert view._query_item.data.size == 1, "the query is drawn as a point"
    assert view._results_item.data.size == 50, "its results are highlighted"
    window.session.request_query(None)
    assert view._query_item.data.size == 0 and window.session.projection.query_point is None
    assert view.pick(*view.coords[target]) == target
    assert view.last_pick_ms < 5.0
    view._hover(view.scene_position_of(target))
    assert view.hover_card.isVisible() and view.hover_card.caption.text().startswith(f"#{target} ")
    qtbot.waitUntil(lambda: not view.hover_card.image.pixmap().isNull(), timeout=2000)
    view.leaveEvent(QEvent(QEvent.Type.Leave))
    assert not view.hover_card.isVisible()


def test_lasso_selects_points_inside_and_exports(window: MainWindow, tmp_path: Any) -> None:
    view, session = window.projection_view, window.session
    low, high = np.percentile(view.coords, 20, axis=0), np.percentile(view.coords, 60, axis=0)
    square = np.array([[low[0], low[1]], [high[0], low[1]], [high[0], high[1]], [low[0], high[1]]])
    view.select_polygon(square)
    inside = np.flatnonzero(np.all((view.coords > low) & (view.coords < high), axis=1))
    np.testing.assert_array_equal(session.selection, inside)
    assert len(view.selection_points.coords) == inside.size
    out = tmp_path / "selection.csv"
    assert session_io.export_selection(session, out) == inside.size
    rows = list(csv.DictReader(out.open()))
    assert [int(r["index"]) for r in rows] == inside.tolist()
    session.request_selection_query()
    assert len(session.query.terms) == 1 and session.query.terms[0].indices == tuple(inside)
    expected = session.engine.embeddings[inside].mean(axis=0)
    expected /= np.linalg.norm(expected)
    np.testing.assert_allclose(session.results.result.query_vector, expected, atol=1e-5)


def test_points_in_polygon_matches_brute_force(rng: np.random.Generator) -> None:
    points = rng.uniform(-1, 1, size=(2000, 2))
    angles = np.linspace(0, 2 * np.pi, 40, endpoint=False)
    radii = 0.3 + 0.5 * rng.random(40)
    polygon = np.c_[radii * np.cos(angles), radii * np.sin(angles)]
    from matplotlib.path import Path

    np.testing.assert_array_equal(points_in_polygon(points, polygon), Path(polygon).contains_points(points))


def test_colour_by_posebit_and_by_distance(window: MainWindow) -> None:
    view, session = window.projection_view, window.session
    name = session.engine.vocabulary.names[2]
    view.colour.setCurrentIndex(view.colour.findData(f"posebit:{name}"))
    column = session.engine.gallery.posebits[:, 2]
    np.testing.assert_array_equal(session.colours.values, np.where(column < 0, np.nan, column))
    red = view.points.colours[np.flatnonzero(column == 1)]
    assert np.all(red == red[0]) and not np.any(view.points.colours[column == 0] == red[0])
    view.colour.setCurrentIndex(view.colour.findData("distance:hamming"))
    assert any(level.value == "error" for level, _ in window.notifier.history), "needs a query first"
    session.request_image_query(4)
    view.colour.setCurrentIndex(view.colour.findData("distance:2d"))
    view.colour.setCurrentIndex(view.colour.findData("distance:hamming"))
    values = session.colours.values
    assert values[4] == 0.0 and np.nanmax(values) == pytest.approx(1.0)
    image = view.plot.grab().toImage()
    assert not image.isNull()
    assert view.points.last_paint_ms > 0


def test_tsne_shows_intermediate_layouts_and_subspace(make_window: Any, fake_engine: Any, qtbot: Any) -> None:
    window = make_window(fake_engine, synchronous=False)
    seen: list[bool] = []
    window.session.projection_changed.connect(lambda state: seen.append(state.final))
    window.projection_view.method.setCurrentIndex(window.projection_view.method.findData("tsne"))
    qtbot.waitUntil(
        lambda: window.session.projection is not None and window.session.projection.method == "tsne",
        timeout=5000,
    )
    assert False in seen and seen[-1] is True
    window.posebit_panel.set_bit(fake_engine.vocabulary.names[0], 1)
    window.projection_view.subspace.setChecked(True)
    qtbot.waitUntil(lambda: window.session.projection.subspace != (), timeout=5000)
    assert window.session.projection.subspace == ((fake_engine.vocabulary.names[0], 1),)


def test_cancel_a_long_projection(make_window: Any, fake_engine: Any, qtbot: Any) -> None:
    window = make_window(fake_engine, synchronous=False)
    qtbot.waitUntil(lambda: window.session.projection is not None, timeout=5000)
    fake_engine.project_delay_s, fake_engine.project_steps = 0.05, 200
    window.projection_view.method.setCurrentIndex(window.projection_view.method.findData("umap"))
    qtbot.waitUntil(window.job_progress.isVisible, timeout=2000)
    qtbot.waitUntil(lambda: window.job_progress.bar.maximum() == 200, timeout=3000)
    window.job_progress.cancel.click()
    qtbot.waitUntil(lambda: not window.job_progress.isVisible(), timeout=3000)
    assert window.session.projection.method == "pca"
    assert any("cancel" in text.lower() for _, text in window.notifier.history)


def test_lasso_by_mouse_drag(window: MainWindow, qtbot: Any) -> None:
    from PySide6.QtCore import QEvent, QPointF
    from PySide6.QtGui import QMouseEvent
    from PySide6.QtWidgets import QApplication

    view = window.projection_view
    view.plot.resize(500, 400)
    qtbot.wait(50)
    view.lasso.setChecked(True)
    low, high = np.percentile(view.coords, 10, axis=0), np.percentile(view.coords, 90, axis=0)
    corners = [(low[0], low[1]), (high[0], low[1]), (high[0], high[1]), (low[0], high[1]), (low[0], low[1])]
    viewport = view.plot.viewport()

    def send(kind: QEvent.Type, x: float, y: float, buttons: Qt.MouseButton) -> None:
        scene = view.view_box.mapViewToScene(QPointF(x, y))
        local = QPointF(view.plot.mapFromScene(scene))
        event = QMouseEvent(
            kind,
            local,
            viewport.mapToGlobal(local),
            Qt.MouseButton.LeftButton,
            buttons,
            Qt.KeyboardModifier.NoModifier,
        )
        QApplication.sendEvent(viewport, event)
        qtbot.wait(12)  # pyqtgraph drops mouse moves faster than 100 Hz

    send(QEvent.Type.MouseButtonPress, *corners[0], Qt.MouseButton.LeftButton)
    for start, end in itertools.pairwise(corners):
        for t in np.linspace(0, 1, 6)[1:]:
            send(
                QEvent.Type.MouseMove,
                *(np.array(start) + t * (np.array(end) - np.array(start))),
                Qt.MouseButton.LeftButton,
            )
    send(QEvent.Type.MouseButtonRelease, *corners[-1], Qt.MouseButton.NoButton)
    inside = np.flatnonzero(np.all((view.coords > low) & (view.coords < high), axis=1))
    selected = set(window.session.selection.tolist())
    assert len(selected) > 0.9 * len(inside) and selected <= set(range(len(view.coords)))
    assert window.session.query is None, "a lasso drag must not query"
