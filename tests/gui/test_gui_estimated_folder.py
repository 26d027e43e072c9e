"""Through the app: a folder of real photos with no annotation file is opened with the real engine, its
poses are estimated off the GUI thread with progress (and can be cancelled, then resumed), and every
place that shows annotations says they are estimated while posebit counts, the posebit filter, green/red
marks, the inspector and colour-by-posebit read the estimated bits."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from posebrowser.app import RealEngineFactory, build
from posebrowser.core.engine import default_models_dir
from posebrowser.data.loading import open_gallery
from posebrowser.errors import PosebrowserError
from posebrowser.gui.settings_store import SettingsStore

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tests/: the estimate tests' photo folders

from estimate.photo_folders import EMPTY_ROOM, build_photo_folder

pytestmark = pytest.mark.skipif(
    importlib.util.find_spec("mediapipe") is None
    or not (default_models_dir() / "image_net.safetensors").is_file(),
    reason="needs mediapipe and the shipped models",
)


def _photo_folder(tmp_path: Path, renders: int) -> Path:
    try:
        builtin = open_gallery()
    except PosebrowserError as error:
        pytest.skip(f"the built-in gallery cannot be opened ({error})")
    return build_photo_folder(tmp_path / "photos", builtin, renders)


def _open_app(qtbot: Any, tmp_path: Path) -> tuple[Any, Any, Any, list[tuple[str, int, int]]]:
    window, session, notifier = build(
        RealEngineFactory(None, "cpu", str(tmp_path / "cache")), SettingsStore(tmp_path / "s.ini")
    )
    qtbot.addWidget(window)
    window.show()
    progress: list[tuple[str, int, int]] = []
    session.job_progress.connect(lambda channel, done, total: progress.append((channel, done, total)))
    return window, session, notifier, progress


def _wait_for_engine(qtbot: Any, session: Any, notifier: Any) -> None:
    qtbot.waitUntil(
        lambda: session.engine is not None or any(level.value == "error" for level, _ in notifier.history),
        timeout=300_000,
    )
    assert session.engine is not None, notifier.history


def _split_bit(gallery: Any) -> tuple[str, int]:
    ones, zeros = (gallery.posebits == 1).sum(axis=0), (gallery.posebits == 0).sum(axis=0)
    column = int(np.argmax(np.minimum(ones, zeros)))
    assert min(ones[column], zeros[column]) >= 1, "no estimated posebit differs between the photos"
    return gallery.posebit_names[column], column


def test_an_own_photo_folder_is_estimated_and_every_view_says_so(qtbot: Any, tmp_path: Path) -> None:
    folder = _photo_folder(tmp_path, renders=6)
    window, session, notifier, progress = _open_app(qtbot, tmp_path)
    session.load(str(folder))
    _wait_for_engine(qtbot, session, notifier)
    gallery = session.engine.gallery
    count = len(gallery)
    estimated_steps = {done for channel, done, total in progress if channel == "engine" and total == count}
    assert set(range(1, count + 1)) <= estimated_steps, "one progress step per estimated image"
    messages = [text for _, text in notifier.history]
    assert any("estimated from the photos" in text for text in messages)
    assert sum(EMPTY_ROOM in text for text in messages) == 1, "images without a person are listed once"
    assert "poses estimated" in window.engine_status.label.text()
    assert window.gallery_view.posebit_filter.text() == "Match estimated posebits"

    name, column = _split_bit(gallery)
    holders = np.flatnonzero(gallery.posebits[:, column] == 1)
    window.posebit_panel.set_bit(name, 1)
    qtbot.waitUntil(
        lambda: session.results is not None and session.results.chip_names == (name,), timeout=60_000
    )
    qtbot.waitUntil(
        lambda: (
            window.posebit_panel.count_label.text()
            == f"{len(holders):,} matching images (estimated posebits)"
        ),
        timeout=10_000,
    )
    results = session.results
    assert len(results.indices) == count, "the default 50 results hold the whole small folder"
    np.testing.assert_array_equal(results.correct, gallery.posebits[results.indices, column] == 1)
    assert results.correct.any() and not results.correct.all(), "green and red marks"
    assert "by the estimated poses" in window.results_view.legend.text()

    session.set_filter_by_posebits(True)
    qtbot.waitUntil(lambda: window.gallery_view.model.rowCount() == len(holders), timeout=10_000)

    window.insight.inspect(int(results.indices[0]))
    qtbot.waitUntil(lambda: window.insight.inspector.inspection is not None, timeout=10_000)
    assert window.insight.inspector.inspection.estimated
    assert "estimated pose" in window.insight.inspector.title.text()

    session.set_colour_by(f"posebit:{name}")
    qtbot.waitUntil(lambda: "(estimated)" in window.projection_view.legend.text(), timeout=60_000)
    assert "dark: unknown" in window.projection_view.legend.text()
    window.close()


def test_cancelling_the_estimation_keeps_what_is_done_and_reopening_resumes(
    qtbot: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from posebrowser.estimate.cache import EstimateCache
    from posebrowser.estimate.estimator import PoseEstimator
    from posebrowser.estimate.folder import estimate_cache_root

    folder = _photo_folder(tmp_path, renders=24)
    images = len(list(folder.iterdir()))
    calls: list[object] = []
    original = PoseEstimator.estimate
    monkeypatch.setattr(
        PoseEstimator, "estimate", lambda self, image: calls.append(image) or original(self, image)
    )
    window, session, notifier, progress = _open_app(qtbot, tmp_path)

    def cancel_after_three(channel: str, done: int, total: int) -> None:
        if channel == "engine" and done == 3 and total == images:
            session.cancel_jobs()

    session.job_progress.connect(cancel_after_three)
    session.load(str(folder))
    qtbot.waitUntil(lambda: len(progress) > 0, timeout=300_000)
    qtbot.waitUntil(lambda: not session.workers.is_busy("engine"), timeout=120_000)
    assert session.engine is None, "a cancelled build opens nothing"
    with PoseEstimator() as estimator:
        cached = len(EstimateCache(estimate_cache_root(tmp_path / "cache"), estimator.version))
    assert 3 <= cached < images and len(calls) == cached

    session.job_progress.disconnect(cancel_after_three)
    calls.clear()
    session.load(str(folder))
    _wait_for_engine(qtbot, session, notifier)
    assert len(calls) == images - cached, "only the images not estimated before the cancel are estimated"
    assert "poses estimated" in window.engine_status.label.text()
    window.close()


def test_a_stored_evaluation_is_not_reused_for_estimates_of_another_estimator() -> None:
    from types import SimpleNamespace

    from posebrowser.estimate.folder import ESTIMATED
    from posebrowser.gui.evaluation_view import cache_key

    class Photos(list[str]):
        content_hash = "abc"

        def __init__(self, manifest: dict[str, Any]) -> None:
            super().__init__(["a.jpg", "b.jpg"])
            self.manifest = manifest

    def key(manifest: dict[str, Any]) -> str:
        gallery = Photos(manifest)
        return cache_key(SimpleNamespace(gallery=gallery, vocabulary=SimpleNamespace(version="pb1")))

    def estimated(version: str) -> dict[str, Any]:
        return {"posebits_from": ESTIMATED, ESTIMATED: {"estimator": version}}

    assert key(estimated("v1")) == key(estimated("v1"))
    assert len({key(estimated("v1")), key(estimated("v2")), key({})}) == 3
