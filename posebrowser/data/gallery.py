"""The in-memory gallery: image files plus their (optional) pose annotations, row-aligned.

Every loader in :mod:`posebrowser.data.loading` returns a :class:`Gallery`. Row ``i`` of every array
describes the image ``root / files[i]``. Arrays that a source does not provide are ``None``.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path, PurePosixPath
from typing import Any

import numpy as np
from numpy.typing import NDArray
from PIL import Image

from posebrowser.data.gallery_format import SPLITS
from posebrowser.data.images import decode_image
from posebrowser.errors import AnnotationError, UnknownPosebitError
from posebrowser.pose.skeleton import NUM_JOINTS

GALLERY_KINDS: tuple[str, ...] = ("posebrowser", "thesis", "folder")

#: Ground-truth metric name → the Gallery attribute it needs (see pose/similarity.py METRICS).
METRIC_NEEDS: dict[str, str] = {
    "2d": "joints_2d",
    "3d": "joints_3d",
    "procrustes": "joints_3d",
    "hamming": "posebits",
}

#: Per-row array fields: name → (dtype, shape after the row axis). ``None`` dims are free.
_ROW_FIELDS: dict[str, tuple[type[np.generic], tuple[int | None, ...]]] = {
    "ids": (np.int64, ()),
    "split": (np.uint8, ()),
    "posebits": (np.int8, (None,)),
    "joints_2d": (np.float32, (NUM_JOINTS, 2)),
    "joints_3d": (np.float32, (NUM_JOINTS, 3)),
    "visibility": (np.bool_, (NUM_JOINTS,)),
    "camera_rotation": (np.float32, (3, 3)),
    "camera_translation": (np.float32, (3,)),
    "camera_focal": (np.float32, ()),
    "body_id": (np.int16, ()),
}


#: Substrings that cannot occur in a joined list of clean relative paths (see check_relative_paths).
_SUSPICIOUS = ("\\", ":", "//", "\n/", "/\n", "\n\n", "/./", "/../", "\n./", "\n../", "/.\n", "/..\n",
               "\n.\n", "\n..\n")


def check_relative_path(name: str, *, where: Path, line: int | None = None) -> str:
    """Return ``name`` as a clean relative POSIX path, or raise AnnotationError if it is absolute or
    climbs out of the gallery folder (``..``), so a crafted annotation file cannot point elsewhere."""
    text = name.replace("\\", "/")
    posix = PurePosixPath(text)
    at = f" (line {line})" if line is not None else ""
    if not posix.parts or posix.is_absolute() or ".." in posix.parts or ":" in posix.parts[0]:
        raise AnnotationError(f"The image path {name!r}{at} must be relative to the gallery folder.",
                              path=where)
    return str(posix)


def check_relative_paths(names: Sequence[str], *, where: Path) -> tuple[str, ...]:
    """:func:`check_relative_path` for many names; clean lists are accepted with one substring scan."""
    joined = "\n" + "\n".join(names) + "\n"
    if all(bad not in joined for bad in _SUSPICIOUS):
        return tuple(names)
    return tuple(check_relative_path(name, where=where) for name in names)


@dataclass(eq=False)
class Gallery:
    """Images and row-aligned annotations.

    Attributes:
        root: folder that ``files`` are relative to.
        name: display name.
        kind: ``"posebrowser"`` (format v1), ``"thesis"`` (thesis dataset layout) or ``"folder"``.
        files: (N,) relative POSIX paths of the images.
        ids: (N,) int64 stable, unique item ids (default 0..N-1).
        split: (N,) uint8, index into ``SPLITS`` = ("train", "val", "test") (default all "test").
        posebits: (N, B) int8, 1 = true, 0 = false, -1 = unknown; ``None`` if not annotated.
        posebit_names: (B,) names, column order of ``posebits`` (empty when ``posebits`` is None).
        joints_2d: (N, 16, 2) float32 pixels of the stored image, x right, y down; NaN = missing.
        joints_3d: (N, 16, 3) float32 (posebrowser: metres, Z up; thesis: its "rescaled" units).
        visibility: (N, 16) bool, joint not occluded.
        camera_rotation / camera_translation / camera_focal: (N,3,3) / (N,3) / (N,) float32.
        body_id: (N,) int16 body-shape id (synthetic galleries).
        source: (N,) str, where each pose came from.
        content_hash: short hex digest that changes whenever the gallery's content changes.
        manifest: free-form metadata (the manifest.json for format v1; notes and warnings otherwise).
        annotation_file: the file errors about annotations should name (defaults to ``root``).
    """

    root: Path
    name: str
    kind: str
    files: tuple[str, ...]
    ids: NDArray[np.int64] = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    split: NDArray[np.uint8] = field(default_factory=lambda: np.zeros(0, dtype=np.uint8))
    posebits: NDArray[np.int8] | None = None
    posebit_names: tuple[str, ...] = ()
    joints_2d: NDArray[np.float32] | None = None
    joints_3d: NDArray[np.float32] | None = None
    visibility: NDArray[np.bool_] | None = None
    camera_rotation: NDArray[np.float32] | None = None
    camera_translation: NDArray[np.float32] | None = None
    camera_focal: NDArray[np.float32] | None = None
    body_id: NDArray[np.int16] | None = None
    source: tuple[str, ...] | None = None
    content_hash: str = ""
    manifest: dict[str, Any] = field(default_factory=dict)
    annotation_file: Path | None = None

    def __post_init__(self) -> None:
        self.root = Path(self.root)
        where = self.annotation_file if self.annotation_file is not None else self.root
        if self.kind not in GALLERY_KINDS:
            raise ValueError(f"kind must be one of {GALLERY_KINDS}, got {self.kind!r}")
        self.files = tuple(str(f) for f in self.files)
        count = len(self.files)
        if self.ids is None or (count and len(self.ids) == 0):
            self.ids = np.arange(count, dtype=np.int64)
        if self.split is None or (count and len(self.split) == 0):
            self.split = np.full(count, SPLITS.index("test"), dtype=np.uint8)
        for name, (dtype, tail) in _ROW_FIELDS.items():
            value = getattr(self, name)
            if value is not None:
                setattr(self, name, _checked_array(name, value, dtype, tail, count, where))
        if len(np.unique(self.ids)) != count:
            raise AnnotationError("The item ids are not unique.", path=where)
        if count and int(self.split.max()) >= len(SPLITS):
            raise AnnotationError(
                f"Split values must be 0 (train), 1 (val) or 2 (test); found {int(self.split.max())}.",
                path=where)
        self._check_posebits(where)
        if self.source is not None:
            self.source = tuple(str(s) for s in self.source)
            if len(self.source) != count:
                raise AnnotationError(f"'source' has {len(self.source)} rows but there are {count} images.",
                                      path=where)

    def _check_posebits(self, where: Path) -> None:
        self.posebit_names = tuple(str(n) for n in self.posebit_names)
        if self.posebits is None:
            if self.posebit_names:
                raise AnnotationError("Posebit names are given but no posebits.", path=where)
            return
        if self.posebits.shape[1] != len(self.posebit_names):
            raise AnnotationError(
                f"'posebits' has {self.posebits.shape[1]} columns but {len(self.posebit_names)} "
                "posebit names are given.", path=where)
        dupes = sorted(n for n, c in Counter(self.posebit_names).items() if c > 1)
        if dupes:
            raise AnnotationError(f"Posebit names appear twice: {', '.join(dupes)}.", path=where)
        if self.posebits.size and (int(self.posebits.min()) < -1 or int(self.posebits.max()) > 1):
            raise AnnotationError("Posebit values must be 1, 0 or -1 (unknown).", path=where)

    # ------------------------------------------------------------------ basic access
    def __len__(self) -> int:
        return len(self.files)

    def __repr__(self) -> str:
        return (f"Gallery(name={self.name!r}, kind={self.kind!r}, root={str(self.root)!r}, n={len(self)}, "
                f"posebits={len(self.posebit_names)}, content_hash={self.content_hash!r})")

    def image_path(self, index: int) -> Path:
        """Absolute-ish path of image ``index`` (``root / files[index]``)."""
        return self.root / self.files[index]

    def load_image(self, index: int, size: int | None = None) -> Image.Image:
        """Decode image ``index`` as RGB; ``size`` bounds the longer side (see :func:`decode_image`).

        Raises CorruptFileError (or DataError if missing) naming that one file.
        """
        return decode_image(self.image_path(index), size)

    def split_indices(self, name: str) -> NDArray[np.int64]:
        """(M,) int64 row indices whose split is ``name`` ("train", "val" or "test"), ascending."""
        if name not in SPLITS:
            raise ValueError(f"unknown split {name!r}; expected one of {SPLITS}")
        return np.flatnonzero(self.split == SPLITS.index(name)).astype(np.int64)

    def split_counts(self) -> dict[str, int]:
        """Number of rows per split name."""
        counts = np.bincount(self.split, minlength=len(SPLITS))
        return {name: int(counts[i]) for i, name in enumerate(SPLITS)}

    def has_ground_truth(self, metric_name: str) -> bool:
        """True when the annotations needed by metric ``"2d"``, ``"3d"``, ``"procrustes"`` or
        ``"hamming"`` are present."""
        if metric_name not in METRIC_NEEDS:
            raise ValueError(f"unknown metric {metric_name!r}; expected one of {tuple(METRIC_NEEDS)}")
        return getattr(self, METRIC_NEEDS[metric_name]) is not None

    def row_of_id(self, item_id: int) -> int:
        """Row index of the item with id ``item_id`` (KeyError if absent)."""
        rows = np.flatnonzero(self.ids == item_id)
        if rows.size == 0:
            raise KeyError(f"no item with id {item_id} in gallery {self.name!r}")
        return int(rows[0])

    # ------------------------------------------------------------------ posebits
    def posebit_index(self, name: str) -> int:
        """Column of posebit ``name`` in ``posebits`` (UnknownPosebitError if the gallery lacks it)."""
        try:
            return self.posebit_names.index(name)
        except ValueError:
            raise UnknownPosebitError(f"The gallery {self.name!r} has no posebit called {name!r}.") from None

    def posebit_column(self, name: str) -> NDArray[np.int8]:
        """(N,) int8 values (1/0/-1) of posebit ``name``."""
        if self.posebits is None:
            raise UnknownPosebitError(f"The gallery {self.name!r} has no posebit annotations.")
        return self.posebits[:, self.posebit_index(name)]

    # ------------------------------------------------------------------ derived galleries
    def subset(self, indices: NDArray[np.integer[Any]] | NDArray[np.bool_] | list[int]) -> Gallery:
        """A new Gallery with the rows ``indices`` (int positions or an (N,) bool mask), in that order.

        Ids are kept, so results on the subset map back to the full gallery. The content hash is
        derived from the parent's hash and the chosen rows.
        """
        rows = np.asarray(indices)
        if rows.dtype == np.bool_:
            if rows.shape != (len(self),):
                raise ValueError(f"a boolean mask must have shape ({len(self)},), got {rows.shape}")
            rows = np.flatnonzero(rows)
        rows = rows.astype(np.int64).reshape(-1)
        if rows.size and (rows.min() < -len(self) or rows.max() >= len(self)):
            raise IndexError(f"subset indices out of range for a gallery of {len(self)} images")
        changes: dict[str, Any] = {"files": tuple(self.files[i] for i in rows)}
        for name in _ROW_FIELDS:
            value = getattr(self, name)
            changes[name] = None if value is None else value[rows]
        if self.source is not None:
            changes["source"] = tuple(self.source[i] for i in rows)
        digest = hashlib.sha256(self.content_hash.encode() + rows.tobytes()).hexdigest()[:16]
        changes["content_hash"] = digest
        changes["manifest"] = {**self.manifest, "subset_of": self.content_hash, "count": int(rows.size)}
        return replace(self, **changes)

    def annotation_arrays(self) -> dict[str, NDArray[Any]]:
        """The gallery as ``annotations.npz`` fields (gallery_format v1), ready for ``save_annotations``."""
        arrays: dict[str, NDArray[Any]] = {"files": np.asarray(self.files, dtype=str)}
        for name in _ROW_FIELDS:
            value = getattr(self, name)
            if value is not None:
                arrays[name] = value
        if self.posebits is not None:
            arrays["posebit_names"] = np.asarray(self.posebit_names, dtype=str)
        if self.source is not None:
            arrays["source"] = np.asarray(self.source, dtype=str)
        return arrays


def _checked_array(name: str, value: Any, dtype: type[np.generic], tail: tuple[int | None, ...], count: int,
                   where: Path) -> NDArray[Any]:
    array = np.asarray(value)
    shape_ok = array.ndim == 1 + len(tail) and array.shape[0] == count and all(
        want is None or got == want for got, want in zip(array.shape[1:], tail, strict=True))
    if not shape_ok:
        expected = ", ".join(["N", *("B" if t is None else str(t) for t in tail)])
        raise AnnotationError(
            f"'{name}' has shape {array.shape}; expected ({expected}) with N = {count} images.", path=where)
    if array.dtype.kind not in "biuf":
        raise AnnotationError(f"'{name}' must be numeric, found dtype {array.dtype}.", path=where)
    whole = array.dtype.kind != "f" or (np.isfinite(array).all() and np.array_equal(array, np.round(array)))
    if np.dtype(dtype).kind in "biu" and not whole:
        raise AnnotationError(f"'{name}' must hold whole numbers.", path=where)
    return np.ascontiguousarray(array.astype(dtype, copy=False))
