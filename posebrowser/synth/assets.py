"""Loading of the baked synthetic-gallery assets in ``resources/synth`` (see its ``NOTICE.md``).

The assets are produced once by ``tools/bake_synth_assets.py``; at run time only numpy and Pillow are
needed. Loaded assets are cached per process.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from numpy.typing import NDArray
from PIL import Image

from posebrowser.errors import DataError


def assets_dir() -> Path:
    """``<repo>/resources/synth`` (resolved relative to the installed package)."""
    import posebrowser

    return Path(posebrowser.__file__).resolve().parent.parent / "resources" / "synth"


@dataclass(frozen=True)
class BodyBankArrays:
    """The raw body bank (K bodies, V vertices, F faces, B bones).

    rest_vertices ``(K, V, 3)`` float32 metres (Z up, facing −Y, the body's right at −X);
    faces ``(F, 3)`` int32; vertex_bone_indices / vertex_bone_weights ``(V, 9)`` (weights sum to 1);
    rest_bone_heads ``(K, B, 3)`` float32; bone_names ``(B,)``; bone_parents ``(B,)`` (−1 for the root,
    parents precede children); vertex_regions ``(V,)`` uint8 indices into region_names;
    head_top_vertex ``(K,)`` the highest head vertex of each body in rest pose.
    """

    rest_vertices: NDArray[np.float32]
    faces: NDArray[np.int32]
    vertex_bone_indices: NDArray[np.int16]
    vertex_bone_weights: NDArray[np.float32]
    rest_bone_heads: NDArray[np.float32]
    bone_names: tuple[str, ...]
    bone_parents: NDArray[np.int16]
    vertex_regions: NDArray[np.uint8]
    region_names: tuple[str, ...]
    head_top_vertex: NDArray[np.int32]


@dataclass(frozen=True)
class MotionClips:
    """DeepMimic clip frames: frames ``(N, 44)`` float32; clip_of_frame / frame_in_clip ``(N,)``;
    clip_names ``(C,)``."""

    frames: NDArray[np.float32]
    clip_of_frame: NDArray[np.int16]
    frame_in_clip: NDArray[np.int16]
    clip_names: tuple[str, ...]


def _load_npz(path: Path) -> dict[str, NDArray[np.generic]]:
    if not path.exists():
        raise DataError(
            "The synthetic-gallery asset is missing; run tools/bake_synth_assets.py to create it.", path=path
        )
    try:
        with np.load(path, allow_pickle=False) as data:
            return {key: data[key] for key in data.files}
    except (OSError, ValueError) as error:
        raise DataError(f"The synthetic-gallery asset cannot be read ({error}).", path=path) from error


def _normalised(weights: NDArray[np.generic]) -> NDArray[np.float32]:
    """Skin weights ``(V, 9)`` as float32 rows summing to 1 (they are stored as float16)."""
    w = np.asarray(weights, dtype=np.float32)
    return np.asarray(w / np.maximum(w.sum(1, keepdims=True), 1e-12), dtype=np.float32)


@functools.lru_cache(maxsize=2)
def load_body_bank(folder: Path | None = None) -> BodyBankArrays:
    """Load ``body_bank.npz`` from ``folder`` (default :func:`assets_dir`)."""
    path = (folder or assets_dir()) / "body_bank.npz"
    data = _load_npz(path)
    try:
        return BodyBankArrays(
            rest_vertices=data["rest_vertices"].astype(np.float32),
            faces=data["faces"].astype(np.int32),
            vertex_bone_indices=data["vertex_bone_indices"].astype(np.int16),
            vertex_bone_weights=_normalised(data["vertex_bone_weights"]),
            rest_bone_heads=data["rest_bone_heads"].astype(np.float32),
            bone_names=tuple(str(n) for n in data["bone_names"]),
            bone_parents=data["bone_parents"].astype(np.int16),
            vertex_regions=data["vertex_regions"].astype(np.uint8),
            region_names=tuple(str(n) for n in data["region_names"]),
            head_top_vertex=data["head_top_vertex"].astype(np.int32),
        )
    except KeyError as error:
        raise DataError(f"The body bank lacks the field {error}; re-run the bake tool.", path=path) from error


@functools.lru_cache(maxsize=2)
def load_motions(folder: Path | None = None) -> MotionClips:
    """Load ``motions.npz`` from ``folder`` (default :func:`assets_dir`)."""
    path = (folder or assets_dir()) / "motions.npz"
    data = _load_npz(path)
    try:
        return MotionClips(
            frames=data["frames"].astype(np.float32),
            clip_of_frame=data["clip_of_frame"].astype(np.int16),
            frame_in_clip=data["frame_in_clip"].astype(np.int16),
            clip_names=tuple(str(n) for n in data["clip_names"]),
        )
    except KeyError as error:
        raise DataError(
            f"The motion clips lack the field {error}; re-run the bake tool.", path=path
        ) from error


@functools.lru_cache(maxsize=2)
def load_photos(folder: Path | None = None) -> tuple[tuple[str, NDArray[np.float32]], ...]:
    """The background photos as ``(name, (H, W, 3) float32 in [0, 1])`` pairs, sorted by name."""
    root = (folder or assets_dir()) / "backgrounds"
    photos = []
    for path in sorted(root.glob("*.jpg")):
        try:
            with Image.open(path) as image:
                pixels = np.asarray(image.convert("RGB"), dtype=np.float32) / 255.0
        except OSError as error:
            raise DataError(f"The background photo cannot be decoded ({error}).", path=path) from error
        photos.append((path.stem, pixels))
    if not photos:
        raise DataError("No background photos found; run tools/bake_synth_assets.py.", path=root)
    return tuple(photos)
