"""Map level of detail: zoomed in far enough, the visible points are drawn as their thumbnails."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
from fake_engine import make_engine

from posebrowser.gui.main_window import MainWindow
from posebrowser.gui.map_thumbnails import MAX_VISIBLE

POINTS = 3000  # zoomed out, far more than MAX_VISIBLE points are in view


@pytest.fixture
def big_window(make_window: Any, tmp_path: Path, qtbot: Any) -> MainWindow:
    window = make_window(make_engine(tmp_path / "images", count=POINTS))
    qtbot.waitExposed(window)
    qtbot.wait(50)  # the docks' layout settles before a test zooms (a later resize moves the view)
    return window


def _repaint(window: MainWindow) -> None:
    window.projection_view.plot.viewport().repaint()


def _in_view_brute_force(window: MainWindow) -> np.ndarray:
    """Oracle: every point inside the view rectangle, one comparison at a time."""
    view = window.projection_view
    rect = view.view_box.viewRect()
    return np.array(
        [
            index
            for index, (x, y) in enumerate(view.coords.astype(np.float64).tolist())
            if rect.left() <= x <= rect.right() and rect.top() <= y <= rect.bottom()
        ],
        dtype=np.int64,
    )


def _zoom_into_cluster(window: MainWindow, around: int = 60) -> np.ndarray:
    """Zoom onto the densest spot (the point with the closest 60th neighbour); returns the oracle."""
    view = window.projection_view
    coords = view.coords.astype(np.float64)
    sample = coords[:: max(1, len(coords) // 300)]
    reach = np.sort(np.max(np.abs(sample[:, None, :] - coords[None, :, :]), axis=2), axis=1)[:, around]
    centre = sample[int(np.argmin(reach))]
    half = float(reach.min())
    view.view_box.setRange(
        xRange=(centre[0] - half, centre[0] + half), yRange=(centre[1] - half, centre[1] + half), padding=0
    )
    _repaint(window)
    expected = _in_view_brute_force(window)
    assert 0 < len(expected) <= MAX_VISIBLE, "the zoom leaves a few points in view"
    return expected


def _wait_drawn(window: MainWindow, qtbot: Any, expected: np.ndarray) -> None:
    """Until the loader's signals have repainted the map with ``expected``'s thumbnails, which must be
    the points in view then."""
    layer = window.projection_view.map_thumbnails
    qtbot.waitUntil(lambda: np.array_equal(layer.drawn_indices, expected), timeout=10_000)
    np.testing.assert_array_equal(_in_view_brute_force(window), expected, err_msg="the view moved")


def test_zoomed_out_shows_dots_only(big_window: MainWindow) -> None:
    view = big_window.projection_view
    assert view.thumbnails.isChecked(), "thumbnails are on by default"
    _repaint(big_window)
    assert len(_in_view_brute_force(big_window)) > MAX_VISIBLE
    layer = view.map_thumbnails
    assert layer.drawn_indices.size == 0 and layer.requested_indices.size == 0
    assert view.points.last_paint_ms > 0, "the dots are drawn"


def test_zooming_in_draws_the_visible_points_thumbnails_loaded_asynchronously(
    big_window: MainWindow, qtbot: Any
) -> None:
    view = big_window.projection_view
    layer = view.map_thumbnails
    expected = _zoom_into_cluster(big_window)
    np.testing.assert_array_equal(layer.visible_indices, expected)
    np.testing.assert_array_equal(
        layer.requested_indices, expected, err_msg="only visible points are requested"
    )
    assert layer.drawn_indices.size == 0, "nothing is decoded on the GUI thread: dots until they arrive"
    _wait_drawn(big_window, qtbot, expected)  # repainted by the loader's signal, no repaint forced
    assert layer.requested_indices.size == 0
    with_thumbnails = view.plot.grab().toImage()
    view.thumbnails.setChecked(False)
    assert view.plot.grab().toImage() != with_thumbnails


def test_draw_budget_keeps_the_points_nearest_the_centre(big_window: MainWindow, qtbot: Any) -> None:
    view = big_window.projection_view
    layer = view.map_thumbnails
    expected = _zoom_into_cluster(big_window)
    _wait_drawn(big_window, qtbot, expected)
    layer.draw_budget = 7
    _repaint(big_window)
    rect = view.view_box.viewRect()
    centre = np.array([rect.center().x(), rect.center().y()])
    scale = np.array([rect.width(), rect.height()])
    distance = [float(np.sum(((view.coords[i] - centre) / scale) ** 2)) for i in expected]
    nearest = np.sort(expected[np.argsort(distance, kind="stable")[:7]])
    np.testing.assert_array_equal(layer.drawn_indices, nearest)


def test_toggle_off_draws_no_thumbnails(big_window: MainWindow, qtbot: Any) -> None:
    view = big_window.projection_view
    layer = view.map_thumbnails
    expected = _zoom_into_cluster(big_window)
    _wait_drawn(big_window, qtbot, expected)
    view.thumbnails.setChecked(False)
    _repaint(big_window)
    assert layer.drawn_indices.size == 0 and layer.requested_indices.size == 0
    assert not layer.isVisible()
    view.thumbnails.setChecked(True)
    _repaint(big_window)
    np.testing.assert_array_equal(layer.drawn_indices, expected, err_msg="cached: drawn at once")


def test_a_new_projection_clears_the_thumbnails(big_window: MainWindow, qtbot: Any) -> None:
    view = big_window.projection_view
    layer = view.map_thumbnails
    _wait_drawn(big_window, qtbot, _zoom_into_cluster(big_window))
    view.method.setCurrentIndex(view.method.findData("tsne"))
    assert big_window.session.projection.method == "tsne"
    assert layer.drawn_indices.size == 0, "cleared as soon as the map changes"
    _repaint(big_window)
    assert layer.drawn_indices.size == 0, "the new map is shown whole: dots only"
    expected = _zoom_into_cluster(big_window)
    _wait_drawn(big_window, qtbot, expected)


def test_a_new_gallery_clears_the_thumbnails(big_window: MainWindow, qtbot: Any, tmp_path: Path) -> None:
    view = big_window.projection_view
    layer = view.map_thumbnails
    expected = _zoom_into_cluster(big_window)
    _wait_drawn(big_window, qtbot, expected)
    other = make_engine(tmp_path / "other", count=POINTS).gallery
    view.path_for = lambda index: str(other.image_path(index))  # what the window does on a new gallery
    assert layer.drawn_indices.size == 0
    _repaint(big_window)
    np.testing.assert_array_equal(layer.requested_indices, expected, err_msg="the new images are requested")
    _wait_drawn(big_window, qtbot, expected)


def test_sorted_by_x_finds_the_points_in_a_rectangle_like_brute_force(rng: np.random.Generator) -> None:
    from PySide6.QtCore import QRectF

    from posebrowser.gui.map_thumbnails import SortedByX

    coords = np.round(rng.normal(size=(5000, 2)), 2)  # rounded: many points exactly on the edges
    index = SortedByX(coords)
    for _ in range(200):
        left, top = rng.uniform(-3, 2, size=2).round(2)
        width, height = rng.uniform(0, 1.5, size=2).round(2)
        rect = QRectF(left, top, width, height)
        inside = [
            i
            for i, (x, y) in enumerate(coords.tolist())
            if left <= x <= left + width and top <= y <= top + height
        ]
        found = index.in_rect(rect, limit=len(coords))
        assert found is not None and found.tolist() == inside
        if inside:
            assert index.in_rect(rect, limit=len(inside) - 1) is None, "over the limit: None"


def test_an_exported_map_shows_the_thumbnails(big_window: MainWindow, qtbot: Any, tmp_path: Path) -> None:
    view = big_window.projection_view
    expected = _zoom_into_cluster(big_window)
    _wait_drawn(big_window, qtbot, expected)
    view.export_image(str(tmp_path / "map.svg"))
    view.thumbnails.setChecked(False)
    view.export_image(str(tmp_path / "dots.svg"))
    with_thumbnails = (tmp_path / "map.svg").read_text().count("<image")
    dots_only = (tmp_path / "dots.svg").read_text().count("<image")  # the dots are one raster image
    assert with_thumbnails == dots_only + len(expected), "one embedded image per thumbnail"


def test_an_optimising_layout_shows_dots_only(window: MainWindow, qtbot: Any) -> None:
    from posebrowser.gui.state import ProjectionState

    view = window.projection_view  # 200 points: every one is in view, few enough for thumbnails
    layer = view.map_thumbnails
    qtbot.waitExposed(window)
    _repaint(window)
    _wait_drawn(window, qtbot, _in_view_brute_force(window))
    assert len(layer.drawn_indices) == len(view.coords)
    view.show_projection(ProjectionState("tsne", (), view.coords * 1.5, final=False))
    _repaint(window)
    assert not layer.isVisible() and layer.drawn_indices.size == 0, "points still moving: dots"
    view.show_projection(ProjectionState("tsne", (), view.coords * 1.0, final=True))
    _repaint(window)
    np.testing.assert_array_equal(layer.drawn_indices, np.arange(len(view.coords)))
    assert view.thumbnails.isChecked()
