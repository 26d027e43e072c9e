"""A plain folder of images as a gallery, with optional ``metadata.csv`` and COCO keypoints JSON.

* Images: every file with an image suffix below the folder (recursive; hidden files and folders
  skipped), sorted by relative POSIX path. Ids are 0..N-1 in that order; every row is in "test".
* ``metadata.csv`` (UTF-8, optional) in the folder: a header row, then one row per image. The first
  column is the image path relative to the folder; every other column is a posebit (any name is kept,
  including names the vocabulary does not know; those are listed in ``manifest["unknown_posebits"]``).
  Cells are ``1``, ``0`` or blank (unknown → -1). A column named ``split`` (train/val/test/blank) sets
  the split instead. Images without a row get -1 everywhere. Duplicate columns or rows, other values,
  wrong cell counts and rows naming files that are not in the folder raise AnnotationError naming the
  file and line.
* COCO keypoints (optional): the one ``*.json`` file in the folder that has ``images`` and
  ``annotations`` lists. Per image the person with the most labelled keypoints (then the largest area;
  crowd annotations skipped) gives ``joints_2d`` (N, 16, 2) float32 pixels (NaN where unknown) and
  ``visibility`` (N, 16) bool, mapped by :func:`coco_to_skeleton`.
* Posebits from COCO keypoints (:func:`image_plane_posebits`, needs ``posebrowser.pose.posebits``): the
  2-D skeleton is treated as lying in a vertical plane facing the camera, and the vocabulary is computed
  on it with "don't care" bands; bits that need depth (``fwd`` "in front of" bits, shoulder twist) and
  bits involving unknown joints are -1. An approximation: foreshortened limbs can flip angle bits.
  Where ``metadata.csv`` also gives a posebit, its non-blank values win; its other columns are appended.
* Neither posebits nor keypoints: the folder opens without annotations; building a retrieval engine on
  it estimates joints and posebits from the photos (``posebrowser.estimate.folder``) and marks them
  (:func:`annotations_estimated`, ``manifest["posebits_from"] == "estimated"``).
"""

from __future__ import annotations

import csv
import hashlib
import json
import os
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from posebrowser.data.gallery import Gallery, check_relative_path
from posebrowser.data.gallery_format import MANIFEST_NAME, SPLITS
from posebrowser.data.images import is_image_file
from posebrowser.errors import AnnotationError, GalleryFormatError, PosebrowserError
from posebrowser.pose import skeleton as sk

METADATA_NAME = "metadata.csv"
COCO_KEYPOINTS = 17
# COCO keypoint order: 0 nose, 1 l_eye, 2 r_eye, 3 l_ear, 4 r_ear, 5 l_shoulder, 6 r_shoulder,
# 7 l_elbow, 8 r_elbow, 9 l_wrist, 10 r_wrist, 11 l_hip, 12 r_hip, 13 l_knee, 14 r_knee, 15 l_ankle,
# 16 r_ankle.
_COCO_DIRECT: dict[int, int] = {
    sk.R_ANKLE: 16,
    sk.R_KNEE: 14,
    sk.R_HIP: 12,
    sk.L_HIP: 11,
    sk.L_KNEE: 13,
    sk.L_ANKLE: 15,
    sk.R_WRIST: 10,
    sk.R_ELBOW: 8,
    sk.R_SHOULDER: 6,
    sk.L_SHOULDER: 5,
    sk.L_ELBOW: 7,
    sk.L_WRIST: 9,
}
_COCO_HEAD = (0, 1, 2, 3, 4)


#: ``manifest["posebits_from"]`` of a folder whose joints and posebits the pose estimator made.
ESTIMATED = "estimated"


def annotations_estimated(gallery: Any) -> bool:
    """True when the gallery's joints and posebits were estimated from the photos (by
    :mod:`posebrowser.estimate.folder`) rather than read from annotation files; any object without a
    ``manifest`` dict (a test fake) counts as annotated."""
    manifest = getattr(gallery, "manifest", None)
    return isinstance(manifest, dict) and manifest.get("posebits_from") == ESTIMATED


def estimator_version(gallery: Any) -> str:
    """The estimator version that made an estimated gallery's annotations ("" for annotated ones), for
    caches of anything computed from the annotations (a new estimator changes them)."""
    if not annotations_estimated(gallery):
        return ""
    summary = gallery.manifest.get(ESTIMATED)
    return str(summary.get("estimator", "")) if isinstance(summary, dict) else ""


def list_images(root: Path) -> list[str]:
    """Relative POSIX paths of all image files below ``root`` (recursive, sorted, hidden entries skipped)."""
    found: list[str] = []
    for folder, dirs, names in os.walk(root):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        base = Path(folder).relative_to(root)
        found.extend((base / n).as_posix() for n in names if not n.startswith(".") and is_image_file(n))
    return sorted(found)


def coco_to_skeleton(keypoints: NDArray[np.floating[Any]]) -> tuple[NDArray[np.float32], NDArray[np.bool_]]:
    """Map COCO keypoints (P, 17, 3) = (x, y, v) to the 16-joint skeleton.

    Returns ``joints_2d`` (P, 16, 2) float32 (NaN where unknown) and ``visibility`` (P, 16) bool.
    Direct: hips, knees, ankles, shoulders, elbows, wrists. Derived (approximations):
    pelvis = mid-hips; thorax = mid-shoulders; head centre h = mean of the labelled ears, else of the
    labelled nose/eyes/ears; upper_neck = midpoint of thorax and h; head_top = h + (h − upper_neck).
    A joint is labelled when v > 0 and visible when v == 2; a derived joint needs all its inputs.
    """
    kp = np.asarray(keypoints, dtype=np.float64).reshape(-1, COCO_KEYPOINTS, 3)
    labelled = kp[..., 2] > 0
    seen = kp[..., 2] >= 2
    xy = np.where(labelled[..., None], kp[..., :2], np.nan)
    joints = np.full((kp.shape[0], sk.NUM_JOINTS, 2), np.nan)
    visible = np.zeros((kp.shape[0], sk.NUM_JOINTS), dtype=bool)
    for joint, coco in _COCO_DIRECT.items():
        joints[:, joint] = xy[:, coco]
        visible[:, joint] = seen[:, coco]
    for joint, (a, b) in ((sk.PELVIS, (11, 12)), (sk.THORAX, (5, 6))):
        joints[:, joint] = (xy[:, a] + xy[:, b]) / 2
        visible[:, joint] = seen[:, a] & seen[:, b]
    head_points = xy[:, list(_COCO_HEAD)]
    head_ok = labelled[:, list(_COCO_HEAD)]
    count = head_ok.sum(axis=1)[:, None]
    summed = np.where(head_ok[..., None], head_points, 0.0).sum(axis=1)
    any_head = np.where(count > 0, summed / np.maximum(count, 1), np.nan)
    ears_ok = (labelled[:, 3] & labelled[:, 4])[:, None]
    head = np.where(ears_ok, (xy[:, 3] + xy[:, 4]) / 2, any_head)
    joints[:, sk.UPPER_NECK] = (joints[:, sk.THORAX] + head) / 2
    joints[:, sk.HEAD_TOP] = 2 * head - joints[:, sk.UPPER_NECK]
    head_seen = seen[:, list(_COCO_HEAD)].any(axis=1)
    visible[:, sk.UPPER_NECK] = visible[:, sk.THORAX] & head_seen
    visible[:, sk.HEAD_TOP] = head_seen
    visible &= np.isfinite(joints).all(axis=2)
    return joints.astype(np.float32), visible


def _read_metadata(
    path: Path, files: list[str]
) -> tuple[NDArray[np.int8] | None, tuple[str, ...], NDArray[np.uint8] | None]:
    """Parse metadata.csv → (posebits (N, B) int8 | None, names, split (N,) uint8 | None)."""
    row_of = {f: i for i, f in enumerate(files)}
    try:
        with path.open(newline="", encoding="utf-8-sig") as handle:
            reader = csv.reader(handle)
            table = [(reader.line_num, row) for row in reader]
    except (UnicodeDecodeError, csv.Error) as exc:
        raise AnnotationError(f"The metadata file is not readable UTF-8 CSV ({exc}).", path=path) from exc
    if not table:
        raise AnnotationError("The metadata file is empty; line 1 must name the columns.", path=path)
    header = [c.strip() for c in table[0][1]]
    columns = header[1:]
    if any(not c for c in columns):
        raise AnnotationError("Line 1: a column has no name.", path=path)
    duplicates = sorted({c for c in columns if columns.count(c) > 1})
    if duplicates:
        raise AnnotationError(f"Line 1: columns appear twice: {', '.join(duplicates)}.", path=path)
    split_col = columns.index("split") if "split" in columns else None
    names = tuple(c for c in columns if c != "split")
    bits = np.full((len(files), len(names)), -1, dtype=np.int8)
    split = np.full(len(files), SPLITS.index("test"), dtype=np.uint8)
    done: dict[int, int] = {}
    for number, cells in table[1:]:
        if not any(c.strip() for c in cells):
            continue
        if len(cells) != len(header):
            raise AnnotationError(
                f"Line {number} has {len(cells)} cells; the header has {len(header)}.", path=path
            )
        name = check_relative_path(cells[0].strip(), where=path, line=number)
        if name not in row_of:
            raise AnnotationError(f"Line {number}: there is no image {cells[0]!r} in the folder.", path=path)
        row = row_of[name]
        if row in done:
            raise AnnotationError(
                f"Line {number}: {name!r} was already described on line {done[row]}.", path=path
            )
        done[row] = number
        values = [c.strip() for c in cells[1:]]
        if split_col is not None:
            label = values.pop(split_col).lower()
            if label and label not in SPLITS:
                raise AnnotationError(
                    f"Line {number}: split must be train, val, test or blank, not {label!r}.", path=path
                )
            if label:
                split[row] = SPLITS.index(label)
        for col, value in enumerate(values):
            if value not in ("1", "0", ""):
                raise AnnotationError(
                    f"Line {number}, column {names[col]!r}: expected 1, 0 or blank, found {value!r}.",
                    path=path,
                )
            bits[row, col] = int(value) if value else -1
    return (bits if names else None), names, (split if split_col is not None else None)


def _find_coco(root: Path) -> tuple[Path, dict[str, Any]] | None:
    """The folder's one COCO keypoints file and its parsed content (None if there is none)."""
    found: list[tuple[Path, dict[str, Any]]] = []
    for path in sorted(root.glob("*.json")):
        if path.name == MANIFEST_NAME:
            continue
        try:
            document = json.loads(path.read_text(encoding="utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError):
            continue
        if (
            isinstance(document, dict)
            and isinstance(document.get("images"), list)
            and isinstance(document.get("annotations"), list)
        ):
            found.append((path, document))
    if len(found) > 1:
        names = ", ".join(p.name for p, _ in found)
        raise AnnotationError(f"Several COCO keypoint files were found ({names}); keep only one.", path=root)
    return found[0] if found else None


def _read_coco(
    path: Path, document: dict[str, Any], files: list[str], warnings: list[str]
) -> tuple[NDArray[np.float32], NDArray[np.bool_]]:
    row_of = {f: i for i, f in enumerate(files)}
    by_basename: dict[str, list[int]] = {}
    for i, f in enumerate(files):
        by_basename.setdefault(f.rsplit("/", 1)[-1], []).append(i)
    image_row: dict[Any, int] = {}
    missing = 0
    for entry in document["images"]:
        if (
            not isinstance(entry, dict)
            or not isinstance(entry.get("id"), int | str)
            or not isinstance(entry.get("file_name"), str)
        ):
            raise AnnotationError("Every entry of 'images' needs an 'id' and a 'file_name'.", path=path)
        name = entry["file_name"].replace("\\", "/").removeprefix("./")
        candidates = [row_of[name]] if name in row_of else by_basename.get(name.rsplit("/", 1)[-1], [])
        if len(candidates) == 1:
            image_row[entry["id"]] = candidates[0]
        else:
            missing += 1
    if missing:
        warnings.append(f"{path.name}: {missing} image(s) are not (uniquely) in the folder and were ignored.")
    best: dict[int, tuple[tuple[int, float], NDArray[np.float64]]] = {}
    for number, ann in enumerate(document["annotations"]):
        if (
            not isinstance(ann, dict)
            or ann.get("iscrowd", 0)
            or not isinstance(ann.get("image_id"), int | str)
            or ann["image_id"] not in image_row
        ):
            continue
        try:
            keypoints = np.asarray(ann["keypoints"], dtype=np.float64).reshape(COCO_KEYPOINTS, 3)
            area = float(ann.get("area", 0.0) or 0.0)
        except (KeyError, TypeError, ValueError, OverflowError) as exc:
            raise AnnotationError(
                f"Annotation {number} has no valid 17×3 'keypoints' list or 'area'.", path=path
            ) from exc
        row = image_row[ann["image_id"]]
        rank = (int((keypoints[:, 2] > 0).sum()), area)
        if row not in best or rank > best[row][0]:
            best[row] = (rank, keypoints)
    joints = np.full((len(files), sk.NUM_JOINTS, 2), np.nan, dtype=np.float32)
    visibility = np.zeros((len(files), sk.NUM_JOINTS), dtype=bool)
    if best:
        rows = np.fromiter(best, dtype=np.int64)
        joints[rows], visibility[rows] = coco_to_skeleton(np.stack([best[r][1] for r in rows.tolist()]))
    return joints, visibility


def _vocabulary() -> Any | None:
    """The posebit vocabulary, or None when posebrowser.pose.posebits is unavailable or broken."""
    try:
        from posebrowser.pose.posebits import get_vocabulary

        return get_vocabulary()
    except (ImportError, PosebrowserError, OSError, ValueError):
        return None


def _unknown_posebits(names: tuple[str, ...]) -> list[str]:
    vocabulary = _vocabulary()
    if vocabulary is None:
        return []
    known = set(vocabulary.names)
    return [n for n in names if n not in known]


def image_plane_posebits(
    joints_2d: NDArray[np.floating[Any]],
) -> tuple[NDArray[np.int8], tuple[str, ...]] | None:
    """Approximate posebits (N, B) int8 (1/0/-1) and their names from 2-D joints (N, 16, 2) in pixels.

    Image x → world X, image y (down) → world −Z, depth 0; see the module docstring for what is -1.
    Returns None when the posebit vocabulary is unavailable.
    """
    vocabulary = _vocabulary()
    if vocabulary is None or not hasattr(vocabulary, "compute_with_dont_care"):
        return None
    xy = np.asarray(joints_2d, dtype=np.float64)
    lifted = np.stack([xy[..., 0], np.zeros_like(xy[..., 0]), -xy[..., 1]], axis=-1)
    bits = np.asarray(vocabulary.compute_with_dont_care(lifted, up=(0.0, 0.0, 1.0)), dtype=np.int8)
    needs_depth = [
        i
        for i, bit in enumerate(vocabulary.bits)
        if getattr(bit, "axis", "") == "fwd" or getattr(bit, "family", "") == "twist"
    ]
    bits[:, needs_depth] = -1
    return bits, tuple(str(n) for n in vocabulary.names)


def _merge_posebits(
    coco: tuple[NDArray[np.int8], tuple[str, ...]],
    csv_bits: NDArray[np.int8] | None,
    csv_names: tuple[str, ...],
) -> tuple[NDArray[np.int8], tuple[str, ...]]:
    """COCO-derived columns, overridden by non-blank csv values of the same name, plus other csv columns."""
    bits, names = coco[0].copy(), list(coco[1])
    extra: list[NDArray[np.int8]] = []
    for col, name in enumerate(csv_names):
        assert csv_bits is not None
        values = csv_bits[:, col]
        if name in names:
            target = names.index(name)
            bits[:, target] = np.where(values >= 0, values, bits[:, target])
        else:
            names.append(name)
            extra.append(values[:, None])
    return np.concatenate([bits, *extra], axis=1), tuple(names)


def _fingerprint(root: Path, files: list[str], extra: list[Path]) -> str:
    """Hash of the image paths, sizes and modification times plus the metadata files' bytes."""
    digest = hashlib.sha256()
    for name in files:
        stat = (root / name).stat()
        digest.update(f"{name}\0{stat.st_size}\0{stat.st_mtime_ns}\n".encode())
    for path in extra:
        digest.update(path.name.encode() + path.read_bytes())
    return digest.hexdigest()[:16]


def load_image_folder(root: Path) -> Gallery:
    """Open a folder of images (with optional metadata.csv / COCO json) as a Gallery of kind "folder"."""
    root = Path(root)
    files = list_images(root)
    if not files:
        raise GalleryFormatError("The folder holds no images (jpg, png, bmp, gif, tif or webp).", path=root)
    warnings: list[str] = []
    fields: dict[str, Any] = {}
    extra: list[Path] = []
    metadata = root / METADATA_NAME
    if metadata.is_file():
        posebits, names, split = _read_metadata(metadata, files)
        if posebits is not None:
            fields.update(posebits=posebits, posebit_names=names)
        if split is not None:
            fields["split"] = split
        extra.append(metadata)
    found = _find_coco(root)
    coco = found[0] if found else None
    posebits_from = "metadata.csv" if "posebits" in fields else None
    if found is not None and coco is not None:
        fields["joints_2d"], fields["visibility"] = _read_coco(coco, found[1], files, warnings)
        extra.append(coco)
        derived = image_plane_posebits(fields["joints_2d"])
        if derived is None:
            warnings.append("Posebits were not computed from the keypoints (no posebit vocabulary).")
        else:
            fields["posebits"], fields["posebit_names"] = _merge_posebits(
                derived, fields.get("posebits"), fields.get("posebit_names", ())
            )
            posebits_from = "coco-image-plane" + ("+metadata.csv" if posebits_from else "")
    manifest: dict[str, Any] = {
        "format": "image-folder",
        "count": len(files),
        "warnings": warnings,
        "metadata": metadata.name if metadata.is_file() else None,
        "coco": coco.name if coco else None,
        "unknown_posebits": _unknown_posebits(fields.get("posebit_names", ())),
        "posebits_from": posebits_from,
    }
    return Gallery(
        root=root,
        name=root.name,
        kind="folder",
        files=tuple(files),
        content_hash=_fingerprint(root, files, extra),
        manifest=manifest,
        annotation_file=metadata if metadata.is_file() else root,
        **fields,
    )
