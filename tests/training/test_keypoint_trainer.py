"""The keypoint reader's training: the augmentation moves the targets with the pixels (zoom, shift,
mirror with the sides swapped); left/right confusions permute the right joints; a tiny run trains, saves
a reader that a fusion reads with the joints net's map, and resumes."""

from __future__ import annotations

import numpy as np
import torch

from posebrowser.pose.skeleton import PELVIS
from posebrowser.training.keypoint_trainer import INPUT_SIZE, SWAPS, normalised, warped_batch, with_swaps


def _dots(rng: np.random.Generator, count: int) -> tuple[np.ndarray, np.ndarray]:
    """Black 128 px images, each with one bright right ankle (the other joints far outside the frame)."""
    images = np.zeros((count, 128, 128, 3), np.uint8)
    pixels = np.full((count, 16, 2), -500.0, np.float32)
    for i in range(count):
        x, y = rng.integers(30, 98, 2)
        images[i, y - 1 : y + 2, x - 1 : x + 2] = 255
        pixels[i, 0] = (x, y)
    return images, pixels


def test_the_augmented_targets_follow_the_pixels_and_mirror_the_sides(rng) -> None:
    images, pixels = _dots(rng, 32)
    x, target = warped_batch(images, normalised(pixels, 128), np.random.default_rng(3))
    mirrored = 0
    for i in range(len(images)):
        inside = np.abs(target[i].numpy()).max(1) < 1
        assert inside.sum() == 1, "exactly one target stays in the frame"
        joint = int(np.flatnonzero(inside)[0])
        assert joint in (0, 5), "the right ankle, or the left one when mirrored"
        mirrored += joint == 5
        peak_y, peak_x = np.unravel_index(int(x[i, 0].argmax()), x.shape[-2:])
        expected = (target[i, joint].numpy() + 1) * INPUT_SIZE / 2 - 0.5
        np.testing.assert_allclose((peak_x, peak_y), expected, atol=1.5)
    assert 4 < mirrored < 28


def test_the_plain_view_keeps_the_targets_and_scales_to_the_input(rng) -> None:
    images, pixels = _dots(rng, 4)
    x, target = warped_batch(images, normalised(pixels, 128), None)
    assert x.shape == (4, 3, INPUT_SIZE, INPUT_SIZE)
    assert float(x.min()) >= -1.0 - 1e-6 and float(x.max()) <= 1.0 + 1e-6
    np.testing.assert_allclose((target.numpy() + 1) * 64 - 0.5, pixels, atol=1e-4)


def test_swaps_permute_left_and_right_joints_only_in_the_chosen_share(rng) -> None:
    features = torch.from_numpy(rng.standard_normal((400, 32)).astype(np.float32))
    assert torch.equal(with_swaps(features, rng, 0.0), features)
    swapped = with_swaps(features, rng, 1.0).reshape(400, 16, 2)
    points = features.reshape(400, 16, 2)
    orders = [order for order, _ in SWAPS]
    for row in range(400):
        assert any(torch.equal(swapped[row], points[row][order]) for order in orders)
        assert torch.equal(swapped[row][PELVIS], points[row][PELVIS])
