"""The keypoint reader's training: the augmentation moves the targets with the pixels (zoom, shift,
mirror with the sides swapped); left/right confusions permute the right joints; a tiny run trains, saves
a reader that a fusion reads with the joints net's map, and resumes."""

from __future__ import annotations

import numpy as np
import torch

from posebrowser.nets.keypoint_reader import MIRROR
from posebrowser.pose.skeleton import PELVIS
from posebrowser.training.keypoint_trainer import (
    INPUT_SIZE,
    SWAPS,
    camera_depths,
    normalised,
    warped_batch,
    warped_batch_with_depths,
    with_swaps,
)


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


def test_swaps_confuse_depths_as_they_confuse_landmarks(rng) -> None:
    features = torch.from_numpy(rng.standard_normal((200, 48)).astype(np.float32))
    swapped = with_swaps(features, np.random.default_rng(4), 0.5)
    torch.testing.assert_close(swapped[:, :32], with_swaps(features[:, :32], np.random.default_rng(4), 0.5))
    orders = [list(range(16))] + [order for order, _ in SWAPS]
    for row in range(200):
        points, depths = features[row, :32].reshape(16, 2), features[row, 32:]
        assert any(torch.equal(swapped[row, :32].reshape(16, 2), points[order])
                   and torch.equal(swapped[row, 32:], depths[order]) for order in orders)


def test_the_augmented_depths_scale_with_the_zoom_and_change_sides_in_a_mirror(rng) -> None:
    images, pixels = _dots(rng, 8)
    depths = rng.normal(0, 0.2, (8, 16)).astype(np.float32)
    x, target, depth = warped_batch_with_depths(images, normalised(pixels, 128), depths,
                                                np.random.default_rng(3))
    same_x, same_target = warped_batch(images, normalised(pixels, 128), np.random.default_rng(3))
    torch.testing.assert_close(x, same_x)
    torch.testing.assert_close(target, same_target)
    draws = np.random.default_rng(3)
    scale, _, mirrored = draws.uniform(0.85, 1.15, 8), draws.uniform(-0.1, 0.1, (8, 2)), draws.random(8) < 0.5
    assert depth is not None and 0 < mirrored.sum() < 8
    for row in range(8):
        order = list(MIRROR) if mirrored[row] else list(range(16))
        np.testing.assert_allclose(depth[row].numpy(), depths[row][order] / scale[row], rtol=1e-5)


def test_a_camera_depth_is_the_focal_times_the_depth_offset_over_the_pelvis_depth(rng) -> None:
    from types import SimpleNamespace

    world = rng.normal(0, 0.3, (1, 16, 3))
    angle = 0.4
    rotation = np.array([[[1, 0, 0], [0, np.cos(angle), -np.sin(angle)], [0, np.sin(angle), np.cos(angle)]]])
    translation = np.array([[0.1, -0.2, 6.0]])
    gallery = SimpleNamespace(joints_3d=world, camera_rotation=rotation, camera_translation=translation,
                              camera_focal=np.array([250.0]))
    depths = camera_depths(gallery, np.array([0]), 128)
    z = world[0] @ rotation[0][2] + translation[0, 2]  # each joint's distance along the optical axis
    np.testing.assert_allclose(depths[0], 250.0 * (z - z[PELVIS]) / z[PELVIS] / 64, rtol=1e-5)
    assert depths[0, PELVIS] == 0.0


class _RecordingLifter(torch.nn.Module):
    """A linear lifter that keeps every batch of inputs it was trained on."""

    def __init__(self, inputs: int) -> None:
        super().__init__()
        self.linear = torch.nn.Linear(inputs, 8)
        self.seen: list[torch.Tensor] = []

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        self.seen.append(x.detach().clone())
        return torch.nn.functional.normalize(self.linear(x), dim=1)


def test_only_the_augmented_rows_of_the_lifter_s_pool_take_the_noise_and_the_swaps(rng) -> None:
    from argparse import Namespace
    from types import SimpleNamespace

    from posebrowser.training.keypoint_trainer import train_lifter

    features = rng.normal(size=(512, 48)).astype(np.float32)
    features[:, -1] = np.arange(512)  # each row recognisable by its last feature
    targets = rng.normal(size=(512, 8)).astype(np.float32)
    augmented = np.arange(512) % 2 == 0
    noise = (np.zeros(48), np.eye(48))
    lifter = _RecordingLifter(48)
    train_lifter(SimpleNamespace(lifter=lifter), features, targets, noise,
                 Namespace(seed=0, lifter_epochs=1), lambda line: None, swap_share=1.0, augmented=augmented)
    seen = torch.cat(lifter.seen).numpy()
    row = np.round(seen[:, -1]).astype(int)
    plain = (row >= 0) & (row < 512) & np.isclose(seen[:, -1], row, atol=1e-6)
    kept = plain & ~augmented[np.clip(row, 0, 511)]
    # every row not augmented reaches the lifter exactly as given; every augmented row is changed
    assert kept.sum() == (~augmented).sum()
    np.testing.assert_array_equal(seen[kept], features[row[kept]])
    assert len(seen) - kept.sum() == augmented.sum()  # the augmented rows all arrive changed


def test_the_frozen_stages_stay_as_they_were_and_the_others_train(rng, tmp_path) -> None:
    from argparse import Namespace

    from posebrowser.nets.keypoint_reader import KeypointReader
    from posebrowser.training.keypoint_trainer import train_keypoint_net

    images, pixels = _dots(rng, 4)
    landmarks = normalised(pixels, 128)
    for frozen_stages, still, moved in ((3, [0, 1, 2], []), (1, [0], [1, 2])):
        torch.manual_seed(0)
        reader = KeypointReader(width=8)
        before = [[p.detach().clone() for p in stage.parameters()] for stage in reader.keypoints.fine]
        args = Namespace(keypoint_epochs=1, batch_size=2, seed=0, out=tmp_path / str(frozen_stages),
                         resume=False, train_device="cpu", frozen_stages=frozen_stages)
        train_keypoint_net(reader, images, landmarks, args, lambda line: None)
        after = [list(stage.parameters()) for stage in reader.keypoints.fine]
        for stage in still:
            assert all(torch.equal(a, b) for a, b in zip(before[stage], after[stage], strict=True)), stage
        for stage in moved:
            assert not all(torch.equal(a, b) for a, b in zip(before[stage], after[stage], strict=True)), stage
