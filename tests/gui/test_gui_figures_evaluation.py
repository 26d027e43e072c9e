"""The Figures menu (matplotlib figures of the current model and query, exported with vector content)
and the Evaluation dock (hit@k curves and the posebit-question table, off the GUI thread, cached)."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from annotated_engine import annotated_engine
from PySide6.QtWidgets import QFileDialog

from posebrowser.gui.figures import FIGURE_KINDS
from posebrowser.gui.main_window import MainWindow

sys.path.insert(0, str(Path(__file__).parents[1] / "figures"))
from vector_content import pdf_images, pdf_path_operators, svg_images, svg_paths_under


@pytest.fixture(autouse=True)
def evaluation_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Stored evaluations go to this test's folder, never the user's cache."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    return tmp_path / "cache" / "posebrowser" / "evaluations"


@pytest.fixture
def window(make_window: Callable[..., MainWindow], tmp_path: Path) -> MainWindow:
    return make_window(annotated_engine(tmp_path / "images", count=120))


def test_figures_menu_exports_the_retrieval_preview_as_png_svg_and_pdf(
    window: MainWindow, qtbot: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    window.session.request_image_query(3)
    action = window.insight.figure_actions["preview"]
    menus = {a.text().replace("&", ""): a.menu() for a in window.menuBar().actions()}
    assert action in menus["Figures"].actions()
    assert len(menus["Figures"].actions()) == len(FIGURE_KINDS) + 3  # a separator, keep box, clear boxes
    for suffix in (".png", ".svg", ".pdf"):
        target = tmp_path / f"preview{suffix}"
        monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, t=target: (str(t), ""))
        action.trigger()
        assert target.is_file(), suffix
    svg = (tmp_path / "preview.svg").read_bytes()
    assert svg_paths_under(svg, "joints-2d") >= 6 * 15 and svg_paths_under(svg, "skeleton-3d") >= 6 * 13
    assert svg_images(svg) == 6  # the query image and five results
    k = len(window.results_view.model.state.indices)
    assert f"green: among the true {k} nearest".encode() in svg
    pdf = (tmp_path / "preview.pdf").read_bytes()
    assert pdf_images(pdf) == 6 and pdf_path_operators(pdf) > 100
    assert (tmp_path / "preview.png").read_bytes().startswith(b"\x89PNG")


def test_mask_figure_needs_a_posebit_and_then_draws_both_masks(window: MainWindow, tmp_path: Path) -> None:
    errors: list[BaseException] = []
    window.notifier.show_exception = errors.append  # type: ignore[method-assign]
    window.insight.save_figure("masks", str(tmp_path / "none.svg"))
    assert not (tmp_path / "none.svg").exists() and "Tick a posebit" in str(errors[0])
    name = window.session.engine.vocabulary.names[2]
    window.session.request_conditions({name: 0})
    window.insight.save_figure("masks", str(tmp_path / "masks.svg"))
    svg = (tmp_path / "masks.svg").read_bytes()
    dims = len(window.session.engine.mask_for(((name, 1),)))
    assert svg_paths_under(svg, "mask-bars-is-not") == dims and svg_images(svg) == 0
    window.session._debounce.timeout.emit()  # the ticked bit's search
    window.insight.save_figure("grid", str(tmp_path / "grid.svg"))
    label = window.session.engine.vocabulary.bits[2].label
    assert f"{label}? False".encode() in (tmp_path / "grid.svg").read_bytes()  # titled as the thesis does
    window.insight.save_figure("escape", str(tmp_path / "escape.svg"))
    strip = (tmp_path / "escape.svg").read_bytes()
    assert svg_images(strip) == 5 and b"rank 0" in strip and f"not: {label}".encode() in strip


def test_question_grid_frames_follow_the_chosen_criterion(window: MainWindow, tmp_path: Path) -> None:
    window.session.request_image_query(3)
    window.results_view.criterion_kind.setCurrentIndex(
        window.results_view.criterion_kind.findData("threshold")
    )
    window.insight.save_figure("grid", str(tmp_path / "grid.svg"))
    svg = (tmp_path / "grid.svg").read_bytes()
    frames = window.results_view.frames().correct[:25]
    assert svg_paths_under(svg, "frame-correct") == 4 * int(frames.sum())  # four spines per tile
    assert svg_paths_under(svg, "frame-wrong") == 4 * int((~frames).sum())
    assert b"3D distance to the query" in svg


def test_evaluation_view_shows_curves_and_the_question_table_and_caches(window: MainWindow) -> None:
    view, controller = window.insight.evaluation_view, window.insight.evaluation
    view.button.click()
    assert controller.runs == 1 and view.result is not None
    assert not view.curves.original.isNull()
    labels = [view.table.verticalHeaderItem(r).text() for r in range(view.table.rowCount())]
    assert "chance" in labels and "example image query" in labels
    assert float(view.table.item(labels.index("chance"), 0).text()) > 0
    keys = [table["key"] for table in view.result.report["tables"]]
    assert {"hit@k/2d", "hit@k/3d", "hit@k/procrustes", "hit@k/hamming"} <= set(keys)
    view.button.click()
    assert controller.runs == 1  # cached for this gallery and model


def test_a_stored_evaluation_is_shown_again_without_evaluating(
    make_window: Callable[..., MainWindow], tmp_path: Path, evaluation_cache: Path
) -> None:
    engine = annotated_engine(tmp_path / "images", count=90)
    first = make_window(engine)
    first.insight.evaluation_view.button.click()
    assert first.insight.evaluation.runs == 1 and len(list(evaluation_cache.glob("*.json"))) == 1
    second = make_window(engine)  # a relaunch: a new window, nothing in memory
    second.insight.evaluation_view.button.click()
    assert second.insight.evaluation.runs == 0
    assert second.insight.evaluation_view.result.report == first.insight.evaluation_view.result.report
    engine.model_name = "another_net"  # another model: evaluated afresh
    second.insight.evaluation_view.button.click()
    assert second.insight.evaluation.runs == 1


def test_evaluation_runs_off_the_gui_thread(
    make_window: Callable[..., MainWindow], tmp_path: Path, qtbot: Any, tmp_path_factory: Any
) -> None:
    window = make_window(annotated_engine(tmp_path / "async", count=90), synchronous=False)
    view = window.insight.evaluation_view
    view.button.click()
    assert not view.button.isEnabled() and "Evaluating" in view.status.text()  # returned at once
    qtbot.waitUntil(lambda: view.result is not None, timeout=120000)  # generous: a loaded 2-core machine
    assert view.button.isEnabled() and "queries" in view.status.text()
    window.insight.save_figure("evaluation", str(tmp_path / "curves.pdf"))
    window.insight.save_figure("card", str(tmp_path / "card.svg"))  # asked before the first is drawn
    qtbot.waitUntil(lambda: window.insight.figures_written == 2, timeout=120000)
    assert (tmp_path / "curves.pdf").read_bytes().startswith(b"%PDF")
    assert (tmp_path / "card.svg").read_bytes().startswith(b"<?xml")
