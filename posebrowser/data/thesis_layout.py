"""Reader for the thesis' own dataset layout (the original thesis code's files).

Expected below the dataset root (any annotation group may be absent; then that field is None)::

    split/kinetics_frames_{train,valtest}.txt     "<clip dir, may contain spaces> <16 frame tokens>"
    images_single/<clip dir>/<frame>.png          <frame> = text between the 1st and 2nd "_" of token 0
    annotations/2d/{train,valtest}.npy            (N, F, 2, 16) → frame 0, transposed to (N, 16, 2)
    annotations/3d/{train,valtest}_rescaled.npy   (N, F, 3, 16) → frame 0, transposed to (N, 16, 3)
    annotations/hamming/{split}_{angles,distances,reldistances}_0.npy   (N, B_k) of 0/1
    annotations/hamming/questions_{angles,distances,reldistances}.npy   bit descriptions (optional)
    annotations/hamming/keep_bits_idx_reldistance.npy                    kept reldistance questions

Rows are train rows then valtest rows; ids are those row numbers. Splits: train rows → "train",
valtest rows before ``val_count`` (1919 in the thesis) → "val", the rest → "test".

The 2-D joints of the thesis were drawn on the image upscaled to 288 px (inferred from their range). When
the largest coordinate exceeds the first image's side by more than 10 %, they are halved so that they are
in pixels of the stored image (the scale used is recorded in ``manifest["joints_2d_scale"]``).
3-D joints keep the thesis' "rescaled" units and axes (``manifest["joints_3d_units"]``).
Posebit names are the question strings ([angles | distances | reldistances[keep]]) when the question
files load without pickles; otherwise ``angle_<i>``, ``distance_<i>``, ``reldistance_<i>``.
"""

from __future__ import annotations

import hashlib
import zipfile
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray
from PIL import Image, UnidentifiedImageError

from posebrowser.data.gallery import Gallery, check_relative_path
from posebrowser.errors import AnnotationError, CorruptFileError, GalleryFormatError
from posebrowser.fileio import load_npy_checked
from posebrowser.pose.skeleton import NUM_JOINTS

THESIS_SPLITS: tuple[str, ...] = ("train", "valtest")
VAL_COUNT = 1919
FRAME_TOKENS = 16
POSEBIT_GROUPS: tuple[str, ...] = ("angles", "distances", "reldistances")
_SMALL_FILE = 8 << 20


def split_file(root: Path, thesis_split: str) -> Path:
    """``root/split/kinetics_frames_<thesis_split>.txt``."""
    return Path(root) / "split" / f"kinetics_frames_{thesis_split}.txt"


def looks_like_thesis_dataset(root: Path) -> bool:
    """True when ``root`` has at least one of the thesis split files."""
    return any(split_file(root, s).is_file() for s in THESIS_SPLITS)


def parse_split_file(path: Path) -> list[str]:
    """Image paths (relative to the dataset root) for each line of a thesis split file.

    A line is ``<clip dir> <tok_0> … <tok_15>``; the clip dir may contain spaces. The image is
    ``images_single/<clip dir>/<tok_0.split("_")[1]>.png``. Blank lines are skipped.
    """
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise AnnotationError("The split file is not UTF-8 text.", path=path) from exc
    files: list[str] = []
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line:
            continue
        parts = line.rsplit(maxsplit=FRAME_TOKENS)
        if len(parts) != FRAME_TOKENS + 1:
            raise AnnotationError(
                f"Line {number} has {len(line.split())} fields; expected a folder followed by "
                f"{FRAME_TOKENS} frame names.", path=path)
        clip_dir, first_frame = parts[0].rstrip("/"), parts[1]
        pieces = first_frame.split("_")
        if len(pieces) < 2 or not pieces[1]:
            raise AnnotationError(
                f"Line {number}: the first frame name {first_frame!r} has no '_<frame>' part.", path=path)
        image = f"images_single/{clip_dir}/{pieces[1]}.png"
        files.append(check_relative_path(image, where=path, line=number))
    return files


def load_npy(path: Path) -> NDArray[Any]:
    """``np.load`` without pickles; damaged files raise CorruptFileError, pickled ones AnnotationError."""
    try:
        return load_npy_checked(path)
    except ValueError as exc:
        if "pickle" in str(exc).lower():
            raise AnnotationError("The array holds Python objects (a pickle), which posebrowser does not "
                                  "load for safety.", path=path) from exc
        raise CorruptFileError(f"The array file is damaged ({exc}).", path=path) from exc
    except (OSError, EOFError, zipfile.BadZipFile) as exc:
        raise CorruptFileError(f"The array file cannot be read ({exc}).", path=path) from exc


def _joints(path: Path, dims: int, rows: int) -> NDArray[np.float32]:
    """Frame 0 of an (N, F, dims, 16) (or (N, dims, 16)) array → (N, 16, dims) float32."""
    array = load_npy(path)
    if array.ndim == 4 and array.shape[2:] == (dims, NUM_JOINTS):
        array = array[:, 0]
    if array.ndim != 3 or array.shape[1:] != (dims, NUM_JOINTS) or array.dtype.kind not in "iuf":
        raise AnnotationError(
            f"Expected a numeric array of shape (N, frames, {dims}, {NUM_JOINTS}); found {array.shape} "
            f"({array.dtype}).", path=path)
    if array.shape[0] != rows:
        raise AnnotationError(f"The array has {array.shape[0]} rows but the split file has {rows} lines.",
                              path=path)
    return np.ascontiguousarray(np.transpose(array, (0, 2, 1)).astype(np.float32))


def _bits(path: Path, rows: int) -> NDArray[np.int8]:
    array = load_npy(path)
    if array.ndim != 2 or array.dtype.kind not in "biuf":
        raise AnnotationError(f"Expected a numeric (N, bits) array; found {array.shape} ({array.dtype}).",
                              path=path)
    if array.shape[0] != rows:
        raise AnnotationError(f"The array has {array.shape[0]} rows but the split file has {rows} lines.",
                              path=path)
    if array.size and not np.isin(array, (0, 1)).all():
        raise AnnotationError("Posebit arrays must hold only 0 and 1.", path=path)
    return array.astype(np.int8)


def _present_group(paths: list[Path]) -> bool:
    """True if all files of one annotation group exist, False if none does; error if only some do."""
    exists = [p.is_file() for p in paths]
    if any(exists) and not all(exists):
        missing = paths[exists.index(False)]
        raise AnnotationError("This annotation file is missing while the other splits have theirs.",
                              path=missing)
    return all(exists)


def _question_texts(path: Path) -> list[str]:
    """One display string per entry (first axis) of a question array: ``str()`` of each entry."""
    array = load_npy(path)
    entries = array.reshape(1) if array.ndim == 0 else array
    return [" ".join(str(entry).split()) for entry in entries]


def _question_names(hamming: Path, widths: list[int], warnings: list[str]) -> tuple[str, ...]:
    """Posebit names from the question arrays (see module docstring), made unique with '#<k>'."""
    try:
        groups = [_question_texts(hamming / f"questions_{g}.npy") for g in POSEBIT_GROUPS]
        if len(groups[2]) != widths[2]:
            keep = load_npy(hamming / "keep_bits_idx_reldistance.npy").astype(np.int64).reshape(-1)
            groups[2] = [groups[2][i] for i in keep]
        if [len(g) for g in groups] != widths:
            counts = [len(g) for g in groups]
            raise AnnotationError(f"question counts {counts} do not match bit counts {widths}", path=hamming)
        names = [q for g in groups for q in g]
    except (AnnotationError, CorruptFileError, FileNotFoundError, IndexError, ValueError) as exc:
        warnings.append(f"Posebit names are generic because the question files could not be used: {exc}")
        names = [f"{group[:-1]}_{i}" for group, width in zip(POSEBIT_GROUPS, widths, strict=True)
                 for i in range(width)]
    seen: Counter[str] = Counter()
    unique: list[str] = []
    for name in names:
        seen[name] += 1
        unique.append(name if seen[name] == 1 else f"{name}#{seen[name]}")
    return tuple(unique)


def _fingerprint(paths: list[Path]) -> str:
    """Hash of the split and annotation files: full bytes when small, else size + first/last MiB."""
    digest = hashlib.sha256()
    for path in sorted(paths):
        size = path.stat().st_size
        digest.update(f"{path.name}:{size}".encode())
        with path.open("rb") as handle:
            if size <= _SMALL_FILE:
                digest.update(handle.read())
            else:
                digest.update(handle.read(1 << 20))
                handle.seek(size - (1 << 20))
                digest.update(handle.read())
    return digest.hexdigest()[:16]


def _image_side(root: Path, files: list[str]) -> int | None:
    for name in files[:50]:
        try:
            with Image.open(root / name) as image:
                return max(image.size)
        except (OSError, UnidentifiedImageError):
            continue
    return None


def load_thesis_dataset(root: Path, *, val_count: int = VAL_COUNT) -> Gallery:
    """Open a thesis-layout dataset folder (see the module docstring) as a Gallery of kind "thesis"."""
    root = Path(root)
    splits = [s for s in THESIS_SPLITS if split_file(root, s).is_file()]
    if not splits:
        raise GalleryFormatError("This folder has no split/kinetics_frames_*.txt file.", path=root)
    files_per_split = {s: parse_split_file(split_file(root, s)) for s in splits}
    rows = {s: len(f) for s, f in files_per_split.items()}
    used: list[Path] = [split_file(root, s) for s in splits]
    warnings: list[str] = []
    manifest: dict[str, Any] = {"format": "thesis-dataset", "splits": rows, "val_count": val_count}

    fields: dict[str, Any] = {}
    ann = root / "annotations"
    for field_name, dims, pattern in (("joints_2d", 2, "2d/{}.npy"), ("joints_3d", 3, "3d/{}_rescaled.npy")):
        paths = [ann / pattern.format(s) for s in splits]
        if _present_group(paths):
            fields[field_name] = np.concatenate([_joints(p, dims, rows[s]) for p, s in zip(paths, splits,
                                                                                            strict=True)])
            used += paths

    hamming = ann / "hamming"
    group_paths = {g: [hamming / f"{s}_{g}_0.npy" for s in splits] for g in POSEBIT_GROUPS}
    present = [g for g in POSEBIT_GROUPS if _present_group(group_paths[g])]
    if present:
        if len(present) != len(POSEBIT_GROUPS):
            missing = next(g for g in POSEBIT_GROUPS if g not in present)
            raise AnnotationError("This posebit file is missing while the other groups exist.",
                                  path=group_paths[missing][0])
        bits = {g: [_bits(path, rows[s]) for path, s in zip(group_paths[g], splits, strict=True)]
                for g in POSEBIT_GROUPS}
        widths = [bits[g][0].shape[1] for g in POSEBIT_GROUPS]
        for g in POSEBIT_GROUPS:
            if any(b.shape[1] != bits[g][0].shape[1] for b in bits[g]):
                raise AnnotationError("Train and valtest have different numbers of bits.",
                                      path=group_paths[g][-1])
        fields["posebits"] = np.concatenate(
            [np.concatenate([bits[g][k] for g in POSEBIT_GROUPS], axis=1) for k in range(len(splits))])
        fields["posebit_names"] = _question_names(hamming, widths, warnings)
        used += [p for g in POSEBIT_GROUPS for p in group_paths[g]]

    files = [f for s in splits for f in files_per_split[s]]
    split_codes = []
    for s in splits:
        if s == "train":
            split_codes.append(np.zeros(rows[s], dtype=np.uint8))
        else:
            codes = np.full(rows[s], 2, dtype=np.uint8)
            codes[: min(val_count, rows[s])] = 1
            split_codes.append(codes)
    source = tuple(f"thesis:{s}:{i}" for s in splits for i in range(rows[s]))

    if "joints_2d" in fields:
        side = _image_side(root, files)
        finite = fields["joints_2d"][np.isfinite(fields["joints_2d"])]
        scale = 1.0
        if side is not None and finite.size and float(finite.max()) > 1.1 * side:
            scale = 0.5
            fields["joints_2d"] = fields["joints_2d"] * np.float32(scale)
        manifest["joints_2d_scale"] = scale
    if "joints_3d" in fields:
        manifest["joints_3d_units"] = "thesis 'rescaled' units (about feet), thesis axes"
    manifest["warnings"] = warnings
    return Gallery(
        root=root, name=root.name, kind="thesis", files=tuple(files),
        ids=np.arange(len(files), dtype=np.int64), split=np.concatenate(split_codes),
        source=source, content_hash=_fingerprint(used), manifest=manifest, annotation_file=ann, **fields,
    )
