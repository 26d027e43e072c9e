"""The posebrowser gallery format, version 1 — the one documented on-disk layout.

A gallery folder holds::

    manifest.json        {"format": "posebrowser-gallery", "format_version": 1, "name", "count",
                          "image_size", "posebit_version", "annotations_sha256", "content_hash",
                          "source", "seed", "created_by"}
    annotations.npz      one array per field below, row i = image i
    images/<stem>.jpg    (or .png) RGB images, one per row

``annotations.npz`` fields (N rows, B posebits); only ``files`` is required:

==================  ====================  ==================================================
field               shape, dtype          meaning
==================  ====================  ==================================================
files               (N,) str              image paths relative to the gallery folder
ids                 (N,) int64            stable item ids (default: 0..N-1)
split               (N,) uint8            0 train, 1 val, 2 test (see ``SPLITS``)
posebits            (N, B) int8           1 is, 0 is not, -1 unknown
posebit_names       (B,) str              vocabulary names, column order of ``posebits``
joints_3d           (N, 16, 3) float32    metres, world frame, Z up (skeleton order)
joints_2d           (N, 16, 2) float32    pixels of the stored image, x right, y down
visibility          (N, 16) bool          joint not occluded (from the z-buffer)
camera_rotation     (N, 3, 3) float32     world → camera rotation
camera_translation  (N, 3) float32        world → camera translation
camera_focal        (N,) float32          focal length in pixels
body_id             (N,) int16            body shape in the synth body bank
source              (N,) str              pose source, e.g. "clip:walk:12", "perturb", "random"
==================  ====================  ==================================================

Writers write to a temporary name and rename (atomic); the manifest's ``content_hash`` covers the
annotations file and the image bytes so a changed gallery is detected by caches.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import numpy as np

from posebrowser.fileio import atomic_write_bytes

FORMAT_NAME = "posebrowser-gallery"
FORMAT_VERSION = 1
MANIFEST_NAME = "manifest.json"
ANNOTATIONS_NAME = "annotations.npz"
IMAGES_DIR = "images"
SPLITS: tuple[str, ...] = ("train", "val", "test")

REQUIRED_FIELDS = ("files",)
OPTIONAL_FIELDS = (
    "ids", "split", "posebits", "posebit_names", "joints_3d", "joints_2d", "visibility",
    "camera_rotation", "camera_translation", "camera_focal", "body_id", "source",
)


def save_annotations(path: Path, arrays: Mapping[str, np.ndarray]) -> None:
    """Atomically write an ``annotations.npz`` (uncompressed arrays are small; strings as unicode)."""
    import io

    unknown = set(arrays) - set(REQUIRED_FIELDS) - set(OPTIONAL_FIELDS)
    if unknown:
        raise ValueError(f"unknown annotation fields: {sorted(unknown)}")
    buffer = io.BytesIO()
    np.savez_compressed(buffer, **{k: np.asarray(v) for k, v in arrays.items()})  # type: ignore[arg-type]
    atomic_write_bytes(Path(path), buffer.getvalue())


def content_hash(root: Path, files: Iterable[str]) -> str:
    """sha256 over the annotations file and every image's bytes, in row order (hex, 16 chars)."""
    digest = hashlib.sha256()
    root = Path(root)
    ann = root / ANNOTATIONS_NAME
    if ann.exists():
        digest.update(ann.read_bytes())
    for name in files:
        digest.update(name.encode())
        digest.update((root / name).read_bytes())
    return digest.hexdigest()[:16]


def write_manifest(root: Path, **fields: Any) -> dict[str, Any]:
    """Write ``manifest.json`` (atomic). ``count`` and ``content_hash`` are computed here."""
    root = Path(root)
    with np.load(root / ANNOTATIONS_NAME, allow_pickle=False) as ann:
        files = [str(f) for f in ann["files"]]
    manifest: dict[str, Any] = {
        "format": FORMAT_NAME,
        "format_version": FORMAT_VERSION,
        "count": len(files),
        **fields,
        "annotations_sha256": hashlib.sha256((root / ANNOTATIONS_NAME).read_bytes()).hexdigest(),
        "content_hash": content_hash(root, files),
    }
    atomic_write_bytes(root / MANIFEST_NAME, (json.dumps(manifest, indent=2) + "\n").encode())
    return manifest
