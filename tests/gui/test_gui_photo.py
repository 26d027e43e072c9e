"""Real photos as queries: dropped / opened photos go through the real pose estimator, show their skeleton,
are cropped to the person before they are embedded, and offer "this image" and "this photo's pose";
a photo without a person is a notice that changes nothing.

The photos are scikit-image's, read from the installed package at test time; the estimator is the real
one (BlazePose). The engine is the GUI tests' fake engine over the real posebit vocabulary (so the
estimated posebits are posebits it knows), which embeds image files with a small deterministic function
and records which files it embedded.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from drops import drop
from fake_engine import FakeEngine, make_engine
from PIL import Image
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFileDialog

from posebrowser.core.query import ImageTerm, PosebitTerm
from posebrowser.estimate.crop import GALLERY_FILL, crop_box, crop_image
from posebrowser.estimate.estimator import MIN_JOINT_CONFIDENCE, PoseEstimator, rgb_array
from posebrowser.estimate.result import PoseEstimate
from posebrowser.gui.main_window import MainWindow
from posebrowser.gui.notifications import Level
from posebrowser.pose.posebits import get_vocabulary
from posebrowser.pose.skeleton import BONES


@pytest.fixture(scope="module")
def estimator() -> Iterator[PoseEstimator]:
    if importlib.util.find_spec("mediapipe") is None:
        pytest.skip("mediapipe is not installed (pip install 'mediapipe>=1.2.2,<2')")
    with PoseEstimator() as shared:
        yield shared


def skimage_photo(folder: Path, name: str) -> Path:
    """scikit-image's photo ``name`` written to ``folder`` as PNG."""
    data = pytest.importorskip("skimage.data", reason="scikit-image ships the camera and astronaut photos")
    path = folder / f"{name}.png"
    Image.fromarray(np.asarray(getattr(data, name)())).save(path)
    return path


def real_vocabulary_engine(folder: Path) -> FakeEngine:
    """The fake engine with the real posebit vocabulary and seeded posebits; ``embedded`` lists the image
    files it embedded."""
    engine = make_engine(folder, count=200)
    vocabulary = get_vocabulary()
    rng = np.random.default_rng(11)
    engine.vocabulary = vocabulary  # type: ignore[assignment]
    engine.gallery.posebit_names = vocabulary.names
    engine.gallery.posebits = rng.integers(0, 2, (200, len(vocabulary))).astype(np.int8)
    embedded: list[str] = []
    embed = engine.embed_image_file

    def recording(path: str | Path) -> np.ndarray:
        embedded.append(str(path))
        return embed(path)

    engine.embed_image_file = recording  # type: ignore[method-assign]
    engine.embedded = embedded  # type: ignore[attr-defined]
    return engine


@pytest.fixture
def photo_window(
    make_window: Callable[..., MainWindow], estimator: PoseEstimator, tmp_path: Path
) -> Callable[..., MainWindow]:
    def make(synchronous: bool = True) -> MainWindow:
        window = make_window(real_vocabulary_engine(tmp_path / "images"), synchronous=synchronous)
        window.photo.estimator = estimator
        window.photo.cache_root = tmp_path / "estimates"
        return window

    return make


def warnings(window: MainWindow) -> list[str]:
    return [text for level, text in window.notifier.history if level is Level.WARNING]


def test_a_dropped_photo_shows_its_skeleton_and_queries_its_crop(
    photo_window: Callable[..., MainWindow], tmp_path: Path, qtbot: Any
) -> None:
    window = photo_window()
    session, engine = window.session, window.session.engine
    path = skimage_photo(tmp_path, "camera")
    drop(window, path)
    photo = window.photo.photo
    assert photo is not None and isinstance(photo.estimate, PoseEstimate)
    estimate = photo.estimate
    # the skeleton over the photo: every bone whose two joints are confident, every confident joint
    confident = estimate.confidence >= MIN_JOINT_CONFIDENCE
    window.photo.dock.raise_()
    view = window.photo.panel.view
    view.grab()  # paints
    assert view.bones_drawn == sum(bool(confident[a] and confident[b]) for a, b, _ in BONES) > 0
    assert view.joints_drawn == int(confident.sum())
    np.testing.assert_allclose(view.joints[confident], estimate.joints_2d[confident])
    # the crop: the person box padded to the gallery's fill and a square, and that is what was embedded
    expected = crop_box(estimate.box, GALLERY_FILL)
    assert photo.crop == expected and view.crop == expected.as_tuple()
    assert session.query.terms == (ImageTerm(path=str(photo.crop_path)),)
    assert engine.embedded == [str(photo.crop_path)]
    embedded = Image.open(engine.embedded[0]).convert("RGB")
    assert embedded.size == (expected.side, expected.side)
    np.testing.assert_array_equal(np.asarray(embedded), np.asarray(crop_image(rgb_array(path), expected)))
    assert session.results is not None and len(session.results.indices) > 0
    # the crop is visible: the dock's preview and the query chip (its thumbnail names the crop file)
    assert not window.photo.panel.crop_preview.pixmap().isNull()
    assert photo.crop_path.name in window.query_bar.chips[0].content.toolTip()
    assert window.photo.choice.isVisible() and window.photo.choice.choice == "image"
    # the choice is a row of its own above the chips, which keep the bar's whole width
    qtbot.wait(20)
    choice, chips = window.photo.choice.geometry(), window.query_bar.chip_scroll.geometry()
    assert choice.bottom() < chips.top()
    assert chips.width() >= window.query_bar.width() - 60


def test_this_photos_pose_asks_the_confident_posebits(
    photo_window: Callable[..., MainWindow], tmp_path: Path, qtbot: Any
) -> None:
    window = photo_window()
    session = window.session
    drop(window, skimage_photo(tmp_path, "camera"))
    estimate = window.photo.photo.estimate
    names = get_vocabulary().names
    confident = tuple(sorted((names[i], int(v)) for i, v in enumerate(estimate.posebits) if v >= 0))
    assert 0 < len(confident) < len(names)
    choice = window.photo.choice
    assert choice.pose_button.isEnabled()
    qtbot.mouseClick(choice.pose_button, Qt.MouseButton.LeftButton)
    (term,) = session.query.terms
    assert isinstance(term, PosebitTerm)
    assert term.conditions == confident and term.mode == session.settings.partial_method
    assert session.results is not None and len(session.results.indices) > 0
    assert choice.choice == "pose"
    qtbot.mouseClick(choice.image_button, Qt.MouseButton.LeftButton)
    assert session.query.terms == (ImageTerm(path=str(window.photo.photo.crop_path)),)
    assert choice.choice == "image"
    window.back_action.trigger()  # the history holds both photo queries
    assert session.query.terms == (term,) and choice.choice == "pose"
    window.session.request_image_query(3)  # another query: neither chip is checked
    assert choice.choice == ""


def test_a_photos_pose_is_never_asked_as_a_mask(
    photo_window: Callable[..., MainWindow], tmp_path: Path, qtbot: Any
) -> None:
    """With *Mask origin* chosen in the posebit panel, a photo's ~80 bits would need a mask no gallery
    item can teach (none holds them all: 'Cannot learn a mask'), so its pose goes through the posebit net."""
    window = photo_window()
    window.session.set_partial_method("mask")
    drop(window, skimage_photo(tmp_path, "camera"))
    qtbot.mouseClick(window.photo.choice.pose_button, Qt.MouseButton.LeftButton)
    (term,) = window.session.query.terms
    assert isinstance(term, PosebitTerm) and term.mode == "conditional"
    assert window.session.results is not None and len(window.session.results.indices) > 0


def test_the_photo_is_estimated_off_the_gui_thread(
    photo_window: Callable[..., MainWindow], tmp_path: Path, qtbot: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    window = photo_window(synchronous=False)
    path = skimage_photo(tmp_path, "camera")
    monkeypatch.setattr(QFileDialog, "getOpenFileName", lambda *args, **kwargs: (str(path), ""))
    window.open_image()  # File ▸ Open image as query
    qtbot.waitUntil(lambda: window.session.results is not None, timeout=120_000)
    assert window.photo.analysis_threads == ["pb-light"]
    assert window.session.query.terms == (ImageTerm(path=str(window.photo.photo.crop_path)),)


@pytest.mark.parametrize("picture", ["coffee", "gradient", "tiny"])
def test_a_photo_without_a_person_is_a_notice_and_changes_nothing(
    photo_window: Callable[..., MainWindow], tmp_path: Path, qtbot: Any, picture: str
) -> None:
    window = photo_window()
    session, engine = window.session, window.session.engine
    drop(window, skimage_photo(tmp_path, "camera"))
    before_photo = window.photo.photo
    session.request_image_query(5)
    query, results, searches = session.query, session.results, engine.calls.count("search")
    history = (window.back_action.isEnabled(), window.forward_action.isEnabled())
    chips = [chip.content.toolTip() for chip in window.query_bar.chips]
    if picture == "gradient":
        path = tmp_path / "gradient.png"
        ramp = np.linspace(0, 255, 320, dtype=np.uint8)
        Image.fromarray(np.stack([np.tile(ramp, (240, 1))] * 3, axis=-1)).save(path)
    elif picture == "tiny":  # too small to look for a person in
        path = tmp_path / "tiny.png"
        Image.fromarray(np.asarray(Image.open(skimage_photo(tmp_path, "camera")))[::24, ::24]).save(path)
    else:
        path = skimage_photo(tmp_path, picture)
    drop(window, path)
    notice = warnings(window)[-1]
    assert path.name in notice and "No person" in notice and "unchanged" in notice
    assert ("pixels" in notice) == (picture == "tiny")  # a photo too small says so
    assert window.banner.isVisible() and notice in window.banner.label.text()
    assert session.query is query and session.results is results and engine.calls.count("search") == searches
    assert (window.back_action.isEnabled(), window.forward_action.isEnabled()) == history
    assert [chip.content.toolTip() for chip in window.query_bar.chips] == chips
    assert window.photo.photo is before_photo  # the dock keeps the previous photo
    window.back_action.trigger()  # the history is the one before the drop: back → the camera crop
    assert session.query.terms == (ImageTerm(path=str(before_photo.crop_path)),)


def test_a_low_confidence_photo_says_so(
    photo_window: Callable[..., MainWindow], tmp_path: Path, qtbot: Any
) -> None:
    """The astronaut: upper body only, hips out of the frame — low confidence."""
    window = photo_window()
    drop(window, skimage_photo(tmp_path, "astronaut"))
    photo = window.photo.photo
    assert photo is not None and photo.estimate is not None and photo.estimate.low_confidence
    assert any("low confidence" in text and "astronaut.png" in text for text in warnings(window))
    assert window.session.query.terms == (ImageTerm(path=str(photo.crop_path)),)
    assert window.photo.choice.pose_button.isEnabled() == bool(photo.conditions)
    if not photo.conditions:
        window.photo.ask_pose()
        assert "No posebit" in warnings(window)[-1]
        assert window.session.query.terms == (ImageTerm(path=str(photo.crop_path)),)


def test_an_unreadable_photo_is_an_error_and_changes_nothing(
    photo_window: Callable[..., MainWindow], tmp_path: Path
) -> None:
    window = photo_window()
    window.session.request_image_query(4)
    query = window.session.query
    fake = tmp_path / "notes.png"
    fake.write_text("this is a text file")
    drop(window, fake)
    assert any("notes.png" in text for level, text in window.notifier.history if level is Level.ERROR)
    assert window.session.query is query and window.photo.photo is None


def test_without_the_estimator_the_photo_is_queried_whole(
    photo_window: Callable[..., MainWindow], tmp_path: Path
) -> None:
    window = photo_window()
    window.photo.estimator = PoseEstimator(tmp_path / "missing.task")
    path = skimage_photo(tmp_path, "camera")
    window.photo.request_photo(str(path))
    assert any("cannot run" in text for text in warnings(window))
    assert window.session.query.terms == (ImageTerm(path=str(path)),)
    assert window.session.results is not None


REPO = Path(__file__).resolve().parents[2]


@pytest.mark.slow
@pytest.mark.skipif(
    not (REPO / "resources" / "gallery").is_dir()
    or not (REPO / "models" / "image_net.safetensors").is_file(),
    reason="the built-in gallery or the shipped models are missing",
)
def test_a_photo_over_the_real_engine(estimator: PoseEstimator, qtbot: Any, tmp_path: Path) -> None:
    """The shipped models and the built-in gallery: the crop is embedded by the image net, and the pose
    query is answered with results scored against exactly the photo's confident posebits."""
    from posebrowser.app import RealEngineFactory, build
    from posebrowser.gui.settings_store import SettingsStore

    window, session, notifier = build(
        RealEngineFactory(None, "cpu", None), SettingsStore(tmp_path / "s.ini")
    )
    qtbot.addWidget(window)
    window.photo.estimator, window.photo.cache_root = estimator, tmp_path / "estimates"
    window.show()
    session.load()
    qtbot.waitUntil(
        lambda: session.engine is not None or any(level is Level.ERROR for level, _ in notifier.history),
        timeout=240_000,
    )
    assert session.engine is not None, notifier.history
    if not (REPO / "models" / "posebit_net.safetensors").is_file():
        session.set_partial_method("mask")  # conditional completion needs the posebit network
    drop(window, skimage_photo(tmp_path, "camera"))
    qtbot.waitUntil(lambda: session.results is not None, timeout=60_000)
    photo = window.photo.photo
    assert session.results.query.terms == (ImageTerm(path=str(photo.crop_path)),)
    assert len(session.results.indices) > 0
    qtbot.mouseClick(window.photo.choice.pose_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(
        lambda: session.results is not None and isinstance(session.results.query.terms[0], PosebitTerm),
        timeout=60_000,
    )
    asked = tuple(sorted(photo.conditions))
    assert session.results.query.terms[0].conditions == asked and len(session.results.indices) > 0
    assert tuple(sorted(zip(session.results.chip_names, session.results.chip_values, strict=True))) == asked
    window.close()
