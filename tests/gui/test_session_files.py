"""Session files keep the frame criterion and the projection parameters: save → a new window → restore
gives them back, in the session and on screen; a file with invalid ones restores nothing."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from fake_engine import FakeEngine

from posebrowser.errors import DataError
from posebrowser.gui import session_io
from posebrowser.gui.frames import FrameCriterion
from posebrowser.gui.main_window import MainWindow

CHOSEN = FrameCriterion("threshold", "2d", 12.5)


def test_the_frame_criterion_survives_save_and_restore(
    make_window: Any, fake_engine: FakeEngine, tmp_path: Path
) -> None:
    first = make_window(fake_engine)
    first.results_view.set_criterion(CHOSEN)
    assert first.session.frame_criterion == CHOSEN, "the session follows the results view's choice"
    first.session.request_image_query(3)
    path = tmp_path / "saved" / "criterion.pbsession.json"
    session_io.save_session(first.session, path)
    # the last choice of the run is remembered as a preference: make it another one, so the new window
    # starts with a criterion other than the saved one
    first.results_view.set_criterion(FrameCriterion("posebits"))
    second = make_window(fake_engine)
    assert second.results_view.criterion() != CHOSEN
    session_io.restore_session(second.session, path)
    assert second.session.frame_criterion == CHOSEN
    assert second.results_view.criterion() == CHOSEN, "the Green: controls show the restored criterion"
    assert second.results_view.criterion_threshold.isVisible()


def test_the_projection_parameters_survive_save_and_restore(
    make_window: Any, fake_engine: FakeEngine, tmp_path: Path
) -> None:
    first = make_window(fake_engine)
    first.session.set_projection_params("tsne", {"perplexity": 50.0})
    first.session.set_projection_params("umap", {"n_neighbors": 40})
    first.session.request_projection("tsne")
    path = tmp_path / "params.pbsession.json"
    session_io.save_session(first.session, path)
    second = make_window(fake_engine)
    asked: list[tuple[str, dict[str, Any]]] = []
    project = fake_engine.project

    def recording(method: str, params: Any = None, **options: Any) -> Any:
        asked.append((method, dict(params or {})))
        return project(method, params, **options)

    fake_engine.project = recording  # type: ignore[method-assign]
    session_io.restore_session(second.session, path)
    assert second.session.projection_params("tsne") == {"perplexity": 50.0}
    assert second.session.projection_params("umap") == {"n_neighbors": 40}
    assert asked == [("tsne", {"perplexity": 50.0})], "the restored map is drawn with the restored value"
    parameters = second.projection_view.parameters
    assert parameters.perplexity.value() == 50.0 and parameters.neighbours.value() == 40


def test_a_file_without_them_restores_the_defaults(window: MainWindow, tmp_path: Path) -> None:
    session = window.session
    path = tmp_path / "old.pbsession.json"
    session_io.save_session(session, path)
    data = json.loads(path.read_text())
    del data["settings"]["frame_criterion"], data["settings"]["projection_params"]
    path.write_text(json.dumps(data))
    window.results_view.set_criterion(CHOSEN)
    session.set_projection_params("tsne", {"perplexity": 80.0})
    session_io.restore_session(session, path)
    assert session.frame_criterion == FrameCriterion() and window.results_view.criterion() == FrameCriterion()
    assert session.projection_params("tsne") == {}
    assert window.projection_view.parameters.perplexity.value() == 30.0


@pytest.mark.parametrize(
    "changes",
    [
        {"frame_criterion": {"kind": "bogus", "metric": "2d", "threshold": 1.0}},
        {"frame_criterion": {"kind": "threshold", "metric": "4d", "threshold": 1.0}},
        {"frame_criterion": {"kind": "threshold", "metric": "2d", "threshold": -1.0}},
        {"frame_criterion": {"kind": "threshold", "metric": "2d", "threshold": True}},
        {"frame_criterion": "nearest"},
        {"frame_criterion": {"kind": "threshold", "metric": "2d", "threshold": 10**400}},
        {"frame_criterion": {"kind": "threshold", "metric": "2d", "threshold": float("nan")}},
        {"projection_params": {"umap": {"n_neighbors": 10**400}}},
        {"projection_params": {"tsne": {"perplexity": 1e9}}},
        {"projection_params": {"tsne": {"n_iter": 10}}},
        {"projection_params": {"umap": {"n_neighbors": 2.5}}},
        {"projection_params": {"pca": {}}},
        {"projection_params": []},
    ],
)
def test_invalid_choices_restore_nothing(window: MainWindow, tmp_path: Path, changes: dict[str, Any]) -> None:
    session = window.session
    session.set_split("val")
    path = tmp_path / "bad.pbsession.json"
    session_io.save_session(session, path)
    data = json.loads(path.read_text())
    data["settings"].update(changes)
    path.write_text(json.dumps(data))
    session.set_split(None)
    with pytest.raises(DataError):
        session_io.restore_session(session, path)
    assert session.settings.split is None, "nothing of the file was applied"
    assert session.frame_criterion == FrameCriterion() and session.projection_params("tsne") == {}


@pytest.mark.parametrize("field", ["k", "weight"])
def test_an_integer_too_large_for_a_float_is_an_invalid_field(
    window: MainWindow, tmp_path: Path, field: str
) -> None:
    """A hand-edited number like 10**400 is refused as invalid (it used to escape as an OverflowError)."""
    window.session.request_image_query(3)
    path = tmp_path / "huge.pbsession.json"
    session_io.save_session(window.session, path)
    data = json.loads(path.read_text())
    if field == "k":
        data["settings"]["k"] = 10**400
    else:
        data["query"][0]["weight"] = 10**400
    path.write_text(json.dumps(data))
    with pytest.raises(DataError, match="invalid number"):
        session_io.restore_session(window.session, path)
    assert window.session.settings.k == 50 and window.session.query.terms[0].weight == 1.0
