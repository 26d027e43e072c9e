"""The rule for paths inside a session file (before: any absolute path, e.g. /etc/passwd, was accepted)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from posebrowser.errors import DataError, UnsafeFileError
from posebrowser.gui.session_io import resolve_session_path


@pytest.fixture
def layout(tmp_path: Path) -> tuple[Path, Path]:
    base = tmp_path / "sessions"
    (base / "pictures").mkdir(parents=True)
    (base / "pictures" / "me.png").write_bytes(b"png")
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    (outside / "secret.png").write_bytes(b"png")
    (base / "link").symlink_to(outside, target_is_directory=True)
    return base, outside


@pytest.mark.parametrize(
    ("value", "kind"),
    [
        ("/etc/passwd", "image"),
        ("/etc/passwd", "gallery"),
        ("../elsewhere/secret.png", "image"),
        ("pictures/../../elsewhere/secret.png", "image"),
        ("link/secret.png", "image"),  # a symlink out of the folder
        ("C:/Windows/win.ini", "image"),
        ("..\\\\..\\\\elsewhere\\\\secret.png", "image"),
        ("pictures\\\\me.png", "image"),
    ],
)
def test_paths_that_leave_the_folder_or_name_no_image_are_refused(
    layout: tuple[Path, Path], value: str, kind: str
) -> None:
    base, _ = layout
    with pytest.raises(UnsafeFileError):
        resolve_session_path(value, base, base / "s.json", kind=kind)


def test_paths_inside_the_folder_and_absolute_images_or_folders_are_kept(layout: tuple[Path, Path]) -> None:
    base, outside = layout
    session = base / "s.json"
    assert resolve_session_path("pictures/me.png", base, session) == str(
        (base / "pictures" / "me.png").resolve()
    )
    assert resolve_session_path(str(outside / "secret.png"), base, session) == str(outside / "secret.png")
    assert resolve_session_path(str(outside), base, session, kind="gallery") == str(outside)
    for bad in ("", "a\x00b", 3):
        with pytest.raises(DataError):
            resolve_session_path(bad, base, session)
    assert os.path.isabs(resolve_session_path("pictures", base, session, kind="gallery"))
