"""Sessions (save → restore, unsafe paths), export, device switch, workers' stale-result dropping."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
from fake_engine import FakeEngine

from posebrowser.errors import DataError, UnsafeFileError
from posebrowser.gui import session_io
from posebrowser.gui.main_window import MainWindow
from posebrowser.gui.workers import Workers


def _rich_state(window: MainWindow, qtbot: Any) -> None:
    session, names = window.session, window.session.engine.vocabulary.names
    session.set_weight_asked_bits(False)
    session.set_partial_method("mask")
    session.request_conditions({names[0]: 1, names[4]: 0})
    qtbot.waitUntil(lambda: session.query is not None, timeout=2000)
    session.request_add_result_term(12, -1.0)
    session.request_projection("tsne", subspace=True)
    session.set_selection([3, 1, 2])
    session.set_colour_by(f"posebit:{names[1]}")
    session.set_split("train")


def test_save_then_restore_gives_the_same_state(
    make_window: Any, fake_engine: Any, qtbot: Any, tmp_path: Any
) -> None:
    first = make_window(fake_engine)
    _rich_state(first, qtbot)
    path = tmp_path / "saved" / "state.pbsession.json"
    session_io.save_session(first.session, path)
    saved = json.loads(path.read_text())
    assert saved["gallery"] == str(tmp_path / "images")
    second = make_window(fake_engine)
    session_io.restore_session(second.session, path)
    for key in ("query", "conditions", "settings", "selection"):
        assert session_io.session_to_dict(second.session, path.parent)[key] == saved[key]
    assert second.posebit_panel.conditions() == first.posebit_panel.conditions()
    assert second.projection_view.method.currentData() == "tsne"
    assert second.projection_view.subspace.isChecked()  # restored, not just remembered
    assert second.gallery_view.split_combo.currentData() == "train"
    assert saved["settings"]["weight_asked_bits"] is False and not second.session.settings.weight_asked_bits
    assert not second.posebit_panel.weight_asked.isChecked()
    np.testing.assert_array_equal(
        second.results_view.model.state.indices, first.results_view.model.state.indices
    )


def test_session_paths_cannot_escape_and_bad_files_are_errors(window: MainWindow, tmp_path: Any) -> None:
    path = tmp_path / "s.json"
    session_io.save_session(window.session, path)
    data = json.loads(path.read_text())
    data["gallery"] = "../../etc"
    path.write_text(json.dumps(data))
    with pytest.raises(UnsafeFileError):
        session_io.read_session(path)
    data["gallery"] = None
    data["selection"] = [10**6]
    path.write_text(json.dumps(data))
    with pytest.raises(DataError):
        session_io.restore_session(window.session, path)
    data["selection"], data["settings"]["k"] = [], 10**9
    path.write_text(json.dumps(data))
    with pytest.raises(DataError):
        session_io.restore_session(window.session, path)
    path.write_text("{ not json")
    with pytest.raises(DataError):
        session_io.read_session(path)
    data["selection"], data["conditions"] = [], {"no_such_bit": 1}
    path.write_text(json.dumps(data))
    with pytest.raises(DataError):
        session_io.restore_session(window.session, path)


def test_export_results_csv_json_and_images(window: MainWindow, tmp_path: Any) -> None:
    window.session.request_image_query(7)
    assert session_io.export_results(window.session, tmp_path / "r.csv") == 50
    assert (tmp_path / "r.csv").read_text().splitlines()[1].startswith("1,7,1007,")
    assert session_io.export_results(window.session, tmp_path / "r.json") == 50
    assert json.loads((tmp_path / "r.json").read_text())["query"] == "[img 7]"
    for name in ("grid.png", "grid.svg"):
        window.results_view.export_image(str(tmp_path / name))
        assert (tmp_path / name).stat().st_size > 0
    for name in ("map.png", "map.svg"):
        window.projection_view.export_image(str(tmp_path / name))
        assert (tmp_path / name).stat().st_size > 0


def test_device_switch_updates_status_and_reports_fallback(
    make_window: Callable[..., MainWindow], fake_engine: FakeEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Where torch sees a GPU, CUDA is offered; an engine that then falls back says so."""
    import torch

    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    window = make_window(fake_engine)
    combo = window.engine_status.device
    assert combo.findData("cuda") >= 0
    combo.setCurrentIndex(combo.findData("cuda"))
    combo.activated.emit(combo.currentIndex())
    assert "device:cuda" in window.session.engine.calls
    assert window.engine_status.device_label.text() == "CPU"
    assert any("CUDA is not available" in text for _, text in window.notifier.history)
    combo.setCurrentIndex(combo.findData("cpu"))
    combo.activated.emit(combo.currentIndex())
    assert window.session.engine.calls[-1] == "device:cpu"


def test_workers_drop_stale_results_and_report_errors(qtbot: Any) -> None:
    workers = Workers()
    release = threading.Event()
    got: list[object] = []
    errors: list[BaseException] = []
    workers.submit("search", lambda ctx: release.wait(5) and "old", got.append)
    workers.submit("search", lambda ctx: "new", got.append)
    workers.submit("other", lambda ctx: 1 / 0, got.append, on_error=errors.append)
    release.set()
    qtbot.waitUntil(lambda: got == ["new"] and len(errors) == 1, timeout=3000)
    qtbot.wait(50)
    assert got == ["new"] and isinstance(errors[0], ZeroDivisionError)
    assert not workers.is_busy()
    workers.shutdown()


def test_window_layout_is_remembered(make_window: Any, fake_engine: Any) -> None:
    first = make_window(fake_engine)
    first.docks["mask"].hide()
    first.session.set_partial_method("mask")
    first.session.set_weight_asked_bits(False)
    first.close()
    second = make_window(fake_engine)
    assert not second.docks["mask"].isVisible()
    assert second.session.settings.partial_method == "mask"
    assert not second.session.settings.weight_asked_bits and not second.posebit_panel.weight_asked.isChecked()
    assert second.posebit_panel.method.currentData() == "mask"
    assert second.docks["gallery"].isVisible()


def test_discard_drops_answers_about_a_replaced_gallery(qtbot: Any) -> None:
    workers = Workers()
    release = threading.Event()
    got: list[object] = []
    workers.submit("search", lambda ctx: release.wait(5) and "stale", got.append)
    workers.discard()
    release.set()
    qtbot.waitUntil(lambda: not workers.is_busy(), timeout=3000)
    assert got == []
    workers.submit("search", lambda ctx: "fresh", got.append)
    qtbot.waitUntil(lambda: got == ["fresh"], timeout=3000)
    workers.shutdown()
