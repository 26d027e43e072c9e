"""Training-time image augmentation and the label changes a horizontal flip implies (CPU, numpy/PIL).

Images are uint8 ``(B, H, W, 3)`` RGB arrays; every random choice comes from the caller's
``numpy.random.Generator``, so a seeded generator reproduces a batch exactly.

Crop jitter works on the **full stored image**: the window grows by ``s`` pixels on every side and moves by
``(tx, ty)``, then is resized back to ``(H, W)``; ``s = t = 0`` is the identity, so whatever centre crop /
resize the net's ``Preprocessing`` applies at embedding time also applies unchanged at training time.

Flips: the thesis flips a whole triplet batch together (one coin per batch), which keeps every relation
inside the batch (pose distances are mirror-symmetric, and mirrored posebits are a permutation/negation of
the bits). :func:`flip_posebits`, :func:`flip_joints_2d` and :func:`flip_joints_3d` give the relabelled
annotations for a flipped image: "left"/"right" are the person's sides, so after a mirror the person's
left wrist is the former right wrist, and "X left of Y" becomes "X' right of Y'".
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np
from numpy.typing import NDArray
from PIL import Image, ImageFilter

from posebrowser.pose.skeleton import swap_left_right

UInt8Images = NDArray[np.uint8]

_SIDE = re.compile(r"(?<![a-z])(left|right)(?![a-z])")
_DIRECTION = re.compile(r"(?<![a-z])(left|right)(?=[_ ]of(?![a-z]))")
_RELATION = re.compile(r"^(?P<a>.+?)[_ ](?P<dir>left|right)[_ ]of[_ ](?P<b>.+)$")
_OPPOSITE = {"left": "right", "right": "left"}


def _swap_sides(name: str, directions: bool = True) -> str:
    """Exchange the words left/right in ``name``; with ``directions=False`` keep "left of"/"right of"."""
    protected = {m.start() for m in _DIRECTION.finditer(name)} if not directions else set()
    return _SIDE.sub(lambda m: m.group(0) if m.start() in protected else _OPPOSITE[m.group(0)], name)


class MirrorPermutation(NamedTuple):
    """How a horizontal flip maps posebits: new bit i = old bit ``perm[i]``, inverted where ``negate[i]``;
    ``unknown[i]`` marks bits without a mirrored partner in the vocabulary (their value becomes -1)."""

    perm: NDArray[np.int64]
    negate: NDArray[np.bool_]
    unknown: NDArray[np.bool_]


def mirror_permutation(names: tuple[str, ...] | list[str]) -> MirrorPermutation:
    """Find each bit's mirrored partner by name substitution.

    For bit ``name`` the candidates, in order, are: (1) every left↔right swapped (sides and "left of"
    directions), value kept; (2) for relations "A <dir> of B": "B' <opposite dir> of A'" (the converse),
    value kept; (3) sides swapped but the direction kept ("A' <dir> of B'"), value negated. Bits without
    left/right words map to themselves. Bits whose partner is missing are marked unknown.
    """
    index = {name: i for i, name in enumerate(names)}
    count = len(names)
    perm = np.arange(count, dtype=np.int64)
    negate = np.zeros(count, dtype=bool)
    unknown = np.zeros(count, dtype=bool)
    for i, name in enumerate(names):
        if not _SIDE.search(name):
            continue
        mirrored = _swap_sides(name)
        candidates: list[tuple[str, bool]] = [(mirrored, False)]
        relation = _RELATION.match(name)
        if relation is not None:
            sep = "_" if "_" in name else " "
            a, b = _swap_sides(relation["a"]), _swap_sides(relation["b"])
            candidates.append((f"{b}{sep}{relation['dir']}{sep}of{sep}{a}", False))
            candidates.append((_swap_sides(name, directions=False), True))
        for candidate, inverted in candidates:
            if candidate in index:
                perm[i] = index[candidate]
                negate[i] = inverted
                break
        else:
            unknown[i] = True
    return MirrorPermutation(perm, negate, unknown)


def flip_posebits(bits: NDArray[np.integer], mirror: MirrorPermutation) -> NDArray[np.int8]:
    """Posebits (N, B) int (0/1, −1 unknown) of the horizontally flipped images → (N, B) int8."""
    source = np.asarray(bits, dtype=np.int8)[:, mirror.perm]
    flipped = np.where(mirror.negate[None, :] & (source >= 0), 1 - source, source).astype(np.int8)
    flipped[:, mirror.unknown] = -1
    return flipped


def flip_joints_2d(joints: NDArray[np.floating], width: int) -> NDArray[np.floating]:
    """2D joints (..., 16, 2) (pixel-index x, image ``width`` wide) → x' = (width−1)−x, L/R swapped."""
    mirrored = np.array(joints, copy=True)
    mirrored[..., 0] = (width - 1) - mirrored[..., 0]
    return swap_left_right(mirrored)


def flip_joints_3d(joints: NDArray[np.floating], axis: int = 0) -> NDArray[np.floating]:
    """3D joints (..., 16, 3): negate the coordinate ``axis`` that maps to image x, then swap L/R labels."""
    mirrored = np.array(joints, copy=True)
    mirrored[..., axis] = -mirrored[..., axis]
    return swap_left_right(mirrored)


@dataclass(frozen=True)
class AugmentConfig:
    """Augmentation strengths; fractions are of the image side (thesis: ±6 px of 112 ≈ 0.05)."""

    scale_fraction: float = 0.05
    shift_fraction: float = 0.05
    flip_probability: float = 0.5
    brightness: float = 0.2
    contrast: float = 0.2
    saturation: float = 0.2
    blur_probability: float = 0.1
    blur_radius: tuple[float, float] = (0.3, 1.2)
    jpeg_probability: float = 0.1
    jpeg_quality: tuple[int, int] = (30, 90)
    #: Share of images turned grey (saturation 0; ``--grey-share``): black-and-white photos are common, and
    #: the fused model trained without grey images loses 8.6 points in the mean of the seven val-half
    #: figures on grey copies of the renders (models/README.md, *Grey photos*).
    grey_probability: float = 0.0


def jitter_crop(image: UInt8Images, scale_px: int, shift_x: int, shift_y: int) -> UInt8Images:
    """Crop (H, W, 3) grown by ``scale_px`` per side and shifted, resized back to (H, W); edge pad."""
    height, width = image.shape[:2]
    return jitter_crop_to(image, scale_px, shift_x, shift_y, (width, height))


def jitter_crop_to(
    image: UInt8Images,
    scale_px: int,
    shift_x: int,
    shift_y: int,
    size: int | tuple[int, int],
    mirror: bool = False,
) -> UInt8Images:
    """The crop window of (H, W, 3) grown by ``scale_px`` per side and shifted by ``(shift_x, shift_y)``
    (edge-padded where it leaves the image), resampled once to ``size`` (a side, or (width, height)),
    mirrored left-right when ``mirror``."""
    height, width = image.shape[:2]
    left, top = shift_x - scale_px, shift_y - scale_px
    right, bottom = left + width + 2 * scale_px, top + height + 2 * scale_px
    pad = max(0, -left, -top, right - width, bottom - height)
    source = _edge_padded(image, pad) if pad else image
    box = (left + pad, top + pad, right + pad, bottom + pad)
    target = (size, size) if isinstance(size, int) else size
    resized = Image.fromarray(source).resize(target, Image.Resampling.BILINEAR, box=box)
    if mirror:
        resized = resized.transpose(Image.Transpose.FLIP_LEFT_RIGHT)
    return np.asarray(resized, dtype=np.uint8)


def _edge_padded(image: UInt8Images, pad: int) -> UInt8Images:
    """``np.pad(image, pad, mode="edge")`` over the two image axes, by slicing (~10× faster for one
    128-px image, measured: np.pad's generic machinery dominated the batch preparation)."""
    height, width = image.shape[:2]
    padded = np.empty((height + 2 * pad, width + 2 * pad, 3), dtype=image.dtype)
    padded[pad : pad + height, pad : pad + width] = image
    padded[:pad, pad : pad + width] = image[:1]
    padded[pad + height :, pad : pad + width] = image[-1:]
    padded[:, :pad] = padded[:, pad : pad + 1]
    padded[:, pad + width :] = padded[:, pad + width - 1 : pad + width]
    return padded


def colour_factors(
    count: int, config: AugmentConfig, rng: np.random.Generator
) -> tuple[NDArray[np.float32], NDArray[np.float32], NDArray[np.float32]]:
    """Per-image brightness, contrast and saturation factors (count,) in ``1 ± strength``, drawn in that
    order; then a ``grey_probability`` share of the saturations set to 0 (drawn only when that is > 0)."""
    brightness, contrast, saturation = (
        rng.uniform(1 - strength, 1 + strength, count).astype(np.float32)
        for strength in (config.brightness, config.contrast, config.saturation)
    )
    if config.grey_probability > 0:
        saturation[rng.random(count) < config.grey_probability] = 0.0
    return brightness, contrast, saturation


def colour_jitter(images: UInt8Images, config: AugmentConfig, rng: np.random.Generator) -> UInt8Images:
    """Per-image random brightness, contrast and saturation factors in ``1 ± strength``; (B,H,W,3) uint8."""
    pixels = images.astype(np.float32)
    brightness, contrast, saturation = colour_factors(len(images), config, rng)
    pixels *= brightness[:, None, None, None]
    mean = pixels.mean(axis=(1, 2, 3), keepdims=True)
    pixels = mean + (pixels - mean) * contrast[:, None, None, None]
    grey = pixels @ np.array([0.299, 0.587, 0.114], dtype=np.float32)
    pixels = grey[..., None] + (pixels - grey[..., None]) * saturation[:, None, None, None]
    result: UInt8Images = np.clip(np.rint(pixels), 0, 255).astype(np.uint8)
    return result


def blur(image: UInt8Images, radius: float) -> UInt8Images:
    """Gaussian blur of one (H, W, 3) uint8 image with ``radius`` pixels."""
    return np.asarray(Image.fromarray(image).filter(ImageFilter.GaussianBlur(radius)), dtype=np.uint8)


def jpeg_noise(image: UInt8Images, quality: int) -> UInt8Images:
    """One (H, W, 3) uint8 image through a JPEG encode/decode at ``quality``."""
    buffer = io.BytesIO()
    Image.fromarray(image).save(buffer, format="JPEG", quality=quality)
    buffer.seek(0)
    with Image.open(buffer) as decoded:
        return np.asarray(decoded.convert("RGB"), dtype=np.uint8)


def augment_batch(
    images: UInt8Images, config: AugmentConfig, rng: np.random.Generator
) -> tuple[UInt8Images, bool]:
    """Augment a batch (B, H, W, 3) uint8 → same shape, plus whether the whole batch was flipped.

    Crop jitter, blur and JPEG noise are drawn per image; the flip coin is tossed once per batch (thesis).
    """
    height, width = images.shape[1:3]
    side = min(height, width)
    scale_max = round(config.scale_fraction * side)
    shift_max = round(config.shift_fraction * side)
    out = np.empty_like(images)
    for i, image in enumerate(images):
        scale = int(rng.integers(-scale_max, scale_max + 1))
        shift_x, shift_y = (int(v) for v in rng.integers(-shift_max, shift_max + 1, size=2))
        out[i] = jitter_crop(image, scale, shift_x, shift_y)
    out = colour_jitter(out, config, rng)
    for i in range(len(out)):
        if rng.random() < config.blur_probability:
            out[i] = blur(out[i], float(rng.uniform(*config.blur_radius)))
        if rng.random() < config.jpeg_probability:
            out[i] = jpeg_noise(out[i], int(rng.integers(config.jpeg_quality[0], config.jpeg_quality[1] + 1)))
    flipped = bool(rng.random() < config.flip_probability)
    if flipped:
        out = np.ascontiguousarray(out[:, :, ::-1])
    return out, flipped
