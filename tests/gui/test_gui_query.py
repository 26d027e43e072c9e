"""Query by image, posebits (tri-state, both partial methods, debounce), arithmetic and history."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image
from PySide6.QtCore import Qt

from posebrowser.core.query import ImageTerm, PosebitTerm
from posebrowser.gui.main_window import MainWindow
from posebrowser.gui.posebit_panel import IS_COLUMN, NOT_COLUMN


def _click_gallery(window: MainWindow, qtbot: Any, row: int) -> None:
    view = window.gallery_view
    rect = view.list.visualRect(view.index_at_row(row))
    qtbot.mouseClick(view.list.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())


def test_click_result_requeries_and_history_goes_back(window: MainWindow, qtbot: Any) -> None:
    _click_gallery(window, qtbot, 5)
    state = window.results_view.model.state
    assert state is not None and int(state.indices[0]) == 5
    bits = window.session.engine.gallery.posebits
    known = (bits >= 0) & (bits[5] >= 0)
    hamming = ((bits != bits[5]) & known).sum(axis=1) / known.sum(axis=1)
    truth = np.argsort(hamming, kind="stable")[:50]
    np.testing.assert_array_equal(state.correct, np.isin(state.indices, truth))
    assert "true 50 nearest" in state.correct_meaning
    second = int(state.indices[1])
    rect = window.results_view.list.visualRect(window.results_view.model.index(1, 0))
    qtbot.mouseClick(window.results_view.list.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    assert int(window.results_view.model.state.indices[0]) == second
    assert window.back_action.isEnabled()
    window.back_action.trigger()
    assert int(window.results_view.model.state.indices[0]) == 5
    assert window.forward_action.isEnabled() and not window.back_action.isEnabled()
    window.forward_action.trigger()
    assert int(window.results_view.model.state.indices[0]) == second


def test_posebit_burst_triggers_exactly_one_search(window: MainWindow, qtbot: Any) -> None:
    engine, panel = window.session.engine, window.posebit_panel
    names = engine.vocabulary.names
    before = engine.calls.count("search")
    panel.set_bit(names[0], 1)
    panel.set_bit(names[1], 0)
    panel.set_bit(names[2], 1)
    panel.set_bit(names[2], None)
    assert engine.calls.count("search") == before, "searches must wait for the debounce"
    qtbot.waitUntil(lambda: engine.calls.count("search") == before + 1, timeout=2000)
    qtbot.wait(300)
    assert engine.calls.count("search") == before + 1
    query = window.session.query
    assert query is not None and len(query.terms) == 1
    term = query.terms[0]
    assert isinstance(term, PosebitTerm) and dict(term.conditions) == {names[0]: 1, names[1]: 0}
    expected = int(((engine.gallery.posebits[:, 0] == 1) & (engine.gallery.posebits[:, 1] == 0)).sum())
    assert panel.count_label.text().startswith(f"{expected:,} ")
    state = window.results_view.model.state
    assert state is not None and state.chip_agree.shape == (len(state.paths), 2)
    # correctness frame = every asked bit agrees (the engine's ground truth)
    np.testing.assert_array_equal(state.correct, np.all(state.chip_agree == 1, axis=1))


def test_tristate_columns_are_exclusive(window: MainWindow, qtbot: Any) -> None:
    panel = window.posebit_panel
    name = window.session.engine.vocabulary.names[3]
    item = panel._items[name]
    item.setCheckState(IS_COLUMN, Qt.CheckState.Checked)
    assert panel.conditions() == {name: 1}
    item.setCheckState(NOT_COLUMN, Qt.CheckState.Checked)
    assert item.checkState(IS_COLUMN) == Qt.CheckState.Unchecked
    assert panel.conditions() == {name: 0}
    item.setCheckState(NOT_COLUMN, Qt.CheckState.Unchecked)
    assert panel.conditions() == {}
    qtbot.wait(250)
    assert window.session.query is None and window.results_view.model.state is None


def test_ticked_only_shows_the_set_bits_in_bold(window: MainWindow, qtbot: Any) -> None:
    panel = window.posebit_panel
    names = window.session.engine.vocabulary.names
    panel.set_bit(names[1], 1)
    panel.set_bit(names[2], 0)
    qtbot.mouseClick(panel.ticked_only, Qt.MouseButton.LeftButton)
    shown = [name for name, item in panel._items.items() if not item.isHidden()]
    assert shown == [names[1], names[2]] and panel._items[names[1]].font(0).bold()
    panel._items[names[1]].setCheckState(IS_COLUMN, Qt.CheckState.Unchecked)  # a click on the row
    assert [name for name, item in panel._items.items() if not item.isHidden()] == [names[2]]
    assert not panel._items[names[1]].font(0).bold()
    qtbot.mouseClick(panel.ticked_only, Qt.MouseButton.LeftButton)
    assert all(not item.isHidden() for item in panel._items.values())


def test_both_partial_methods_and_mask_strip(window: MainWindow, qtbot: Any) -> None:
    panel, session = window.posebit_panel, window.session
    name = session.engine.vocabulary.names[0]
    panel.set_bit(name, 1)
    qtbot.waitUntil(lambda: session.query is not None, timeout=2000)
    assert session.query.terms[0].mode == "conditional"
    assert window.mask_view.values is None
    panel.method.setCurrentIndex(panel.method.findData("mask"))
    qtbot.waitUntil(lambda: session.query.terms[0].mode == "mask", timeout=2000)
    assert window.mask_view.values is not None and window.mask_view.values.shape == (16,)
    assert np.all((window.mask_view.values >= 0) & (window.mask_view.values <= 1))
    collapsed = window.mask_view.collapsed_dimensions()
    np.testing.assert_array_equal(collapsed, np.flatnonzero(window.mask_view.values <= 0.3))
    everything = {bit: 1 for bit in session.engine.vocabulary.names}
    session.request_conditions(everything)
    qtbot.waitUntil(lambda: session.query.terms[0].mode == "full", timeout=2000)


def test_the_ticked_bits_weight_box_drives_the_conditional_query(window: MainWindow, qtbot: Any) -> None:
    panel, session = window.posebit_panel, window.session
    engine = session.engine
    panel.set_bit(engine.vocabulary.names[0], 1)
    qtbot.waitUntil(lambda: session.query is not None, timeout=2000)
    assert panel.weight_asked.isEnabled() and panel.weight_asked.isChecked()
    assert engine.contrasts[-1] is None
    searches = engine.calls.count("search")
    panel.weight_asked.setChecked(False)  # the thesis' plain completion
    qtbot.waitUntil(lambda: engine.calls.count("search") == searches + 1, timeout=2000)
    assert engine.contrasts[-1] == 0.0 and not session.settings.weight_asked_bits
    panel.method.setCurrentIndex(panel.method.findData("mask"))
    assert not panel.weight_asked.isEnabled()  # a mask query has no completion to weight


def test_arithmetic_terms_by_clicking_and_typing(window: MainWindow, qtbot: Any) -> None:
    session = window.session
    _click_gallery(window, qtbot, 10)
    window.results_view.add_term_requested.emit(20, -1.0)
    terms = session.query.terms
    assert [(t.gallery_index, t.weight) for t in terms] == [(10, 1.0), (20, -1.0)]
    assert len(window.query_bar.chips) == 2
    chip = window.query_bar.chips[1]
    chip.weight.setValue(-0.5)
    chip.weight.editingFinished.emit()
    assert session.query.terms[1].weight == -0.5
    name = session.engine.vocabulary.names[1]
    window.posebit_panel.set_bit(name, 1)
    qtbot.waitUntil(lambda: len(session.query.terms) == 3, timeout=2000)
    assert isinstance(session.query.terms[2], PosebitTerm), "a composed query keeps its image terms"
    window.query_bar.remove_requested.emit(0)
    assert [type(t) for t in session.query.terms] == [ImageTerm, PosebitTerm]
    bar = window.query_bar.expression
    bar.setText("2*[img 3] - 0.5*[img 7]")
    qtbot.keyClick(bar, Qt.Key.Key_Return)
    assert [(t.gallery_index, t.weight) for t in session.query.terms] == [(3, 2.0), (7, -0.5)]
    expected = 2 * session.engine.embeddings[3] - 0.5 * session.engine.embeddings[7]
    expected /= np.linalg.norm(expected)
    np.testing.assert_allclose(session.results.result.query_vector, expected, atol=1e-5)


def test_bad_expression_is_a_message_not_a_crash(window: MainWindow, qtbot: Any) -> None:
    window.query_bar.expression.setText("[no such posebit=1] +")
    qtbot.keyClick(window.query_bar.expression, Qt.Key.Key_Return)
    levels = [level.value for level, _ in window.notifier.history]
    assert "error" in levels
    assert window.banner.isVisible()


def test_image_file_query_and_unreadable_file(window: MainWindow, tmp_path: Any) -> None:
    path = window.session.image_path(0)
    window.session.request_image_file(path)
    assert window.results_view.model.state is not None
    broken = tmp_path / "broken.png"
    broken.write_bytes(b"not an image")
    window.session.request_image_file(str(broken))
    assert any("broken.png" in text for _, text in window.notifier.history)


def test_split_filter_restricts_gallery_and_results(window: MainWindow) -> None:
    engine = window.session.engine
    window.gallery_view.list.setCurrentIndex(window.gallery_view.index_at_row(150))
    window.session.request_conditions({engine.vocabulary.names[0]: 1})
    assert window.gallery_view.list.currentIndex().row() == 150, "ticking without the filter keeps the view"
    window.gallery_view.posebit_filter.setChecked(True)
    np.testing.assert_array_equal(
        window.gallery_view.model.indices, np.flatnonzero(engine.gallery.posebits[:, 0] == 1)
    )
    window.gallery_view.posebit_filter.setChecked(False)
    window.gallery_view.split_combo.setCurrentIndex(window.gallery_view.split_combo.findData("test"))
    expected = np.flatnonzero(engine.gallery.split == 2)
    np.testing.assert_array_equal(window.gallery_view.model.indices, expected)
    window.session.request_image_query(int(expected[0]))
    assert set(window.results_view.model.state.indices.tolist()) <= set(expected.tolist())


def _camera_photo(folder: Path) -> str:
    """scikit-image's cameraman photo (a person), written to ``folder`` as PNG."""
    data = pytest.importorskip("skimage.data", reason="scikit-image ships the cameraman photo")
    path = folder / "camera.png"
    Image.fromarray(np.asarray(data.camera())).save(path)
    return str(path)


def test_paste_image_and_posebit_search_box(window: MainWindow, qtbot: Any, tmp_path: Path) -> None:
    from PySide6.QtGui import QGuiApplication, QImage

    QGuiApplication.clipboard().setImage(QImage(_camera_photo(tmp_path)))
    window.paste_image()  # a pasted photo is queried as its crop around the person
    term = window.session.query.terms[0]
    photo = window.photo.photo
    assert photo is not None and photo.path.name.startswith("posebrowser-paste-")
    assert term.path == str(photo.crop_path) and window.session.results is not None
    panel = window.posebit_panel
    panel.search.setText("legs angle")
    visible = [name for name, item in panel._items.items() if not item.isHidden()]
    assert visible == [n for n in window.session.engine.vocabulary.names if n.startswith("legs_angle")]
    panel.search.clear()
    assert all(not item.isHidden() for item in panel._items.values())


def test_dropping_an_image_file_queries_it(window: MainWindow, tmp_path: Path) -> None:
    from drops import drop

    drop(window, _camera_photo(tmp_path))  # a dropped photo is queried as its crop around the person
    term = window.session.query.terms[0]
    photo = window.photo.photo
    assert photo is not None and photo.path == tmp_path / "camera.png"
    assert term.path == str(photo.crop_path) and window.session.results is not None


def test_a_failed_query_leaves_the_previous_query_results_and_history(
    window: MainWindow, qtbot: Any, tmp_path: Any
) -> None:
    """Before: the unreadable file became the current query (red-X chip) over the old results, entered the
    history, and Back re-raised its error."""
    _click_gallery(window, qtbot, 5)
    _click_gallery(window, qtbot, 7)
    session = window.session
    good, state = session.query, window.results_view.model.state
    assert window.back_action.isEnabled() and not window.forward_action.isEnabled()
    fake = tmp_path / "notes.png"
    fake.write_text("this is a text file")
    errors: list[Any] = []
    session.error_occurred.connect(errors.append)
    session.request_image_file(str(fake))
    qtbot.waitUntil(lambda: bool(errors), timeout=3000)
    assert session.query is good and window.results_view.model.state is state
    assert len(window.query_bar.chips) == 1 and window.query_bar._query is good
    assert not window.forward_action.isEnabled()
    window.back_action.trigger()  # back goes to the image query before, not to the dead file
    assert int(window.results_view.model.state.indices[0]) == 5 and len(errors) == 1


def test_the_expression_box_shows_the_labels_the_panel_shows(window: MainWindow, qtbot: Any) -> None:
    """Before: it showed internal names (``right_wrist_above_upper_neck``) next to the panel's labels."""
    session = window.session
    name = session.engine.vocabulary.names[0]
    label = window.query_bar.labels.get(name)
    assert label and label != name
    window.posebit_panel.set_bit(name, 1)
    qtbot.waitUntil(lambda: session.query is not None, timeout=2000)
    text = window.query_bar.expression.text()
    assert label in text and name not in text
    window.query_bar.expression.setText(text)  # and it parses back to the same query
    before = session.query
    qtbot.keyClick(window.query_bar.expression, Qt.Key.Key_Return)
    assert session.query == before


def test_an_error_banner_does_not_outlive_a_later_success(window: MainWindow, qtbot: Any) -> None:
    """Before: the banner of a failed query stayed up after the next query succeeded."""
    window.query_bar.expression.setText("[no such posebit=1]")
    qtbot.keyClick(window.query_bar.expression, Qt.Key.Key_Return)
    assert window.banner.isVisible() or window.banner.isVisibleTo(window)
    _click_gallery(window, qtbot, 4)
    qtbot.waitUntil(lambda: not window.banner.isVisibleTo(window), timeout=2000)
    assert "error" in [level.value for level, _ in window.notifier.history]  # still in the log


def test_the_number_of_results_is_chosen_and_the_frames_are_explained(window: MainWindow, qtbot: Any) -> None:
    """Before: always 50 results, and nothing said what a green or red frame means."""
    _click_gallery(window, qtbot, 5)
    assert len(window.results_view.model.state.indices) == 50
    assert "true 50 nearest" in window.results_view.legend.text()
    window.results_view.count.setValue(12)
    window.results_view.count.editingFinished.emit()
    qtbot.waitUntil(lambda: len(window.results_view.model.state.indices) == 12, timeout=2000)
    assert window.session.settings.k == 12 and int(window.results_view.model.state.indices[0]) == 5
