"""Fixtures for the estimator tests: one shared estimator, real photos read from installed packages, and
renders of the built-in gallery with their exact annotations."""

from __future__ import annotations

import importlib.util
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from posebrowser.data.gallery import Gallery
from posebrowser.errors import PosebrowserError
from posebrowser.estimate.cache import EstimateCache
from posebrowser.estimate.estimator import PoseEstimator


def _needs_mediapipe() -> None:
    if importlib.util.find_spec("mediapipe") is None:
        pytest.skip("mediapipe is not installed (pip install 'mediapipe>=1.2.2,<2')")


@pytest.fixture(scope="session")
def estimator() -> Iterator[PoseEstimator]:
    _needs_mediapipe()
    with PoseEstimator() as shared:
        yield shared


def skimage_photo(name: str) -> Image.Image:
    """A photo shipped inside scikit-image (skipped with the reason when the package is missing)."""
    data = pytest.importorskip("skimage.data", reason="scikit-image ships the astronaut and camera photos")
    pixels = np.asarray(getattr(data, name)())
    return Image.fromarray(pixels).convert("RGB")


def grace_hopper_path() -> Path:
    """matplotlib's sample photo of Grace Hopper (skipped when the sample data are not installed)."""
    cbook = pytest.importorskip("matplotlib.cbook")
    try:
        path = Path(cbook.get_sample_data("grace_hopper.jpg", asfileobj=False))
    except (OSError, ValueError) as error:
        pytest.skip(f"matplotlib's sample data are not installed ({error})")
    if not path.is_file():
        pytest.skip("matplotlib's sample data are not installed")
    return path


OPENCV_DOC_DATA = Path("/usr/share/doc/opencv-doc/examples/data")


def opencv_doc_photo(name: str) -> Path:
    """A photo of Debian's opencv-doc examples (skipped when that package is not installed)."""
    path = OPENCV_DOC_DATA / name
    if not path.is_file():
        pytest.skip(f"{path} is not installed (Debian package opencv-doc)")
    return path


@pytest.fixture(scope="session")
def gallery() -> Gallery:
    from posebrowser.data.loading import open_gallery

    try:
        return open_gallery()
    except PosebrowserError as error:
        pytest.skip(f"the built-in gallery cannot be opened ({error})")


def kill_once_cached(command: list[str], cache: EstimateCache, minimum: int = 5) -> bool:
    """Run ``command`` (from the repository root) and SIGKILL it once ``cache`` holds ``minimum``
    entries; True when it was still running at that moment (the kill really interrupted it)."""
    import signal
    import subprocess
    import time

    process = subprocess.Popen(
        command, cwd=Path(__file__).resolve().parents[2], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    deadline = time.monotonic() + 120
    while len(cache) < minimum and time.monotonic() < deadline and process.poll() is None:
        time.sleep(0.01)
    running = process.poll() is None
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=30)
    return running
