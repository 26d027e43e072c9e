"""The ground-truth inspector, the frame criterion and the skeleton overlay on result thumbnails."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from annotated_engine import annotated_engine
from PySide6.QtCore import QPoint, Qt

from posebrowser.gui.frames import FrameCriterion
from posebrowser.gui.gallery_view import GalleryIndexRole
from posebrowser.gui.main_window import MainWindow


@pytest.fixture
def window(make_window: Callable[..., MainWindow], tmp_path: Path) -> MainWindow:
    return make_window(annotated_engine(tmp_path / "images"))


def _click_result(window: MainWindow, qtbot: Any, row: int) -> None:
    view = window.results_view
    rect = view.list.visualRect(view.model.index(row, 0))
    qtbot.mouseClick(view.list.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())


def test_clicking_a_result_inspects_it_against_the_query_that_listed_it(
    window: MainWindow, qtbot: Any
) -> None:
    window.session.request_image_query(3)
    listed = window.results_view.model.state
    assert listed is not None
    clicked = int(listed.indices[2])
    _click_result(window, qtbot, 2)
    assert int(window.results_view.model.state.indices[0]) == clicked  # the click re-queries at once
    qtbot.waitUntil(lambda: window.insight.inspector.inspection is not None, timeout=2000)
    inspection = window.insight.inspector.inspection
    assert inspection is not None and inspection.index == clicked and inspection.rank == 2
    assert set(inspection.distances) == {"2d", "3d", "procrustes", "hamming"}
    assert inspection.distances["3d"] > 0
    assert inspection.agreements() + inspection.clashes() > 0  # compared with the query image's bits
    assert "nearest pose" in inspection.reason and inspection.verdict is not None
    view = window.insight.inspector
    view.image.grab()
    view.skeleton.grab()
    assert view.image.bones_drawn == 13 and view.skeleton.bones_drawn == 13
    assert "3D distance" in view.distances.text()


def test_the_3d_skeleton_turns_when_dragged(window: MainWindow, qtbot: Any) -> None:
    window.session.request_image_query(5)
    window.insight.inspect(7)
    qtbot.waitUntil(lambda: window.insight.inspector.inspection is not None, timeout=2000)
    skeleton = window.insight.inspector.skeleton
    skeleton.resize(200, 200)
    before, azimuth = skeleton.screen_points(), skeleton.azimuth
    assert before is not None
    qtbot.mousePress(skeleton, Qt.MouseButton.LeftButton, pos=QPoint(50, 100))
    qtbot.mouseMove(skeleton, QPoint(110, 100))
    qtbot.mouseRelease(skeleton, Qt.MouseButton.LeftButton, pos=QPoint(110, 100))
    assert skeleton.azimuth != azimuth
    assert not np.allclose(skeleton.screen_points(), before)


def test_the_frame_criterion_changes_frames_legend_and_the_reason(window: MainWindow, qtbot: Any) -> None:
    window.session.request_image_query(3)
    results = window.results_view
    nearest = results.frames().correct.copy()
    indices = results.model.state.indices
    assert f"true {len(indices)} nearest" in results.legend.text()
    window.insight.inspect(int(indices[10]))
    qtbot.waitUntil(lambda: window.insight.inspector.inspection is not None, timeout=2000)
    results.set_criterion(FrameCriterion("threshold", "3d", 0.0))
    tight = results.frames().correct
    assert np.array_equal(tight, indices == 3)  # only the query itself is at distance 0
    assert not np.array_equal(tight, nearest) and nearest.sum() > 1
    assert "3D distance to the query ≤ 0 m" in results.legend.text()
    assert "red: 3D distance" in window.insight.inspector.inspection.reason  # re-inspected
    results.set_criterion(FrameCriterion("threshold", "3d", 10.0))
    assert results.frames().correct.all()
    results.criterion_kind.setCurrentIndex(results.criterion_kind.findData("posebits"))
    assert results.frames().correct is None
    assert "no frames: the query asks no posebits" in results.legend.text()
    assert not results.criterion_threshold.isVisible()


def test_posebit_criterion_on_a_posebit_query(window: MainWindow) -> None:
    name = window.session.engine.vocabulary.names[0]
    window.session.request_conditions({name: 1})
    window.session._debounce.timeout.emit()
    results = window.results_view
    results.set_criterion(FrameCriterion("posebits"))
    column = window.session.engine.gallery.posebits[:, 0]
    assert np.array_equal(results.frames().correct, column[results.model.state.indices] == 1)
    results.set_criterion(FrameCriterion("threshold", "3d", 0.2))  # no query image: no 3-D distance
    assert results.frames().correct is None and "needs a query" in results.legend.text()


def test_skeletons_can_be_drawn_on_every_result_thumbnail(window: MainWindow, qtbot: Any) -> None:
    window.session.request_image_query(3)
    qtbot.waitUntil(lambda: window.loader.decoded_count >= 8, timeout=3000)
    viewport = window.results_view.list.viewport()
    plain = viewport.grab().toImage()
    window.results_view.skeletons.setChecked(True)
    assert window.results_view.delegate.show_skeletons
    assert viewport.grab().toImage() != plain


def test_a_gallery_item_outside_the_results_says_what_its_frame_would_be(
    window: MainWindow, qtbot: Any
) -> None:
    window.session.set_result_count(5)
    window.session.request_image_query(3)
    outside = next(i for i in range(200) if i not in window.results_view.model.state.indices)
    window.insight.inspect(outside)
    qtbot.waitUntil(lambda: window.insight.inspector.inspection is not None, timeout=2000)
    inspection = window.insight.inspector.inspection
    assert inspection.rank is None and inspection.reason.startswith("Not among the results; it would be")


def test_the_criterion_and_the_skeleton_overlay_are_remembered(
    make_window: Callable[..., MainWindow], tmp_path: Path
) -> None:
    first = make_window(annotated_engine(tmp_path / "images"))
    first.results_view.set_criterion(FrameCriterion("threshold", "procrustes", 0.3))
    first.results_view.skeletons.setChecked(True)
    first.close()
    second = make_window(annotated_engine(tmp_path / "images"))  # same settings file
    assert second.results_view.criterion() == FrameCriterion("threshold", "procrustes", 0.3)
    assert second.results_view.skeletons.isChecked() and second.results_view.delegate.show_skeletons


def test_a_new_query_updates_the_inspected_item_instead_of_leaving_the_old_query_shown(
    window: MainWindow, qtbot: Any
) -> None:
    """Before: after a posebit query the inspector still said 'result #2 of [img 3]' (seen in the app)."""
    window.session.request_image_query(3)
    clicked = int(window.results_view.model.state.indices[1])
    _click_result(window, qtbot, 1)
    qtbot.waitUntil(lambda: window.insight.inspector.inspection is not None, timeout=2000)
    assert window.insight.inspector.inspection.query_text == "[img 3]"
    name = window.session.engine.vocabulary.names[0]
    window.session.request_conditions({name: 1})
    window.session._debounce.timeout.emit()
    qtbot.waitUntil(lambda: window.insight.inspector.inspection.query_text != "[img 3]", timeout=2000)
    inspection = window.insight.inspector.inspection
    assert inspection.index == clicked and "img 3" not in inspection.query_text


def test_frames_of_a_split_search_compare_with_the_truth_of_that_split(
    window: MainWindow, qtbot: Any
) -> None:
    """With *Test* chosen the results come from the test split only, so "among the true k nearest" must
    mean nearest among the test items (it compared with the nearest of the whole gallery: mostly red)."""
    from posebrowser.data.gallery_format import SPLITS
    from posebrowser.pose.similarity import pairwise_distances

    gallery = window.session.engine.gallery
    window.session.set_split("test")
    window.session.request_image_query(3)
    state = window.results_view.model.state
    assert state is not None and state.correct is not None
    test_items = np.flatnonzero(np.asarray(gallery.split) == SPLITS.index("test"))
    assert set(state.indices.tolist()) <= set(test_items.tolist())
    distance = pairwise_distances("3d", gallery, [3], test_items)[0]
    truth = test_items[np.argsort(distance, kind="stable")[: len(state.indices)]]
    assert np.array_equal(state.correct, np.isin(state.indices, truth))
    assert f"of the {len(test_items):,} searched" in state.correct_meaning
    _click_result(window, qtbot, 0)
    qtbot.waitUntil(lambda: window.insight.inspector.inspection is not None, timeout=2000)
    assert f"among the {len(test_items):,} searched items" in window.insight.inspector.inspection.reason


def test_the_keyboard_browses_results_and_enter_queries_by_one(window: MainWindow, qtbot: Any) -> None:
    window.session.request_image_query(3)
    listed = window.results_view.model.state
    assert listed is not None
    view = window.results_view.list
    view.setFocus()
    view.setCurrentIndex(window.results_view.model.index(0, 0))
    qtbot.keyClick(view, Qt.Key.Key_Right)
    qtbot.waitUntil(lambda: window.insight.inspector.inspection is not None, timeout=2000)
    inspection = window.insight.inspector.inspection
    assert inspection is not None and inspection.index == int(listed.indices[1]) and inspection.rank == 1
    assert window.results_view.model.state is listed, "browsing keeps the query"
    qtbot.keyClick(view, Qt.Key.Key_Return)
    assert int(window.results_view.model.state.indices[0]) == int(listed.indices[1]), "Enter queries by it"


def test_the_keyboard_browses_the_gallery_and_enter_queries_by_an_image(
    window: MainWindow, qtbot: Any
) -> None:
    window.session.request_image_query(3)
    listed = window.results_view.model.state
    gallery = window.gallery_view
    view = gallery.list
    view.setFocus()
    view.setCurrentIndex(gallery.model.index(0, 0))
    qtbot.keyClick(view, Qt.Key.Key_Right)
    reached = int(gallery.model.data(view.currentIndex(), GalleryIndexRole))
    qtbot.waitUntil(
        lambda: window.insight.inspector.inspection is not None
        and window.insight.inspector.inspection.index == reached,
        timeout=2000,
    )
    assert window.results_view.model.state is listed, "browsing keeps the query"
    qtbot.keyClick(view, Qt.Key.Key_Return)
    assert window.session.query.terms[0].gallery_index == reached, "Enter queries by it"
