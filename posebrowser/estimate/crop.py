"""Framing a photo like the gallery: a square crop around the detected person.

The built-in gallery's renders show one person centred in a square frame, the longer side of the person
spanning ``fill`` of the frame (the synth options' ``fill`` range, 0.62–0.95 by default). An image net
trained on those renders sees a real photo best in the same framing, so a photo is cropped to the square
centred on the estimator's person box whose side is the box's longer side divided by :data:`GALLERY_FILL`
(the middle of that range). Where the square reaches past the photo's edges it is filled with the
photo's mean colour (the estimator's own retry border uses the same colour), so the person keeps its
place and size in the crop. The box is taken as the person's extent as it is (the landmarks' extent plus
the estimator's margin).

Crops larger than :data:`MAX_CROP_SIDE` pixels are shrunk to it (the image net reads 128 pixels), and
:func:`write_person_crop` stores a crop as a PNG next to the image's cached estimate, written atomically.
"""

from __future__ import annotations

import io
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from numpy.typing import NDArray
from PIL import Image

from posebrowser.estimate.result import PersonBox
from posebrowser.fileio import atomic_write_bytes
from posebrowser.synth.options import DEFAULT_OPTIONS

#: The share of the crop's side the person box's longer side spans: the middle of the gallery's range.
GALLERY_FILL = (DEFAULT_OPTIONS.fill[0] + DEFAULT_OPTIONS.fill[1]) / 2
#: Longest side (pixels) a crop is stored at; larger crops are shrunk.
MAX_CROP_SIDE = 1024
#: Bumped whenever the framing rule changes (part of the stored crop's file name).
CROP_VERSION = 1


@dataclass(frozen=True)
class CropBox:
    """A square in pixels of the photo (x right, y down; ``x0 + side`` exclusive); it may reach past the
    photo's edges."""

    x0: int
    y0: int
    side: int

    @property
    def x1(self) -> int:
        return self.x0 + self.side

    @property
    def y1(self) -> int:
        return self.y0 + self.side

    def as_tuple(self) -> tuple[int, int, int, int]:
        return (self.x0, self.y0, self.x1, self.y1)


def crop_box(box: PersonBox, fill: float = GALLERY_FILL) -> CropBox:
    """The square centred on ``box`` whose side is its longer side / ``fill`` (rounded up, at least one
    pixel), so the box spans ``fill`` of the square (at most that share after the rounding)."""
    if not 0.0 < fill <= 1.0:
        raise ValueError(f"The person fill must lie in (0, 1], not {fill!r}.")
    longer = max(box.width, box.height, 0.0)
    side = max(1, math.ceil(longer / fill - 1e-9))
    centre_x, centre_y = (box.x0 + box.x1) / 2.0, (box.y0 + box.y1) / 2.0
    return CropBox(round(centre_x - side / 2.0), round(centre_y - side / 2.0), side)


def person_fill(box: PersonBox, square: CropBox) -> float:
    """The share of ``square``'s side that ``box``'s longer side spans."""
    return max(box.width, box.height) / square.side


def crop_pixels(rgb: NDArray[np.uint8], square: CropBox) -> NDArray[np.uint8]:
    """The ``(side, side, 3)`` pixels of ``square`` in ``rgb`` ``(H, W, 3)``; outside the photo, its mean
    colour."""
    height, width = rgb.shape[:2]
    canvas = np.empty((square.side, square.side, 3), dtype=np.uint8)
    canvas[:] = rgb.reshape(-1, 3).mean(axis=0).round().astype(np.uint8)
    left, top = max(square.x0, 0), max(square.y0, 0)
    right, bottom = min(square.x1, width), min(square.y1, height)
    if right > left and bottom > top:
        canvas[top - square.y0 : bottom - square.y0, left - square.x0 : right - square.x0] = rgb[
            top:bottom, left:right
        ]
    return canvas


def crop_image(rgb: NDArray[np.uint8], square: CropBox, max_side: int = MAX_CROP_SIDE) -> Image.Image:
    """The crop as an RGB image, shrunk to ``max_side`` pixels when larger."""
    picture = Image.fromarray(crop_pixels(rgb, square), mode="RGB")
    if square.side > max_side:
        picture = picture.resize((max_side, max_side), Image.Resampling.BILINEAR, reducing_gap=2.0)
    return picture


def crop_file_name(key: str, fill: float = GALLERY_FILL) -> str:
    """``<image content key>.crop<version>-f<fill in thousandths>.png``."""
    return f"{key}.crop{CROP_VERSION}-f{round(fill * 1000)}.png"


def write_person_crop(
    rgb: NDArray[np.uint8],
    box: PersonBox,
    directory: Path,
    key: str,
    fill: float = GALLERY_FILL,
) -> tuple[Path, CropBox]:
    """Store the crop around ``box`` as ``directory / crop_file_name(key, fill)``, written atomically,
    and return its path and square. A file of that name already there is kept: ``directory`` belongs to
    one estimator version and ``key`` is the photo's content, so it holds the same crop (and atomic
    writes never leave a partial one)."""
    square = crop_box(box, fill)
    path = Path(directory) / crop_file_name(key, fill)
    if not path.is_file():
        buffer = io.BytesIO()
        crop_image(rgb, square).save(buffer, format="PNG", compress_level=1)
        atomic_write_bytes(path, buffer.getvalue())
    return path, square
