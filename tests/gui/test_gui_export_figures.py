"""*File → Export results* (every result and the query as a figure, with CSV and JSON) and the
*t-SNE with brushed boxes* figure of the *Figures* menu, driven through the window."""

from __future__ import annotations

import csv
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from annotated_engine import annotated_engine
from PySide6.QtWidgets import QFileDialog

from posebrowser.gui.brush_boxes import MAX_BOXES
from posebrowser.gui.main_window import MainWindow

sys.path.insert(0, str(Path(__file__).parents[1] / "figures"))
from vector_content import svg_image_ids, svg_marker_uses, svg_paths_under, svg_texts


@pytest.fixture
def window(make_window: Callable[..., MainWindow], tmp_path: Path) -> MainWindow:
    return make_window(annotated_engine(tmp_path / "images", count=120))


def menu_action(window: MainWindow, menu_name: str, text: str) -> Any:
    menus = {a.text().replace("&", ""): a.menu() for a in window.menuBar().actions()}
    return next(a for a in menus[menu_name].actions() if a.text().startswith(text))


def save_to(monkeypatch: pytest.MonkeyPatch, target: Path) -> None:
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a: (str(target), ""))


def test_export_results_writes_every_result_and_the_query(
    window: MainWindow, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    window.session.request_image_query(3)
    state = window.results_view.model.state
    assert len(state.indices) == 50
    save_to(monkeypatch, tmp_path / "results.svg")
    menu_action(window, "File", "Export results").trigger()
    svg = (tmp_path / "results.svg").read_bytes()
    ids = svg_image_ids(svg)
    assert ids.count("query-image") == 1
    assert sorted(i for i in ids if i != "query-image") == sorted(f"result-image-{r}" for r in range(1, 51))
    correct = window.results_view.frames().correct
    assert svg_paths_under(svg, "frame-correct") == int(correct.sum())  # one rectangle per green frame
    assert svg_paths_under(svg, "frame-wrong") == int((~correct).sum())
    with (tmp_path / "results.csv").open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert [int(r["index"]) for r in rows] == state.indices.tolist()
    assert [r["path"] for r in rows] == list(state.paths)
    assert np.allclose([float(r["distance"]) for r in rows], state.distances)
    assert [r["frame"] == "green" for r in rows] == correct.tolist()
    payload = json.loads((tmp_path / "results.json").read_text())
    assert payload["count"] == 50 and payload["query"] == ["[img 3]"]
    assert payload["query_image"] == window.session.image_path(3)


def test_export_of_a_posebit_query_shows_its_terms_and_needs_results(
    window: MainWindow, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    errors: list[BaseException] = []
    window.notifier.show_exception = errors.append  # type: ignore[method-assign]
    save_to(monkeypatch, tmp_path / "none.pdf")
    menu_action(window, "File", "Export results").trigger()
    assert not (tmp_path / "none.pdf").exists() and "Run a query first" in str(errors[0])
    bit = window.session.engine.vocabulary.bits[2]
    window.session.request_conditions({bit.name: 1})
    window.session._debounce.timeout.emit()  # the ticked bit's search
    count = len(window.results_view.model.state.indices)
    save_to(monkeypatch, tmp_path / "bits.svg")
    menu_action(window, "File", "Export results").trigger()
    svg = (tmp_path / "bits.svg").read_bytes()
    assert "query-image" not in svg_image_ids(svg) and len(svg_image_ids(svg)) == count
    assert f"{bit.label}? True" in svg_texts(svg)
    assert (tmp_path / "bits.csv").read_text().count("\n") == count + 1


def test_brushed_boxes_figure_draws_the_map_the_boxes_and_their_images(
    window: MainWindow, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    brushes = window.insight.brushes
    errors: list[BaseException] = []
    window.notifier.show_exception = errors.append  # type: ignore[method-assign]
    window.insight.save_figure("brushes", str(tmp_path / "empty.svg"))
    assert not (tmp_path / "empty.svg").exists() and "Brush a box first" in str(errors[-1])
    bit = window.session.engine.vocabulary.bits[1]
    window.session.set_colour_by(f"posebit:{bit.name}")
    coords = window.projection_view.coords.astype(np.float64)
    gallery_size = len(coords)
    for corner in ((0, 0), (1, 1)):  # two boxes: the points nearest two opposite corners of the map
        target = np.where(corner, coords.max(axis=0), coords.min(axis=0))
        nearest = np.argsort(np.linalg.norm(coords - target, axis=1))[:6]
        window.session.set_selection(nearest)
        brushes.keep_action.trigger()
    assert len(brushes.boxes) == 2 and len(brushes.overlay) == 4  # a rectangle and a number each
    save_to(monkeypatch, tmp_path / "brushed.svg")
    menu_action(window, "Figures", "t-SNE with brushed boxes").trigger()
    svg = (tmp_path / "brushed.svg").read_bytes()
    assert svg_marker_uses(svg, "map-points") == gallery_size
    assert svg_paths_under(svg, "brush-box-1") == 1 and svg_paths_under(svg, "brush-box-2") == 1
    ids = svg_image_ids(svg)
    for number, box in enumerate(brushes.boxes, start=1):
        inside = [
            i for i, (x, y) in enumerate(coords.tolist()) if box.x0 <= x <= box.x1 and box.y0 <= y <= box.y1
        ]
        shown = sorted(int(i.rsplit("-", 1)[1]) for i in ids if i.startswith(f"collage-{number}-item-"))
        assert shown == inside if len(inside) <= 12 else set(shown) <= set(inside)
    assert any(bit.label in text for text in svg_texts(svg))


def test_a_new_map_clears_the_boxes(window: MainWindow) -> None:
    brushes = window.insight.brushes
    window.session.set_selection(np.arange(10))
    brushes.keep_action.trigger()
    assert len(brushes.boxes) == 1
    window.session.request_projection(method="tsne")
    assert brushes.boxes == [] and brushes.overlay == []
    menu_action(window, "Figures", "Clear boxes").trigger()  # nothing to clear: no error


def test_keeping_a_box_needs_a_selection_and_stops_at_the_most_a_figure_holds(window: MainWindow) -> None:
    warnings: list[str] = []
    window.notifier.warning = warnings.append  # type: ignore[method-assign]
    brushes = window.insight.brushes
    assert brushes.keep_selection() is None and "Lasso points" in warnings[-1]
    window.session.set_selection(np.arange(5))
    for _ in range(MAX_BOXES):
        assert brushes.keep_selection() is not None
    assert brushes.keep_selection() is None and len(brushes.boxes) == MAX_BOXES
    assert f"{MAX_BOXES} boxes at most" in warnings[-1]
    menu_action(window, "Figures", "Clear boxes").trigger()
    assert brushes.boxes == [] and brushes.overlay == []
