"""The train split of a gallery, decoded once for every training step of ``posebrowser train``."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from posebrowser.errors import DataError

#: Train images of the ``--tiny`` preset.
TINY_IMAGES = 48


@dataclass
class TrainData:
    """The train split of a gallery: rows (N,) int64, decoded images (N, H, W, 3) uint8, and (once computed)
    the current image net's embeddings (N, 128) float32."""

    gallery: Any
    rows: NDArray[np.int64]
    images: NDArray[np.uint8]
    embeddings: NDArray[np.float32] | None = None


def train_rows(gallery: Any, tiny: bool, max_images: int | None) -> NDArray[np.int64]:
    """The gallery's train rows, cut to the first ``max_images`` (``TINY_IMAGES`` with ``tiny``)."""
    rows = np.asarray(gallery.split_indices("train"), dtype=np.int64)
    limit = TINY_IMAGES if tiny else max_images
    return rows[:limit] if limit is not None else rows


def load_train_split(
    gallery_dir: str | None, tiny: bool, show_bar: bool, max_images: int | None = None
) -> TrainData:
    """Open the gallery and decode its train images once (all resized to the first image's size); the
    first ``max_images`` train rows only when given (TINY_IMAGES with ``tiny``)."""
    from posebrowser.data.loading import open_gallery

    gallery = open_gallery(gallery_dir)
    rows = train_rows(gallery, tiny, max_images)
    if len(rows) < 8:
        raise DataError(
            f"The gallery has only {len(rows)} training images; at least 8 are needed.", path=gallery.root
        )
    return TrainData(gallery, rows, decode_rows(gallery, rows, None, show_bar, "train"))


def decode_rows(
    gallery: Any, rows: NDArray[np.int64], shape: tuple[int, ...] | None, show_bar: bool, what: str
) -> NDArray[np.uint8]:
    """Decode gallery rows into (len(rows), H, W, 3) uint8; images are resized to ``shape`` (default: the
    first image's shape) when they differ."""
    from PIL import Image

    if shape is None:
        shape = np.asarray(gallery.load_image(int(rows[0]))).shape
    images = np.empty((len(rows), *shape), dtype=np.uint8)
    iterator: Any = range(len(rows))
    if show_bar:
        from tqdm import tqdm

        iterator = tqdm(iterator, desc=f"decode {what} images", leave=False)
    for i in iterator:
        image = gallery.load_image(int(rows[i]))
        if image.size != (shape[1], shape[0]):
            image = image.resize((shape[1], shape[0]), Image.Resampling.BILINEAR)
        images[i] = np.asarray(image, dtype=np.uint8)
    return images
