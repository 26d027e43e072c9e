"""Controls of the map for large galleries: colour bar, searchable colour-by list, projection
parameters."""

from __future__ import annotations

from typing import Any

import numpy as np
from matplotlib import colormaps
from PySide6.QtCore import Qt

from posebrowser.gui.main_window import MainWindow
from posebrowser.gui.point_cloud import pack_colours


def test_continuous_colouring_has_a_colour_bar_from_a_matplotlib_colormap(window: MainWindow) -> None:
    view, session = window.projection_view, window.session
    assert view.colour_bar.isHidden()
    session.request_image_query(4)
    view.colour.setCurrentIndex(view.colour.findData("distance:hamming"))
    assert not view.colour_bar.isHidden() and "Hamming" in view.colour_bar.title.text()
    assert not view.colour_bar.gradient.pixmap().isNull()
    near = (np.array(colormaps["viridis_r"](0.0)) * 255).round().astype(np.uint8)[None, :]
    assert view.points.colours[4] == pack_colours(near)[0], "the query's own point has the 'near' colour"
    name = session.engine.vocabulary.names[1]
    view.colour.setCurrentIndex(view.colour.findData(f"posebit:{name}"))
    assert view.colour_bar.isHidden(), "two-valued colourings keep their legend instead"


def test_colour_by_list_can_be_searched(window: MainWindow, qtbot: Any) -> None:
    view = window.projection_view
    bit = window.session.engine.vocabulary.bits[5]
    completer = view.colour.completer()
    view.colour.setFocus()
    view.colour.lineEdit().selectAll()
    qtbot.keyClicks(view.colour.lineEdit(), bit.label.split()[-2] + " " + bit.label.split()[-1])
    shown = [completer.completionModel().index(i, 0).data() for i in range(completer.completionCount())]
    assert f"Posebit: {bit.label}" in shown
    assert len(shown) < view.colour.count() / 2, "only matching entries are offered"
    view.colour.lineEdit().setText(f"Posebit: {bit.label}")
    qtbot.keyClick(view.colour.lineEdit(), Qt.Key.Key_Return)
    assert window.session.settings.colour_by == f"posebit:{bit.name}"
    assert view.colour.count() == 5 + len(window.session.engine.vocabulary), "typing adds no entry"


def test_projection_parameters_reach_the_engine_and_key_the_cache(
    make_window: Any, fake_engine: Any, monkeypatch: Any
) -> None:
    seen: list[tuple[str, dict[str, Any]]] = []
    project = fake_engine.project

    def recording(method: str, params: Any = None, *args: Any, **kwargs: Any) -> np.ndarray:
        seen.append((method, dict(params or {})))
        return project(method, params, *args, **kwargs)

    monkeypatch.setattr(fake_engine, "project", recording)
    window = make_window(fake_engine)
    view = window.projection_view
    view.method.setCurrentIndex(view.method.findData("tsne"))
    view.parameters.perplexity.setValue(12)
    view.parameters.perplexity.editingFinished.emit()
    assert seen[-1] == ("tsne", {"perplexity": 12.0})
    view.parameters.perplexity.setValue(30)
    view.parameters.perplexity.editingFinished.emit()
    calls = len(seen)
    view.parameters.perplexity.setValue(12)
    view.parameters.perplexity.editingFinished.emit()
    assert len(seen) == calls, "a map already drawn with these parameters comes from the cache"
    view.parameters.neighbours.setValue(40)
    view.parameters.neighbours.editingFinished.emit()
    assert window.session.projection_params("umap") == {"n_neighbors": 40}
    assert seen[-1][0] == "tsne", "UMAP's parameters do not redraw a t-SNE map"
