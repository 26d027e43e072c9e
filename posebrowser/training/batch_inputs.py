"""A training batch of stored images → augmented, normalised network input, in one pass.

The unfused path augments at the stored size (crop jitter resized back to, e.g., 128 px, colour jitter in
float numpy) and then lets :meth:`Preprocessing.to_tensor` resize again to the input size and normalise.
For nets whose preprocessing is a plain resize of a square image (every shipped image net), this module
fuses the steps: the jittered crop window is resampled **once, straight to the input size**; blur and JPEG
noise work on those small images; colour jitter and normalisation are one batched 3×3 colour matrix per
image (:func:`colour_jitter_normalised`).

Measured with ``benchmarks/bench_training.py`` (64 images at the shipped net's input size, on 2 CPU
cores): see the README's benchmark table. The augmentation distribution is the same as
:func:`augment_batch`'s (same strengths, same draws per image, flip once per batch); the order differs in
one place — blur/JPEG noise come before the colour jitter rather than after — and the random draws are
made in a different order, so the two paths are not bit-identical.
"""

from __future__ import annotations

import numpy as np
import torch

from posebrowser.nets.preprocessing import Preprocessing
from posebrowser.training.augment import (
    AugmentConfig,
    UInt8Images,
    augment_batch,
    blur,
    colour_factors,
    jitter_crop_to,
    jpeg_noise,
)

_GREY_WEIGHTS = (0.299, 0.587, 0.114)  # as colour_jitter's; they sum to 1, which the matrix form needs


def fusable(preprocessing: Preprocessing, images: UInt8Images) -> bool:
    """True when the fused path gives what ``to_tensor`` would: plain resize, no colour replacement,
    square stored images."""
    return (
        preprocessing.resize == "resize"
        and preprocessing.replace_colour is None
        and images.ndim == 4
        and images.shape[1] == images.shape[2]
        and images.shape[3] == 3
    )


def augmented_inputs(
    images: UInt8Images, preprocessing: Preprocessing, config: AugmentConfig, rng: np.random.Generator
) -> tuple[torch.Tensor, bool]:
    """Augment a batch (B, H, W, 3) uint8 and return the (B, 3, S, S) float32 net input and whether the
    whole batch was mirrored. Falls back to :func:`augment_batch` +
    ``to_tensor`` where the preprocessing cannot be fused."""
    if not fusable(preprocessing, images):
        pixels, flipped = augment_batch(images, config, rng)
        return preprocessing.to_tensor(list(pixels)), flipped
    inputs, flipped, _ = augmented_inputs_and_crops(images, preprocessing, config, rng)
    return inputs, flipped


def augmented_inputs_and_crops(
    images: UInt8Images, preprocessing: Preprocessing, config: AugmentConfig, rng: np.random.Generator
) -> tuple[torch.Tensor, bool, np.ndarray]:
    """:func:`augmented_inputs` on the fused path (same draws, same result), plus each image's crop
    window as ``(B, 3)`` int ``(scale_px, shift_x, shift_y)`` (:func:`jitter_crop_to`'s arguments), so
    that targets placed in the image (landmarks) can follow the crop. Raises ``ValueError`` where the
    preprocessing cannot be fused."""
    if not fusable(preprocessing, images):
        raise ValueError("crop windows are known only on the fused path (square images, plain resize)")
    size = preprocessing.input_size
    side = images.shape[1]
    scale_max = round(config.scale_fraction * side)
    shift_max = round(config.shift_fraction * side)
    flipped = bool(rng.random() < config.flip_probability)  # one coin for the whole batch (thesis)
    out = np.empty((len(images), size, size, 3), dtype=np.uint8)
    crops = np.zeros((len(images), 3), dtype=np.int64)
    for i, image in enumerate(images):
        scale = int(rng.integers(-scale_max, scale_max + 1))
        shift_x, shift_y = (int(v) for v in rng.integers(-shift_max, shift_max + 1, size=2))
        crops[i] = scale, shift_x, shift_y
        out[i] = jitter_crop_to(image, scale, shift_x, shift_y, size, mirror=flipped)
        if rng.random() < config.blur_probability:
            out[i] = blur(out[i], float(rng.uniform(*config.blur_radius)) * size / side)
        if rng.random() < config.jpeg_probability:
            out[i] = jpeg_noise(out[i], int(rng.integers(config.jpeg_quality[0], config.jpeg_quality[1] + 1)))
    factors = colour_factors(len(images), config, rng)
    return colour_jitter_normalised(out, *factors, preprocessing), flipped, crops


def colour_jitter_normalised(
    images: UInt8Images,
    brightness: np.ndarray,
    contrast: np.ndarray,
    saturation: np.ndarray,
    preprocessing: Preprocessing,
) -> torch.Tensor:
    """:func:`colour_jitter` (per-image factors (B,)) followed by :meth:`Preprocessing.normalise`, for a
    (B, S, S, 3) uint8 batch → (B, 3, S, S) float32, without rounding to whole grey levels.

    Brightness, contrast and saturation are linear in the pixel values, so per image they are one 3×3
    colour matrix plus an offset (the contrast pivot, the image mean); the normalisation is folded in, and
    the 0–255 clip becomes a per-channel clamp in normalised units. One batched matrix product on planar
    pixels then does the work of ~12 element-wise passes (measured ~7 ms vs ~45 ms for 64 × 112² on 2
    cores)."""
    count = len(images)
    planar = torch.empty((count, 3, images.shape[1] * images.shape[2]), dtype=torch.float32)
    planar.copy_(torch.from_numpy(images).view(count, -1, 3).transpose(1, 2))  # fast uint8 → float
    b, c, s = (
        torch.from_numpy(np.asarray(f, np.float32)).view(-1, 1, 1) for f in (brightness, contrast, saturation)
    )
    grey = torch.tensor(_GREY_WEIGHTS, dtype=torch.float32).view(1, 1, 3)
    # out_j = Σ_k matrix[j, k] · in_k + shift_j with matrix = c·b·(s·I + (1 − s)·1·wᵀ), shift = (1 − c)·b·mean
    matrix = c * b * (s * torch.eye(3).view(1, 3, 3) + (1 - s) * grey.expand(count, 3, 3))
    shift = ((1 - c) * b * planar.mean(dim=(1, 2), keepdim=True)).expand(count, 3, 1)
    std = torch.tensor(preprocessing.std, dtype=torch.float32)
    multiplier = (torch.tensor(preprocessing.value_scale, dtype=torch.float32) / std).view(1, 3, 1)
    offset = (torch.tensor(preprocessing.mean, dtype=torch.float32) / std).view(1, 3, 1)
    matrix, shift = matrix * multiplier, shift * multiplier - offset
    low, high = -offset, 255.0 * multiplier - offset
    if preprocessing.channel_order == "BGR":
        matrix, shift, low, high = (t.flip(1) for t in (matrix, shift, low, high))
    values = torch.baddbmm(shift, matrix, planar)
    values = values.clamp_(low, high)
    return values.view(count, 3, images.shape[1], images.shape[2])
