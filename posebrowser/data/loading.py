"""Open any gallery on disk: :func:`open_gallery` detects the kind and returns a :class:`Gallery`.

Detection, in order:

1. ``manifest.json`` present → posebrowser gallery format v1 (``gallery_format.py``).
2. ``split/kinetics_frames_{train,valtest}.txt`` present → thesis dataset layout (``thesis_layout.py``).
3. otherwise → a folder of images (+ ``metadata.csv`` / COCO keypoints json; ``image_folder.py``).

Opening never decodes images, so one corrupt image cannot break a gallery; :meth:`Gallery.load_image`
raises CorruptFileError for that file alone and :func:`scan_images` lists every bad file.
"""

from __future__ import annotations

import hashlib
import json
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from numpy.typing import NDArray

from posebrowser.data import gallery_format as fmt
from posebrowser.data.gallery import Gallery, check_relative_paths
from posebrowser.data.image_folder import load_image_folder
from posebrowser.data.images import decode_image
from posebrowser.data.thesis_layout import load_thesis_dataset, looks_like_thesis_dataset
from posebrowser.errors import (
    AnnotationError,
    CorruptFileError,
    DataError,
    GalleryFormatError,
    JobCancelledError,
)
from posebrowser.fileio import load_npz_checked

REQUIRED_MANIFEST_FIELDS: tuple[str, ...] = ("format", "format_version", "count", "content_hash")
_ARRAY_FIELDS = ("ids", "split", "posebits", "joints_3d", "joints_2d", "visibility", "camera_rotation",
                 "camera_translation", "camera_focal", "body_id")


def builtin_gallery_path() -> Path:
    """Folder of the shipped synthetic gallery: ``<repo>/resources/gallery``."""
    return Path(__file__).resolve().parents[2] / "resources" / "gallery"


def detect_gallery_kind(path: Path) -> str:
    """``"posebrowser"``, ``"thesis"`` or ``"folder"`` for an existing folder (see module docstring)."""
    root = Path(path)
    if (root / fmt.MANIFEST_NAME).is_file():
        return "posebrowser"
    if looks_like_thesis_dataset(root):
        return "thesis"
    return "folder"


def open_gallery(path: str | Path | None = None, *, verify: bool = False) -> Gallery:
    """Open the gallery at ``path`` (a folder, or its ``manifest.json``); ``None`` = the built-in one.

    ``verify=True`` (posebrowser format only) also checks that every image exists and recomputes the
    annotations checksum and content hash; a mismatch raises GalleryFormatError.

    Raises:
        GalleryFormatError: not a folder, unsupported format version, manifest problems.
        AnnotationError / CorruptFileError: malformed or damaged annotation files (naming the file).
    """
    root = builtin_gallery_path() if path is None else Path(path).expanduser()
    if root.is_file() and root.name == fmt.MANIFEST_NAME:
        root = root.parent
    if not root.exists():
        hint = " The built-in gallery is created with `posebrowser synth`." if path is None else ""
        raise GalleryFormatError("The gallery folder does not exist." + hint, path=root)
    if not root.is_dir():
        raise GalleryFormatError("A gallery must be a folder (or its manifest.json).", path=root)
    kind = detect_gallery_kind(root)
    if kind == "posebrowser":
        return load_posebrowser_gallery(root, verify=verify)
    if kind == "thesis":
        return load_thesis_dataset(root)
    return load_image_folder(root)


def read_manifest(root: Path) -> dict[str, Any]:
    """Parse and check ``manifest.json`` (format name, version, required fields)."""
    path = Path(root) / fmt.MANIFEST_NAME
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise GalleryFormatError(f"The manifest is not valid JSON ({exc}).", path=path) from exc
    if not isinstance(manifest, dict):
        raise GalleryFormatError("The manifest must be a JSON object.", path=path)
    missing = [name for name in REQUIRED_MANIFEST_FIELDS if name not in manifest]
    if missing:
        raise GalleryFormatError(f"The manifest lacks the field(s) {', '.join(missing)}.", path=path)
    if manifest["format"] != fmt.FORMAT_NAME:
        raise GalleryFormatError(
            f"The manifest's format is {manifest['format']!r}, not {fmt.FORMAT_NAME!r}.", path=path)
    version = manifest["format_version"]
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        raise GalleryFormatError(f"The manifest's format_version {version!r} is not a positive integer.",
                                 path=path)
    if version > fmt.FORMAT_VERSION:
        raise GalleryFormatError(
            f"The gallery uses format version {version}; this posebrowser reads up to version "
            f"{fmt.FORMAT_VERSION}. Please update posebrowser.", path=path)
    count = manifest["count"]
    if not isinstance(count, int) or isinstance(count, bool) or count < 0:
        raise GalleryFormatError(f"The manifest's count {count!r} is not a whole number.", path=path)
    if not isinstance(manifest["content_hash"], str):
        raise GalleryFormatError("The manifest's content_hash must be a string.", path=path)
    return manifest


def read_annotations(path: Path) -> dict[str, NDArray[Any]]:
    """Load every array of ``annotations.npz`` without pickles (unknown fields are ignored)."""
    if not path.is_file():
        raise GalleryFormatError("The gallery has no annotations.npz.", path=path)
    try:
        arrays = load_npz_checked(path, set(fmt.REQUIRED_FIELDS) | set(fmt.OPTIONAL_FIELDS))
    except ValueError as exc:
        if "pickle" in str(exc).lower():
            raise AnnotationError("The annotations hold Python objects (pickles), which posebrowser does not "
                                  "load for safety.", path=path) from exc
        raise CorruptFileError(f"The annotations file is damaged ({exc}).", path=path) from exc
    except (OSError, EOFError, zipfile.BadZipFile, KeyError) as exc:
        raise CorruptFileError(f"The annotations file is damaged or truncated ({exc}).", path=path) from exc
    for name in fmt.REQUIRED_FIELDS:
        if name not in arrays:
            raise AnnotationError(f"The annotations lack the required array {name!r}.", path=path)
    for name in ("files", "posebit_names", "source"):
        if name in arrays and (arrays[name].ndim != 1 or arrays[name].dtype.kind != "U"):
            raise AnnotationError(f"{name!r} must be a 1-D array of strings; found {arrays[name].shape} "
                                  f"({arrays[name].dtype}).", path=path)
    return arrays


def load_posebrowser_gallery(root: Path, *, verify: bool = False) -> Gallery:
    """Open a gallery in the posebrowser format v1 (see ``gallery_format.py``)."""
    root = Path(root)
    manifest = read_manifest(root)
    ann_path = root / fmt.ANNOTATIONS_NAME
    arrays = read_annotations(ann_path)
    files = check_relative_paths(arrays["files"].tolist(), where=ann_path)
    if len(files) != manifest["count"]:
        raise GalleryFormatError(
            f"The manifest says {manifest['count']} images but annotations.npz lists {len(files)}.",
            path=root / fmt.MANIFEST_NAME)
    if verify:
        verify_posebrowser_gallery(root, manifest, files)
    fields: dict[str, Any] = {name: arrays[name] for name in _ARRAY_FIELDS if name in arrays}
    if "posebits" in arrays and "posebit_names" not in arrays:
        raise AnnotationError("'posebits' is present but 'posebit_names' is missing.", path=ann_path)
    if "posebit_names" in arrays:
        fields["posebit_names"] = tuple(str(n) for n in arrays["posebit_names"])
    if "source" in arrays:
        fields["source"] = tuple(str(s) for s in arrays["source"])
    name = manifest.get("name")
    return Gallery(root=root, name=str(name) if name else root.name, kind="posebrowser", files=files,
                   content_hash=manifest["content_hash"], manifest=manifest, annotation_file=ann_path,
                   **fields)


def verify_posebrowser_gallery(root: Path, manifest: dict[str, Any], files: tuple[str, ...]) -> None:
    """Check that images exist and that the checksums in the manifest match the files."""
    missing = [f for f in files if not (root / f).is_file()]
    if missing:
        raise GalleryFormatError(f"{len(missing)} image file(s) are missing, e.g. {missing[0]!r}.", path=root)
    ann_path = root / fmt.ANNOTATIONS_NAME
    expected = manifest.get("annotations_sha256")
    if expected is not None and hashlib.sha256(ann_path.read_bytes()).hexdigest() != expected:
        raise GalleryFormatError("annotations.npz changed since the manifest was written.", path=ann_path)
    if fmt.content_hash(root, files) != manifest["content_hash"]:
        raise GalleryFormatError(
            "The gallery's images or annotations changed since the manifest was written.",
            path=root / fmt.MANIFEST_NAME)


def scan_images(gallery: Gallery, progress: Callable[[int, int], None] | None = None,
                cancel: Callable[[], bool] | None = None, *, size: int = 64) -> list[tuple[int, str]]:
    """Decode every image (at a small ``size``, which still reads all the data) and report failures.

    Returns ``[(row index, user-facing error message), ...]`` for missing or undecodable files.
    ``progress(done, total)`` is called after each image; ``cancel()`` returning True raises
    JobCancelledError.
    """
    problems: list[tuple[int, str]] = []
    total = len(gallery)
    for index in range(total):
        if cancel is not None and cancel():
            raise JobCancelledError(f"Image check cancelled after {index} of {total} images.")
        try:
            decode_image(gallery.image_path(index), size)
        except DataError as exc:
            problems.append((index, str(exc)))
        if progress is not None:
            progress(index + 1, total)
    return problems
