"""``posebrowser estimate IMAGE|DIR``: JSON output for a file and for a folder with bad files in it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from PIL import Image

from posebrowser.cli import main
from posebrowser.pose.skeleton import JOINT_NAMES

from .conftest import skimage_photo


@pytest.fixture(autouse=True)
def _needs_mediapipe() -> None:
    pytest.importorskip("mediapipe")


def test_one_photo_as_json(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    photo = tmp_path / "camera.jpg"
    skimage_photo("camera").save(photo)
    assert main(["estimate", str(photo), "--json", "--cache-dir", str(tmp_path / "cache")]) == 0
    payload = json.loads(capsys.readouterr().out)
    assert payload["joint_names"] == list(JOINT_NAMES)
    (record,) = payload["images"]
    assert record["path"] == str(photo) and record["status"] == "person" and record["cached"] is False
    assert len(record["joints_2d"]) == 16 and len(record["posebits"]) == len(payload["posebit_names"])
    assert main(["estimate", str(photo), "--json", "--cache-dir", str(tmp_path / "cache")]) == 0
    assert json.loads(capsys.readouterr().out)["images"][0]["cached"] is True


def test_a_folder_with_a_photo_a_blank_a_tiny_and_a_broken_file(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    folder = tmp_path / "photos"
    (folder / "sub").mkdir(parents=True)
    skimage_photo("camera").save(folder / "a_camera.png")
    Image.new("RGB", (200, 150), (90, 90, 90)).save(folder / "b_blank.png")
    Image.new("RGB", (12, 12)).save(folder / "sub" / "c_tiny.png")
    (folder / "d_broken.jpg").write_bytes(b"\xff\xd8\xff garbage")
    (folder / "notes.txt").write_text("not listed: not an image suffix")
    assert main(["estimate", str(folder), "--json", "--no-cache"]) == 0
    records = {Path(r["path"]).name: r for r in json.loads(capsys.readouterr().out)["images"]}
    assert set(records) == {"a_camera.png", "b_blank.png", "c_tiny.png", "d_broken.jpg"}
    assert records["a_camera.png"]["status"] == "person"
    assert records["b_blank.png"]["reason"] == "no-person"
    assert records["c_tiny.png"]["reason"] == "image-too-small"
    assert "error" in records["d_broken.jpg"]


def test_plain_text_output(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    Image.new("RGB", (200, 150), (90, 90, 90)).save(tmp_path / "blank.png")
    assert main(["estimate", str(tmp_path / "blank.png"), "--no-cache"]) == 0
    assert "no person" in capsys.readouterr().out


@pytest.mark.parametrize("name, content, message", [
    ("broken.jpg", b"\xff\xd8 garbage", "not an image"),
    ("missing.jpg", None, "no such image"),
])
def test_a_single_bad_file_is_a_clear_error(tmp_path: Path, capsys: pytest.CaptureFixture[str], name: str,
                                            content: bytes | None, message: str) -> None:
    if content is not None:
        (tmp_path / name).write_bytes(content)
    assert main(["estimate", str(tmp_path / name), "--no-cache"]) == 1
    error = capsys.readouterr().err
    assert error.startswith("posebrowser: error:") and message in error and "Traceback" not in error
