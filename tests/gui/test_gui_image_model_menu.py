"""The *Image model* menu: the image CNN or the pose estimator + joints net, among the models present;
choosing one reopens the gallery with it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fake_engine import make_engine
from PySide6.QtWidgets import QMenu

from posebrowser.gui.settings_store import SettingsStore


class _Factory:
    """Records which image model each opening used (the app's RealEngineFactory, over a fake engine)."""

    def __init__(self, folder: Path) -> None:
        self.image_model = "image_net"
        self.opened: list[str] = []
        self.folder = folder

    def image_models(self) -> tuple[tuple[str, str], ...]:
        return (("image_net", "Image CNN"), ("joints_net", "Pose estimator + joints net"))

    def __call__(self, context: Any, gallery_path: str | None) -> Any:
        self.opened.append(self.image_model)
        return make_engine(self.folder, count=30)


def _window(qtbot: Any, tmp_path: Path, factory: Any) -> Any:
    from posebrowser.app import build

    window, session, _ = build(factory, SettingsStore(tmp_path / "s.ini"), synchronous=True)
    qtbot.addWidget(window)
    window.show()
    session.load()
    return window


def test_choosing_the_joints_model_reopens_the_gallery_with_it(qtbot: Any, tmp_path: Path) -> None:
    factory = _Factory(tmp_path / "images")
    window = _window(qtbot, tmp_path, factory)
    menu: QMenu = window.image_model_menu
    assert menu.isEnabled()
    actions = {action.data(): action for action in menu.actions()}
    assert set(actions) == {"image_net", "joints_net"} and actions["image_net"].isChecked()
    window.session.request_image_query(2)
    actions["joints_net"].trigger()
    assert factory.opened == ["image_net", "joints_net"]
    assert window.session.engine is not None and window.session.query is None  # a new space: starts over
    actions["joints_net"].trigger()  # the model in use: nothing reopens
    assert factory.opened == ["image_net", "joints_net"]


def test_a_factory_without_a_choice_disables_the_menu(qtbot: Any, tmp_path: Path) -> None:
    engine = make_engine(tmp_path / "images", count=10)
    window = _window(qtbot, tmp_path, lambda ctx, path: engine)
    assert not window.image_model_menu.isEnabled() and window.session.image_models() == ()


def test_the_app_offers_the_models_in_the_models_folder(tmp_path: Path) -> None:
    from posebrowser.app import RealEngineFactory
    from posebrowser.core.engine import default_models_dir

    shipped = RealEngineFactory(None, "cpu", None).image_models()
    expected = [
        name
        for name in ("fused_net", "image_net", "joints_net", "keypoint_reader")
        if (default_models_dir() / f"{name}.safetensors").is_file()
    ]
    assert [name for name, _ in shipped] == expected
    (tmp_path / "image_net.safetensors").write_bytes(b"")
    assert [name for name, _ in RealEngineFactory(str(tmp_path), "cpu", None).image_models()] == [
        "image_net"
    ]
