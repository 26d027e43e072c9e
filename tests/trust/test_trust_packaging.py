"""Packaging files: the desktop entry and AppStream metainfo validate, the icon renders, the spec
finds everything it bundles, and the launcher starts the app (offscreen) and the command line."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGING = ROOT / "packaging"
APP_ID = "io.github.posebrowser.PoseBrowser"


def run(*command: str, timeout: int = 120) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "PYTHONPATH": str(ROOT)}
    return subprocess.run(command, capture_output=True, text=True, timeout=timeout, cwd=ROOT, env=env)


def validate_desktop_entry(path: Path) -> list[str]:
    """Problems of a .desktop file against the Desktop Entry specification (pyxdg's validator, a dev
    dependency, so this never skips); desktop-file-validate's findings too where it is installed."""
    from xdg.DesktopEntry import DesktopEntry
    from xdg.Exceptions import ParsingError, ValidationError

    try:
        entry = DesktopEntry(str(path))
        entry.validate()
    except (ValidationError, ParsingError) as error:
        return [str(error)]
    problems = list(entry.warnings)
    if shutil.which("desktop-file-validate") is not None:
        done = run("desktop-file-validate", str(path))
        if done.returncode != 0 or "error" in done.stdout:
            problems.append(done.stdout + done.stderr)
    return problems


def test_desktop_file_validates() -> None:
    """Before: this skipped wherever desktop-file-validate was not installed (the set-up never did)."""
    assert validate_desktop_entry(PACKAGING / f"{APP_ID}.desktop") == []


@pytest.mark.parametrize(
    ("line", "broken"),
    [("Type=Application", "Type=Program"), ("Terminal=false", "Terminal=maybe"),
     ("Categories=Science;", "Categories=NotACategory;"), ("Name=PoseBrowser\n", "")],
)
def test_desktop_validation_finds_errors(tmp_path: Path, line: str, broken: str) -> None:
    text = (PACKAGING / f"{APP_ID}.desktop").read_text().replace(line, broken)
    (tmp_path / "broken.desktop").write_text(text)
    assert validate_desktop_entry(tmp_path / "broken.desktop") != []


def test_metainfo_validates() -> None:
    if shutil.which("appstreamcli") is None:
        pytest.skip("appstreamcli is not installed (apt-get install appstream)")
    done = run("appstreamcli", "validate", "--no-net", str(PACKAGING / f"{APP_ID}.metainfo.xml"))
    assert done.returncode == 0, done.stdout + done.stderr


def test_icon_renders_to_a_256_px_png(tmp_path: Path) -> None:
    from PIL import Image

    target = tmp_path / "icon.png"
    done = run(sys.executable, "-c", "import sys; sys.path.insert(0, 'packaging'); import render_icon; "
               f"render_icon.render(png=__import__('pathlib').Path({str(target)!r}))")
    assert done.returncode == 0, done.stderr
    with Image.open(target) as image:
        assert image.size == (256, 256) and image.mode == "RGBA"
        assert image.getextrema()[3] == (0, 255)  # transparent corners, opaque icon


def test_spec_bundles_files_that_exist() -> None:
    import importlib.util

    spec_of = importlib.util.find_spec("torchvision")  # located, not imported (torch is slow to import)
    assert spec_of is not None and spec_of.origin is not None
    folder = Path(spec_of.origin).parent
    for name in ("_C_stable.so", "image_stable.so"):
        assert (folder / name).exists(), f"torchvision has no {name}: update packaging/posebrowser.spec"
    spec = (PACKAGING / "posebrowser.spec").read_text()
    for needed in ("_C_stable.so", "image_stable.so", '"resources"', '"models"', "vocabulary.json",
                   "launcher.py", 'collect_submodules("posebrowser")'):
        assert needed in spec
    assert (ROOT / "resources" / "icons" / "posebrowser.svg").exists()


def test_launcher_runs_the_command_line_and_the_app() -> None:
    done = run(sys.executable, str(PACKAGING / "launcher.py"), "--version")
    assert done.returncode == 0 and done.stdout.strip(), done.stderr
    done = run(sys.executable, str(PACKAGING / "launcher.py"), "gui", "--quit-after-shown")
    assert done.returncode == 0 and "window shown" in done.stdout, done.stderr[-2000:]


def _fake_cpu_build(tmp_path: Path) -> dict[str, str]:
    """A dist/posebrowser-cpu folder whose 'app' is a shell script, and a CPU venv whose python is ours."""
    app_folder = tmp_path / "dist" / "posebrowser-cpu"
    (app_folder / "_internal").mkdir(parents=True)
    app = app_folder / "posebrowser"
    app.write_text('#!/bin/sh\n[ "$1" = gui ] && echo "window shown"; echo 0.1.0\n')
    app.chmod(0o755)
    (tmp_path / "venv" / "bin").mkdir(parents=True)
    (tmp_path / "venv" / "bin" / "python").symlink_to(sys.executable)
    return {**os.environ, "DIST_DIR": str(tmp_path / "dist"), "CPU_VENV": str(tmp_path / "venv")}


def test_cpu_build_smoke_test_refuses_cuda_libraries(tmp_path: Path) -> None:
    env = _fake_cpu_build(tmp_path)
    command = ["bash", str(PACKAGING / "build.sh"), "--cpu", "--smoke"]
    done = subprocess.run(command, capture_output=True, text=True, env=env, timeout=60)
    assert done.returncode == 0 and "smoke test passed" in done.stdout, done.stdout + done.stderr
    (tmp_path / "dist" / "posebrowser-cpu" / "_internal" / "libcudart.so.13").write_bytes(b"")
    done = subprocess.run(command, capture_output=True, text=True, env=env, timeout=60)
    assert done.returncode != 0 and "bundles CUDA libraries" in done.stderr
