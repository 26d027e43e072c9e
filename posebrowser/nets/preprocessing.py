"""Image preprocessing for the image nets: decode/resize (torch-free) and normalise.

Two stages, so decoding can run in worker threads without touching torch:

1. :meth:`Preprocessing.prepare` — PIL image or uint8 HxWx3 RGB array → (S, S, 3) uint8 RGB
   (pad-colour replacement, centre square crop, bilinear resize with PIL, thesis centre crop).
2. :meth:`Preprocessing.normalise` — (N, S, S, 3) uint8 → (N, 3, S, S) float32
   ``(value · value_scale − mean) / std`` with mean/std given in **RGB order**, then the channel order
   of the net (``"BGR"`` swaps channels after normalising, as the thesis' loaders do).

:meth:`Preprocessing.to_array` chains both; :meth:`Preprocessing.to_tensor` wraps it in a torch tensor.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
from numpy.typing import NDArray
from PIL import Image

from posebrowser.errors import CheckpointError

if TYPE_CHECKING:
    import torch

ChannelOrder = Literal["RGB", "BGR"]
ResizeMode = Literal["resize", "center_crop_from"]
ImageLike = Image.Image | NDArray[np.uint8]

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)
THESIS_MEAN_RGB = (123.68, 116.779, 103.939)
THESIS_PAD_COLOUR = (115, 108, 99)
THESIS_PAD_REPLACEMENT = (123, 116, 103)


@dataclass(frozen=True)
class Preprocessing:
    """How an image becomes a network input of shape (3, input_size, input_size) float32.

    ``mean``/``std`` are in RGB order and in units after ``value_scale`` (1/255 → [0, 1]; 1 → 0–255).
    ``resize="resize"`` centre-crops to a square and resizes to ``input_size``; ``"center_crop_from"``
    resizes the square to ``crop_source_size`` (the thesis' 144) and takes the centre ``input_size``
    window (the thesis' [16:128] crop). ``replace_colour`` maps one exact RGB colour (the thesis' pad
    colour) to ``replacement_colour`` before any resizing.
    """

    input_size: int = 112
    mean: tuple[float, float, float] = IMAGENET_MEAN
    std: tuple[float, float, float] = IMAGENET_STD
    channel_order: ChannelOrder = "RGB"
    value_scale: float = 1.0 / 255.0
    resize: ResizeMode = "resize"
    crop_source_size: int | None = None
    replace_colour: tuple[int, int, int] | None = None
    replacement_colour: tuple[int, int, int] | None = None

    def __post_init__(self) -> None:
        if self.input_size < 1:
            raise ValueError(f"input_size must be positive, not {self.input_size}")
        if self.channel_order not in ("RGB", "BGR"):
            raise ValueError(f"channel_order must be 'RGB' or 'BGR', not {self.channel_order!r}")
        if self.resize not in ("resize", "center_crop_from"):
            raise ValueError(f"resize must be 'resize' or 'center_crop_from', not {self.resize!r}")
        if self.resize == "center_crop_from" and (
            self.crop_source_size is None or self.crop_source_size < self.input_size
        ):
            raise ValueError("center_crop_from needs crop_source_size >= input_size")
        if len(self.mean) != 3 or len(self.std) != 3 or any(s <= 0 for s in self.std):
            raise ValueError("mean and std need three values each, std positive")
        if (self.replace_colour is None) != (self.replacement_colour is None):
            raise ValueError("replace_colour and replacement_colour must be given together")

    # ---- stage 1: torch-free, thread-safe -------------------------------------------------------

    def prepare(self, image: ImageLike) -> NDArray[np.uint8]:
        """One PIL image or uint8 (H, W, 3) / (H, W) array → (S, S, 3) uint8 RGB, S = input_size."""
        array = _as_rgb_array(image)
        if self.replace_colour is not None and self.replacement_colour is not None:
            match = np.all(array == np.asarray(self.replace_colour, dtype=np.uint8), axis=2)
            if match.any():
                array = array.copy()
                array[match] = np.asarray(self.replacement_colour, dtype=np.uint8)
        array = _centre_square(array)
        size = self.input_size
        if self.resize == "center_crop_from":
            assert self.crop_source_size is not None
            source = self.crop_source_size
            array = _resize(array, source)
            start = (source - size) // 2
            return np.ascontiguousarray(array[start : start + size, start : start + size])
        return _resize(array, size)

    def prepare_batch(self, images: Sequence[ImageLike]) -> NDArray[np.uint8]:
        """Images → (N, S, S, 3) uint8 RGB."""
        size = self.input_size
        batch = np.empty((len(images), size, size, 3), dtype=np.uint8)
        for row, image in enumerate(images):
            batch[row] = self.prepare(image)
        return batch

    # ---- stage 2: normalisation -------------------------------------------------------------------

    def normalise(self, batch: NDArray[np.uint8]) -> NDArray[np.float32]:
        """(N, S, S, 3) uint8 RGB → (N, 3, S, S) float32 C-contiguous, normalised, in channel_order."""
        if batch.ndim != 4 or batch.shape[3] != 3:
            raise ValueError(f"expected (N, S, S, 3) uint8, got shape {batch.shape}")
        std = np.asarray(self.std, dtype=np.float32)
        multiplier = np.float32(self.value_scale) / std
        offset = np.asarray(self.mean, dtype=np.float32) / std
        values = batch.astype(np.float32) * multiplier - offset
        if self.channel_order == "BGR":
            values = values[..., ::-1]
        return np.ascontiguousarray(values.transpose(0, 3, 1, 2))

    def to_array(self, images: Sequence[ImageLike]) -> NDArray[np.float32]:
        """Images → (N, 3, S, S) float32 network input (numpy, torch-free)."""
        return self.normalise(self.prepare_batch(images))

    def to_tensor(self, images: Sequence[ImageLike]) -> torch.Tensor:
        """Images → (N, 3, S, S) float32 torch tensor (CPU)."""
        import torch

        return torch.from_numpy(self.to_array(images))

    # ---- serialisation ----------------------------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        """JSON-able dict (tuples become lists)."""
        return {
            key: list(value) if isinstance(value, tuple) else value for key, value in asdict(self).items()
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Preprocessing:
        """Inverse of :meth:`to_dict`; raises :class:`CheckpointError` for unknown keys or bad values."""
        known = set(cls.__dataclass_fields__)
        unknown = sorted(set(data) - known)
        if unknown:
            raise CheckpointError(f"The preprocessing description has unknown fields: {', '.join(unknown)}.")
        values: dict[str, Any] = {
            key: tuple(value) if isinstance(value, list) else value for key, value in data.items()
        }
        try:
            return cls(**values)
        except (TypeError, ValueError) as error:
            raise CheckpointError(f"The preprocessing description is invalid: {error}.") from error


def compact_preprocessing(input_size: int = 112) -> Preprocessing:
    """RGB, /255, ImageNet mean/std, resized to ``input_size`` (the CompactImageNet default)."""
    return Preprocessing(input_size=input_size)


def lite_preprocessing(input_size: int = 160) -> Preprocessing:
    """RGB scaled to [−1, 1] (``(x − 127.5) / 127.5``, the TF EfficientNet-Lite convention), resized to
    ``input_size`` (the LiteImageNet default: 160, the 128 px renders upsampled, which won over 128 and
    112 on the validation data)."""
    return Preprocessing(input_size=input_size, mean=(0.5, 0.5, 0.5), std=(0.5, 0.5, 0.5))


def thesis_preprocessing() -> Preprocessing:
    """As the thesis' loaders: pad colour fix, centre 112 crop of the 144 image, 0–255 minus RGB mean,
    BGR, no std."""
    return Preprocessing(
        input_size=112,
        mean=THESIS_MEAN_RGB,
        std=(1.0, 1.0, 1.0),
        channel_order="BGR",
        value_scale=1.0,
        resize="center_crop_from",
        crop_source_size=144,
        replace_colour=THESIS_PAD_COLOUR,
        replacement_colour=THESIS_PAD_REPLACEMENT,
    )


def _as_rgb_array(image: ImageLike) -> NDArray[np.uint8]:
    if isinstance(image, Image.Image):
        return np.asarray(image if image.mode == "RGB" else image.convert("RGB"), dtype=np.uint8)
    array = np.asarray(image)
    if array.dtype != np.uint8:
        raise ValueError(f"image arrays must be uint8, not {array.dtype}")
    if array.ndim == 2:
        return np.repeat(array[:, :, None], 3, axis=2)
    if array.ndim != 3 or array.shape[2] != 3:
        raise ValueError(f"image arrays must be (H, W, 3) RGB, got shape {array.shape}")
    return array


def _centre_square(array: NDArray[np.uint8]) -> NDArray[np.uint8]:
    height, width = array.shape[:2]
    if height == width:
        return array
    side = min(height, width)
    top, left = (height - side) // 2, (width - side) // 2
    return array[top : top + side, left : left + side]


def _resize(array: NDArray[np.uint8], size: int) -> NDArray[np.uint8]:
    if array.shape[0] == size and array.shape[1] == size:
        return array
    resized = Image.fromarray(np.ascontiguousarray(array)).resize((size, size), Image.Resampling.BILINEAR)
    return np.asarray(resized, dtype=np.uint8)
