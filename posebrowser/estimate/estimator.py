"""The pose estimator: MediaPipe BlazePose (full) through the Tasks API, from the bundle in the repo.

:class:`PoseEstimator` turns an image (a file path, encoded bytes, a ``PIL.Image`` or an array) into a
:class:`~posebrowser.estimate.result.PoseEstimate` or a :class:`~posebrowser.estimate.result.NoPersonFound`.
Files are decoded by :func:`posebrowser.data.images.decode_image` (EXIF orientation, any colour mode,
decompression-bomb guard), so a non-image or damaged file raises
:class:`~posebrowser.errors.CorruptFileError` and a missing one :class:`~posebrowser.errors.DataError`.
An ``(H, W, 3)`` uint8 array is taken as RGB pixels. Images smaller than :data:`MIN_SIDE` give
``NoPersonFound("image-too-small")``; large ones are shrunk to :data:`MAX_INFERENCE_SIDE` for the
network while coordinates stay in the original pixels. With several people the largest is described
and ``people_found`` says how many there were. When nothing is found, the image is tried once more
inside a border of :data:`RETRY_BORDER` (BlazePose's detector often misses a person filling the frame).

Nothing is downloaded: the model is ``resources/estimator/pose_landmarker_full.task`` (see its NOTICE;
``tools/build_pose_task.py`` rebuilds it). MediaPipe is imported on first use, and the environment
variables its OpenCV import sets (``QT_QPA_PLATFORM_PLUGIN_PATH`` and others, which would point Qt at
OpenCV's own Qt plugins) are put back afterwards.
"""

from __future__ import annotations

import hashlib
import os
import sys
import threading
import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from types import TracebackType
from typing import Any

import numpy as np
from numpy.typing import NDArray
from PIL import Image

from posebrowser.data.images import decode_image
from posebrowser.errors import DataError, EstimatorError
from posebrowser.estimate import skeleton_map
from posebrowser.estimate.result import EstimateOutcome, NoPersonFound, PersonBox, PoseEstimate
from posebrowser.pose.posebits import PosebitVocabulary, get_vocabulary
from posebrowser.pose.skeleton import PELVIS

BUNDLE_PATH = Path(__file__).resolve().parents[2] / "resources" / "estimator" / "pose_landmarker_full.task"
#: Shortest image side (pixels) worth looking for a person in.
MIN_SIDE = 32
#: Longest side (pixels) of the copy the network sees; BlazePose itself works at 224 / 256 pixels.
MAX_INFERENCE_SIDE = 1024
#: Joints below this confidence make the posebits that need them unknown (−1).
MIN_JOINT_CONFIDENCE = 0.5
#: People the detector may return; the largest is described.
MAX_PEOPLE = 4
#: When nothing is found, the image is tried once more inside a border of this share of its size.
RETRY_BORDER = 0.25
#: Bumped whenever the procedure changes (part of the estimator version, so caches follow).
PROCEDURE_VERSION = 2
#: The person box is the landmarks' extent grown by this share of its size on every side.
BOX_MARGIN = 0.1
_QUIET_LOGS = {"GLOG_minloglevel": "2", "TF_CPP_MIN_LOG_LEVEL": "2"}

ImageInput = str | Path | bytes | Image.Image | NDArray[np.uint8]


@contextmanager
def stderr_silenced() -> Iterator[None]:
    """Send file descriptor 2 to /dev/null inside the block (LiteRT logs model loading there in C++)."""
    sys.stderr.flush()
    saved = os.dup(2)
    try:
        with open(os.devnull, "wb") as null:
            os.dup2(null.fileno(), 2)
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)


@contextmanager
def environment_kept() -> Iterator[None]:
    """Undo every change to ``os.environ`` made inside the block (OpenCV's import sets Qt variables)."""
    before = dict(os.environ)
    try:
        yield
    finally:
        for key in set(os.environ) - set(before):
            del os.environ[key]
        for key, value in before.items():
            if os.environ.get(key) != value:
                os.environ[key] = value


def _vision() -> Any:
    """``(mediapipe, BaseOptions, vision)`` of the Tasks API, imported with the environment kept."""
    with environment_kept():
        os.environ.update(_QUIET_LOGS)
        try:
            import mediapipe
            from mediapipe.tasks.python import BaseOptions, vision
        except ImportError as error:
            raise EstimatorError(
                "The pose estimator needs the mediapipe package: pip install 'mediapipe>=1.2.2,<2' "
                f"({error}).") from error
    return mediapipe, BaseOptions, vision


def rgb_array(image: ImageInput) -> NDArray[np.uint8]:
    """An ``(H, W, 3)`` uint8 array of the image: files and bytes through ``decode_image``; arrays must be
    uint8 ``(H, W)`` grey or ``(H, W, 3)`` RGB (DataError otherwise)."""
    if isinstance(image, np.ndarray):
        if image.dtype != np.uint8 or not (image.ndim == 2 or (image.ndim == 3 and image.shape[2] == 3)):
            raise DataError(f"An image array must be uint8 of shape (H, W) or (H, W, 3), not {image.dtype} "
                            f"{image.shape}.")
        rgb = np.repeat(image[:, :, None], 3, axis=2) if image.ndim == 2 else image
        return np.ascontiguousarray(rgb)
    if isinstance(image, Image.Image):
        picture = image if image.mode == "RGB" else image.convert("RGB")
    else:
        picture = decode_image(image)
    return np.ascontiguousarray(np.asarray(picture, dtype=np.uint8))


def _for_inference(rgb: NDArray[np.uint8]) -> NDArray[np.uint8]:
    height, width = rgb.shape[:2]
    longest = max(height, width)
    if longest <= MAX_INFERENCE_SIDE:
        return rgb
    scale = MAX_INFERENCE_SIDE / longest
    size = (max(1, round(width * scale)), max(1, round(height * scale)))
    small = Image.fromarray(rgb).resize(size, Image.Resampling.BILINEAR, reducing_gap=2.0)
    return np.ascontiguousarray(np.asarray(small, dtype=np.uint8))


@dataclass(frozen=True)
class _Frame:
    """How the network's normalised coordinates map to pixels of the original image: the network saw an
    image of ``size`` whose content starts at ``offset`` and is ``scale`` times the original."""

    size: tuple[int, int]
    offset: tuple[int, int]
    scale: tuple[float, float]

    @classmethod
    def plain(cls, inference: NDArray[np.uint8], width: int, height: int) -> _Frame:
        rows, columns = inference.shape[:2]
        return cls((columns, rows), (0, 0), (columns / width, rows / height))

    def to_pixels(self, normalised: NDArray[np.float64]) -> NDArray[np.float64]:
        return (normalised * self.size - self.offset) / self.scale


def _with_border(inference: NDArray[np.uint8], width: int, height: int) -> tuple[NDArray[np.uint8], _Frame]:
    """``inference`` inside a border of :data:`RETRY_BORDER` × its size on every side, in its mean colour."""
    rows, columns = inference.shape[:2]
    top, left = round(rows * RETRY_BORDER), round(columns * RETRY_BORDER)
    padded = np.empty((rows + 2 * top, columns + 2 * left, 3), dtype=np.uint8)
    padded[:] = inference.reshape(-1, 3).mean(axis=0).round().astype(np.uint8)
    padded[top:top + rows, left:left + columns] = inference
    plain = _Frame.plain(inference, width, height)
    return padded, _Frame((padded.shape[1], padded.shape[0]), (left, top), plain.scale)


def _landmark_array(landmarks: Any, fields: tuple[str, ...]) -> NDArray[np.float64]:
    return np.array([[float(getattr(mark, f) or 0.0) for f in fields] for mark in landmarks])


def _overlap(a: PersonBox, b: PersonBox) -> float:
    """Intersection over union of two boxes."""
    width = min(a.x1, b.x1) - max(a.x0, b.x0)
    height = min(a.y1, b.y1) - max(a.y0, b.y0)
    shared = max(width, 0.0) * max(height, 0.0)
    union = a.area + b.area - shared
    return shared / union if union > 0 else 0.0


def distinct_people(boxes: list[PersonBox], max_overlap: float = 0.5) -> list[int]:
    """Indices of the boxes that are separate people, largest first: a box overlapping a larger kept one
    by more than ``max_overlap`` (IoU) is the same person found twice (the detector can do that)."""
    kept: list[int] = []
    for index in sorted(range(len(boxes)), key=lambda i: -boxes[i].area):
        if all(_overlap(boxes[index], boxes[other]) <= max_overlap for other in kept):
            kept.append(index)
    return kept


def _close_quietly(landmarker: Any) -> None:
    """Close a landmarker; at interpreter exit (its worker thread already gone) drop its handle instead,
    so mediapipe's own ``__del__`` does nothing during teardown rather than print a traceback."""
    with stderr_silenced():
        try:
            landmarker.close()
        except RuntimeError:  # "cannot schedule new futures after shutdown": the process is ending
            if hasattr(landmarker, "_handle"):
                landmarker._handle = None  # its close() and __del__ return at once; the OS frees the rest


def _box(pixels: NDArray[np.float64], width: int, height: int) -> PersonBox:
    low, high = pixels.min(axis=0), pixels.max(axis=0)
    pad = (high - low) * BOX_MARGIN
    x0, y0 = np.maximum(low - pad, 0.0)
    x1, y1 = np.minimum(high + pad, (width, height))
    return PersonBox(float(x0), float(y0), float(max(x1, x0)), float(max(y1, y0)))


class PoseEstimator:
    """BlazePose on one image at a time; thread-safe (one call at a time), closed by :meth:`close`."""

    def __init__(
        self,
        bundle: str | Path = BUNDLE_PATH,
        *,
        vocabulary: PosebitVocabulary | None = None,
        min_joint_confidence: float = MIN_JOINT_CONFIDENCE,
        max_people: int = MAX_PEOPLE,
    ) -> None:
        self.bundle = Path(bundle)
        self.vocabulary = vocabulary if vocabulary is not None else get_vocabulary()
        self.min_joint_confidence = float(min_joint_confidence)
        self.max_people = int(max_people)
        self._landmarker: Any = None
        self._mediapipe: Any = None
        self._detected_once = False
        self._finalizer: Any = None
        self._lock = threading.Lock()

    @cached_property
    def bundle_sha256(self) -> str:
        try:
            return hashlib.sha256(self.bundle.read_bytes()).hexdigest()
        except OSError as error:
            raise EstimatorError(
                f"The pose model bundle cannot be read ({error.strerror or error}); rebuild it with "
                "tools/build_pose_task.py.", path=self.bundle) from error

    @cached_property
    def version(self) -> str:
        """What an estimate depends on: model bundle, joint mapping, confidence rule, posebit vocabulary."""
        return (f"blazepose-full-{self.bundle_sha256[:12]}-p{PROCEDURE_VERSION}"
                f"-map{skeleton_map.MAPPING_VERSION}"
                f"-c{self.min_joint_confidence:g}-{self.vocabulary.version}")

    # ------------------------------------------------------------------ lifecycle
    def _ensure_landmarker(self) -> Any:
        if self._landmarker is None:
            mediapipe, base_options, vision = _vision()
            _ = self.bundle_sha256  # a missing bundle is reported before mediapipe tries to read it
            options = vision.PoseLandmarkerOptions(
                base_options=base_options(model_asset_path=str(self.bundle)),
                running_mode=vision.RunningMode.IMAGE, num_poses=self.max_people)
            try:
                with environment_kept(), stderr_silenced():
                    os.environ.update(_QUIET_LOGS)
                    self._landmarker = vision.PoseLandmarker.create_from_options(options)
            except (RuntimeError, ValueError, OSError) as error:
                raise EstimatorError(f"The pose model bundle cannot be loaded ({error}).",
                                     path=self.bundle) from error
            self._mediapipe = mediapipe
            # closed at exit at the latest: mediapipe's own __del__ fails once the interpreter tears down
            self._finalizer = weakref.finalize(self, _close_quietly, self._landmarker)
        return self._landmarker

    def close(self) -> None:
        with self._lock:
            if self._landmarker is not None:
                self._finalizer()
                self._landmarker = None
                self._detected_once = False

    def __enter__(self) -> PoseEstimator:
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 traceback: TracebackType | None) -> None:
        self.close()

    # ------------------------------------------------------------------ estimation
    def detect(self, rgb: NDArray[np.uint8]) -> Any:
        """The raw MediaPipe ``PoseLandmarkerResult`` for an ``(H, W, 3)`` uint8 array."""
        with self._lock:
            landmarker = self._ensure_landmarker()
            picture = self._mediapipe.Image(image_format=self._mediapipe.ImageFormat.SRGB, data=rgb)
            if self._detected_once:
                return landmarker.detect(picture)
            with stderr_silenced():  # the first call logs its set-up (tensor alignment, ROI notes)
                self._detected_once = True
                return landmarker.detect(picture)

    def estimate(self, image: ImageInput) -> EstimateOutcome:
        """Estimate the pose of the (largest) person in ``image``; see the module docstring for errors."""
        rgb = rgb_array(image)
        height, width = rgb.shape[:2]
        if min(width, height) < MIN_SIDE:
            return NoPersonFound(
                "image-too-small",
                f"The image is {width}×{height} pixels; finding a person needs at least {MIN_SIDE} "
                "pixels on each side.", (width, height), self.version)
        inference = _for_inference(rgb)
        result = self.detect(inference)
        frame = _Frame.plain(inference, width, height)
        if not result.pose_landmarks:  # a person filling the frame is often missed: retry with a border
            padded, frame = _with_border(inference, width, height)
            result = self.detect(padded)
        if not result.pose_landmarks:
            return NoPersonFound("no-person", "No person was found in the image.", (width, height),
                                 self.version)
        return self._describe(result, frame, width, height)

    def _describe(self, result: Any, frame: _Frame, width: int, height: int) -> PoseEstimate:
        people = [frame.to_pixels(_landmark_array(marks, ("x", "y"))) for marks in result.pose_landmarks]
        boxes = [_box(pixels, width, height) for pixels in people]
        separate = distinct_people(boxes)
        chosen = separate[0]
        visibility = _landmark_array(result.pose_landmarks[chosen], ("visibility",))[:, 0]
        world = _landmark_array(result.pose_world_landmarks[chosen], ("x", "y", "z"))
        joints_3d = skeleton_map.camera_to_z_up(skeleton_map.to_skeleton(world))
        joints_3d -= joints_3d[PELVIS]
        confidence = skeleton_map.skeleton_confidence(visibility)
        posebits = skeleton_map.estimated_posebits(joints_3d, confidence, self.vocabulary,
                                                   self.min_joint_confidence)
        return PoseEstimate(
            image_size=(width, height), box=boxes[chosen],
            joints_2d=skeleton_map.to_skeleton(people[chosen]).astype(np.float32),
            joints_3d=joints_3d.astype(np.float32), confidence=confidence, posebits=posebits,
            vocabulary_version=self.vocabulary.version, people_found=len(separate), estimator=self.version)
