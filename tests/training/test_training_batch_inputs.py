"""The fused augmentation → network input path against the unfused one (oracle: augment_batch + to_tensor)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from posebrowser.nets.preprocessing import Preprocessing
from posebrowser.training.augment import (
    AugmentConfig,
    colour_factors,
    colour_jitter,
    jitter_crop,
    jitter_crop_to,
)
from posebrowser.training.batch_inputs import (
    augmented_inputs,
    colour_jitter_normalised,
    fusable,
)

NO_AUGMENTATION = AugmentConfig(0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, (0.3, 1.2), 0.0, (30, 90), 0.0)
SHIPPED = Preprocessing(input_size=112, mean=(0.5, 0.5, 0.5), std=(0.5, 0.5, 0.5))
LEVEL = 1.0 / (255 * 0.5)  # one grey level in SHIPPED's normalised units


def _smooth_images(count: int, size: int = 128, seed: int = 0) -> np.ndarray:
    """Blocky random images (8-px cells) so resampling differences stay small, like real renders."""
    cells = np.random.default_rng(seed).integers(0, 256, (count, size // 8, size // 8, 3), dtype=np.uint8)
    return np.ascontiguousarray(cells.repeat(8, axis=1).repeat(8, axis=2))


def test_without_augmentation_it_equals_the_preprocessing() -> None:
    images = _smooth_images(6)
    fused, flipped = augmented_inputs(images, SHIPPED, NO_AUGMENTATION, np.random.default_rng(0))
    plain = SHIPPED.to_tensor(list(images))
    assert not flipped
    assert fused.shape == plain.shape == (6, 3, 112, 112)
    difference = (fused - plain).abs()
    assert float(difference.mean()) < 0.2 * LEVEL
    assert float(difference.max()) <= 8 * LEVEL + 1e-6


def test_output_is_contiguous_float32() -> None:
    fused, _ = augmented_inputs(_smooth_images(2), SHIPPED, AugmentConfig(), np.random.default_rng(1))
    assert fused.dtype == torch.float32
    assert fused.is_contiguous()


def test_jitter_crop_to_matches_jitter_crop_then_resize() -> None:
    image = _smooth_images(1)[0]
    for scale, shift_x, shift_y in ((0, 0, 0), (5, -3, 2), (-6, 4, -4)):
        once = jitter_crop_to(image, scale, shift_x, shift_y, 112).astype(int)
        twice = SHIPPED.prepare(jitter_crop(image, scale, shift_x, shift_y)).astype(int)
        assert np.abs(once - twice).mean() < 3.0, (scale, shift_x, shift_y)


@pytest.mark.parametrize("strength", [0.2, 0.6])
@pytest.mark.parametrize("order", ["RGB", "BGR"])
def test_colour_matrix_equals_colour_jitter_then_normalise(strength: float, order: str) -> None:
    images = _smooth_images(5, 32)
    config = AugmentConfig(brightness=strength, contrast=strength, saturation=strength, grey_probability=0.4)
    preprocessing = Preprocessing(
        input_size=32, mean=(0.4, 0.5, 0.6), std=(0.2, 0.3, 0.25), channel_order=order
    )
    expected = preprocessing.normalise(colour_jitter(images, config, np.random.default_rng(7)))
    factors = colour_factors(5, config, np.random.default_rng(7))  # the same draws, in the same order
    got = colour_jitter_normalised(images, *factors, preprocessing).numpy()
    level = preprocessing.value_scale / min(preprocessing.std)  # colour_jitter rounds to whole levels
    assert np.abs(got - expected).max() <= 0.5 * level + 1e-4


def test_flip_mirrors_the_whole_batch_and_nothing_else() -> None:
    images = _smooth_images(4)
    exact = {"blur_probability": 0.0, "jpeg_probability": 0.0}  # JPEG blocks are not mirror-symmetric
    for options, tolerance in ((exact, 1e-6), ({}, 0.01)):
        kept, kept_flag = augmented_inputs(
            images, SHIPPED, AugmentConfig(flip_probability=0.0, **options), np.random.default_rng(3)
        )
        mirrored, mirrored_flag = augmented_inputs(
            images, SHIPPED, AugmentConfig(flip_probability=1.0, **options), np.random.default_rng(3)
        )
        assert (kept_flag, mirrored_flag) == (False, True)
        assert float((mirrored - kept.flip(-1)).abs().mean()) <= tolerance


def test_same_seed_same_batch() -> None:
    images = _smooth_images(8)
    a, fa = augmented_inputs(images, SHIPPED, AugmentConfig(), np.random.default_rng(11))
    b, fb = augmented_inputs(images, SHIPPED, AugmentConfig(), np.random.default_rng(11))
    assert fa == fb and torch.equal(a, b)
    c, _ = augmented_inputs(images, SHIPPED, AugmentConfig(), np.random.default_rng(12))
    assert not torch.equal(a, c)


@pytest.mark.parametrize(
    "preprocessing",
    [
        Preprocessing(input_size=112, resize="center_crop_from", crop_source_size=144),
        Preprocessing(input_size=112, replace_colour=(0, 0, 0), replacement_colour=(128, 128, 128)),
    ],
)
def test_other_preprocessing_falls_back_to_the_unfused_path(preprocessing: Preprocessing) -> None:
    images = _smooth_images(3)
    assert not fusable(preprocessing, images)
    fused, _ = augmented_inputs(images, preprocessing, NO_AUGMENTATION, np.random.default_rng(0))
    assert torch.allclose(fused, preprocessing.to_tensor(list(images)))


def test_non_square_images_fall_back() -> None:
    assert not fusable(SHIPPED, np.zeros((2, 128, 96, 3), np.uint8))


def test_grey_images_come_out_grey_on_the_fused_path() -> None:
    images = _smooth_images(4)
    config = AugmentConfig(grey_probability=1.0)
    fused, _ = augmented_inputs(images, SHIPPED, config, np.random.default_rng(5))
    # SHIPPED normalises every channel alike, so a grey image has three equal channels
    assert float((fused[:, 0] - fused[:, 1]).abs().max()) < 1e-5
    assert float((fused[:, 1] - fused[:, 2]).abs().max()) < 1e-5
    plain = AugmentConfig(grey_probability=0.0)
    coloured, _ = augmented_inputs(images, SHIPPED, plain, np.random.default_rng(5))
    assert float((coloured[:, 0] - coloured[:, 1]).abs().max()) > 0.1
