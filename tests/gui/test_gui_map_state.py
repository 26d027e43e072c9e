"""The map and its state: the fit after a method switch, the star after Subspace on → off, a cancelled
subspace map (issue 11's reproductions, each failed before its fix)."""

from __future__ import annotations

from typing import Any

import numpy as np

from posebrowser.gui.main_window import MainWindow


def _view_span(window: MainWindow) -> float:
    (x0, x1), (y0, y1) = window.projection_view.view_box.viewRange()
    return max(x1 - x0, y1 - y0)


def test_switching_tsne_to_pca_fits_the_new_map_not_the_old_star(make_window: Any, fake_engine: Any) -> None:
    fake_engine.tsne_scale = 50.0  # t-SNE maps are tens of units wide, PCA maps about one
    window = make_window(fake_engine)
    window.projection_view.plot.resize(500, 400)
    session = window.session
    session.request_projection("tsne")
    session.request_image_query(int(np.argmax(session.projection.coords[:, 0])))
    assert session.projection.query_point is not None
    session.request_projection("pca")
    coords = session.projection.coords
    map_span = float((coords.max(axis=0) - coords.min(axis=0)).max())
    assert _view_span(window) < 2.0 * map_span, "the view is fitted to the PCA points"
    expected = fake_engine.place_in_projection(session.results.result.query_vector, "pca")
    np.testing.assert_allclose(session.projection.query_point, expected, atol=1e-5)


def test_query_star_after_subspace_on_and_off_is_in_the_whole_map(
    make_window: Any, fake_engine: Any, qtbot: Any
) -> None:
    window = make_window(fake_engine)
    session = window.session
    session.request_projection("tsne")
    session.request_image_query(5)
    session.request_conditions({fake_engine.vocabulary.names[0]: 1})
    qtbot.waitUntil(
        lambda: session.query is not None and hasattr(session.query.terms[0], "mode"), timeout=2000
    )
    window.projection_view.subspace.setChecked(True)
    assert session.projection.subspace != ()
    window.projection_view.subspace.setChecked(False)
    assert session.projection.subspace == ()
    expected = fake_engine.place_in_projection(session.results.result.query_vector, "tsne")
    np.testing.assert_allclose(session.projection.query_point, expected, atol=1e-5)
    drawn = window.projection_view._query_item.data
    assert (float(drawn["x"][0]), float(drawn["y"][0])) == (float(expected[0]), float(expected[1]))


def test_cancelled_subspace_tsne_says_which_map_is_shown(
    make_window: Any, fake_engine: Any, qtbot: Any
) -> None:
    window = make_window(fake_engine, synchronous=False)
    session, view = window.session, window.projection_view
    view.method.setCurrentIndex(view.method.findData("tsne"))
    qtbot.waitUntil(
        lambda: session.projection is not None and session.projection.method == "tsne", timeout=5000
    )
    fake_engine.project_delay_s, fake_engine.project_steps = 0.05, 200
    first = fake_engine.vocabulary.bits[0]
    session.request_conditions({first.name: 1})
    view.subspace.setChecked(True)
    qtbot.waitUntil(lambda: window.job_progress.bar.maximum() == 200, timeout=3000)
    window.job_progress.cancel.click()
    qtbot.waitUntil(lambda: not window.job_progress.isVisible(), timeout=3000)
    assert session.projection.subspace == ()
    assert session.settings.subspace is False and not view.subspace.isChecked(), "controls match the map"
    assert "subspace" not in view.plot.plotItem.titleLabel.text
    assert any("still shows the previous one (t-SNE)" in text for _, text in window.notifier.history)
    # a subspace map of older ticks names them in its title
    fake_engine.project_delay_s, fake_engine.project_steps = 0.0, 4
    view.subspace.setChecked(True)
    qtbot.waitUntil(lambda: session.projection.subspace != () and session.projection.final, timeout=5000)
    assert first.label in view.plot.plotItem.titleLabel.text


def test_an_image_query_clears_the_posebit_ticks_and_says_so(window: MainWindow, qtbot: Any) -> None:
    session, bit = window.session, window.session.engine.vocabulary.bits[2]
    window.posebit_panel.set_bit(bit.name, 0)
    qtbot.waitUntil(lambda: session.query is not None, timeout=2000)
    window.projection_view.subspace.setChecked(True)
    assert session.projection.subspace == ((bit.name, 0),)
    session.request_image_query(9)
    assert session.conditions == {} and window.posebit_panel.conditions() == {}
    assert session.projection.subspace == (), "the Subspace map no longer follows ticks nobody sees"
    assert any(f"not {bit.label}" in text for _, text in window.notifier.history)
    qtbot.wait(250)  # the debounced posebit search must not come back and replace the image query
    assert session.query.terms[0].gallery_index == 9 and len(session.query.terms) == 1


def test_while_a_new_map_computes_the_title_says_so(make_window: Any, fake_engine: Any, qtbot: Any) -> None:
    window = make_window(fake_engine, synchronous=False)
    session, view = window.session, window.projection_view
    qtbot.waitUntil(lambda: session.projection is not None, timeout=5000)
    fake_engine.project_delay_s, fake_engine.project_steps = 0.05, 200
    view.method.setCurrentIndex(view.method.findData("tsne"))
    title = view.plot.plotItem.titleLabel.text
    assert title.startswith("PCA") and "computing t-SNE" in title, "the map shown is PCA, t-SNE is coming"
    window.job_progress.cancel.click()
    qtbot.waitUntil(lambda: not window.job_progress.isVisible(), timeout=3000)
    assert view.plot.plotItem.titleLabel.text == "PCA" and view.method.currentData() == "pca"
