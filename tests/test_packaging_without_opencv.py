"""The frozen app leaves OpenCV out: the pose estimator still works with ``cv2`` unimportable once the
build's runtime hook (``packaging/rthook_opencv_absent.py``) has put its placeholder in place."""

from __future__ import annotations

import json
import runpy
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
HOOK = ROOT / "packaging" / "rthook_opencv_absent.py"

#: Runs in a fresh interpreter: cv2 cannot be imported (as in the frozen app), then the hook, then a
#: ``posebrowser estimate`` of one image; prints the placeholder's type name last.
WITHOUT_OPENCV = """
import importlib.abc, runpy, sys

class NoOpenCV(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path, target=None):
        if name == "cv2" or name.startswith("cv2."):
            raise ImportError("OpenCV is not installed")
        return None

sys.meta_path.insert(0, NoOpenCV())
runpy.run_path(sys.argv[1])
from posebrowser.cli import main
code = main(["estimate", sys.argv[2], "--json", "--no-cache"])
print(type(sys.modules["cv2"]).__name__)
raise SystemExit(code)
"""


def test_the_pose_estimator_runs_without_opencv(tmp_path: Path) -> None:
    image = ROOT / "resources" / "gallery" / "images" / "000000.jpg"
    done = subprocess.run(
        [sys.executable, "-c", WITHOUT_OPENCV, str(HOOK), str(image)],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    answer, _, placeholder = done.stdout.rstrip().rpartition("\n")
    assert placeholder == "OpenCVAbsent"
    (estimate,) = json.loads(answer)["images"]
    assert estimate["status"] == "person" and estimate["people_found"] == 1  # a render of one person


def test_the_placeholder_says_what_is_missing_and_a_real_opencv_is_kept() -> None:
    hook = runpy.run_path(str(HOOK))
    placeholder = hook["OpenCVAbsent"]("cv2")
    with pytest.raises(ImportError, match="OpenCV is not part of this posebrowser build"):
        placeholder.circle  # noqa: B018
    with pytest.raises(AttributeError):
        placeholder.__wrapped__  # noqa: B018  # dunder look-ups (inspect, copy, pickle) stay AttributeError
    real = pytest.importorskip("cv2")  # the dev environment has mediapipe's OpenCV
    hook["install"]()
    assert sys.modules["cv2"] is real


def test_the_build_leaves_opencv_out_and_runs_the_hook() -> None:
    spec = (ROOT / "packaging" / "posebrowser.spec").read_text()
    assert '"cv2"' in spec and 'runtime_hooks=[str(ROOT / "packaging" / "rthook_opencv_absent.py")]' in spec
    assert '"estimate"' in (ROOT / "packaging" / "build.sh").read_text()  # the smoke test estimates a pose
