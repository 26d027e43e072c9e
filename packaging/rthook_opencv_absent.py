"""PyInstaller runtime hook: the frozen posebrowser leaves OpenCV out (~300 MB with the Qt 5 copy of
``opencv-contrib-python``, which mediapipe depends on) and registers a placeholder ``cv2`` module instead.

mediapipe's Tasks API imports ``cv2`` when ``mediapipe.tasks.python.vision`` is imported, only for its
drawing helpers (``vision.drawing_utils``), which posebrowser never calls; the pose landmarker itself runs
in ``libmediapipe.so``, which does not link OpenCV. Touching anything of the placeholder raises an
ImportError that says OpenCV is not in this build. Where a real ``cv2`` can be imported it is left alone.
"""

from __future__ import annotations

import sys
import types


class OpenCVAbsent(types.ModuleType):
    """``cv2`` in a build without OpenCV: importable, but every attribute raises ImportError."""

    def __getattr__(self, name: str) -> object:
        if name.startswith("__") and name.endswith("__"):
            raise AttributeError(name)
        raise ImportError(f"OpenCV is not part of this posebrowser build (cv2.{name} was asked for).")


def install() -> None:
    """Register the placeholder as ``cv2`` unless OpenCV itself can be imported."""
    try:
        import cv2  # noqa: F401
    except ImportError:
        sys.modules["cv2"] = OpenCVAbsent("cv2")


install()
