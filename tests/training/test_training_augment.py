"""Augmentation: determinism, identity cases, flip + label swap."""

from __future__ import annotations

import numpy as np

from posebrowser.pose.skeleton import L_WRIST, R_WRIST
from posebrowser.training.augment import (
    AugmentConfig,
    augment_batch,
    colour_factors,
    colour_jitter,
    flip_joints_2d,
    flip_joints_3d,
    flip_posebits,
    jitter_crop,
    mirror_permutation,
)

NAMES = (
    "left_wrist_above_head_top",
    "right_wrist_above_head_top",
    "left_elbow_left_of_pelvis",
    "right_elbow_right_of_pelvis",
    "pelvis_bent",
    "left_knee_left_of_right_knee",  # mirror-invariant: maps to itself via the converse
    "left_ankle_in_front_of_pelvis",
    "right_ankle_in_front_of_pelvis",
    "left_hand_right_of_head",  # partner only as "right_hand_right_of_head" → negated
    "right_hand_right_of_head",
)


def test_mirror_permutation_maps_left_bits_to_right_bits() -> None:
    mirror = mirror_permutation(NAMES)
    named = {NAMES[i]: NAMES[int(j)] for i, j in enumerate(mirror.perm)}
    assert named["left_wrist_above_head_top"] == "right_wrist_above_head_top"
    assert named["right_wrist_above_head_top"] == "left_wrist_above_head_top"
    assert named["left_elbow_left_of_pelvis"] == "right_elbow_right_of_pelvis"
    assert named["pelvis_bent"] == "pelvis_bent"
    assert named["left_knee_left_of_right_knee"] == "left_knee_left_of_right_knee"
    assert named["left_hand_right_of_head"] == "right_hand_right_of_head"
    assert mirror.negate.tolist() == [False] * 8 + [True, True]
    assert not mirror.unknown.any()


def test_mirror_permutation_marks_missing_partner_unknown() -> None:
    mirror = mirror_permutation(["left_wrist_above_head_top", "pelvis_bent"])
    assert mirror.unknown.tolist() == [True, False]
    flipped = flip_posebits(np.array([[1, 0]], dtype=np.int8), mirror)
    assert flipped.tolist() == [[-1, 0]]


def test_flip_posebits_twice_is_identity_and_swaps_values(rng: np.random.Generator) -> None:
    mirror = mirror_permutation(NAMES)
    bits = rng.integers(-1, 2, size=(50, len(NAMES))).astype(np.int8)
    once = flip_posebits(bits, mirror)
    assert np.array_equal(once[:, 1], bits[:, 0]) and np.array_equal(once[:, 0], bits[:, 1])
    known = bits[:, 9] >= 0
    assert np.array_equal(once[known, 8], 1 - bits[known, 9])
    assert np.array_equal(once[~known, 8], bits[~known, 9])
    assert np.array_equal(flip_posebits(once, mirror), bits)


def test_flip_joints_twice_is_identity_and_swaps_sides(rng: np.random.Generator) -> None:
    joints = rng.uniform(0, 127, size=(4, 16, 2)).astype(np.float32)
    once = flip_joints_2d(joints, width=128)
    assert np.allclose(once[:, L_WRIST, 0], 127 - joints[:, R_WRIST, 0])
    assert np.allclose(flip_joints_2d(once, width=128), joints)
    j3 = rng.normal(size=(3, 16, 3))
    assert np.allclose(flip_joints_3d(flip_joints_3d(j3)), j3)


def test_jitter_crop_zero_is_identity(rng: np.random.Generator) -> None:
    image = rng.integers(0, 256, size=(32, 32, 3), dtype=np.uint8)
    assert np.array_equal(jitter_crop(image, 0, 0, 0), image)
    shifted = jitter_crop(image, 0, 2, 0)
    assert np.array_equal(shifted[:, :-2], image[:, 2:])


def test_augment_batch_is_deterministic_and_flips_whole_batch(rng: np.random.Generator) -> None:
    images = rng.integers(0, 256, size=(5, 40, 40, 3), dtype=np.uint8)
    config = AugmentConfig(blur_probability=0.5, jpeg_probability=0.5)
    a, fa = augment_batch(images, config, np.random.default_rng(3))
    b, fb = augment_batch(images, config, np.random.default_rng(3))
    assert fa == fb and np.array_equal(a, b) and a.shape == images.shape and a.dtype == np.uint8
    plain = AugmentConfig(
        scale_fraction=0,
        shift_fraction=0,
        flip_probability=1.0,
        brightness=0,
        contrast=0,
        saturation=0,
        blur_probability=0,
        jpeg_probability=0,
        grey_probability=0,
    )
    flipped, was_flipped = augment_batch(images, plain, np.random.default_rng(4))
    assert was_flipped and np.array_equal(flipped, images[:, :, ::-1])


def test_grey_probability_turns_that_share_of_the_images_grey() -> None:
    images = np.random.default_rng(0).integers(0, 256, size=(400, 8, 8, 3), dtype=np.uint8)
    jittered = colour_jitter(images, AugmentConfig(grey_probability=0.25), np.random.default_rng(1))
    spread = jittered.astype(int).max(axis=3) - jittered.astype(int).min(axis=3)
    grey = (spread <= 1).all(axis=(1, 2))  # rounding may leave one level between the channels
    assert 0.18 < grey.mean() < 0.32
    everything = colour_jitter(images, AugmentConfig(grey_probability=1.0), np.random.default_rng(1))
    assert (np.ptp(everything.astype(int), axis=3) <= 1).all()


def test_no_grey_share_draws_nothing_more() -> None:
    """grey_probability 0 keeps the random stream of the three colour factors (older recipes replay)."""
    config = AugmentConfig(grey_probability=0.0)
    first, second = np.random.default_rng(2), np.random.default_rng(2)
    factors = colour_factors(6, config, first)
    expected = [second.uniform(0.8, 1.2, 6).astype(np.float32) for _ in range(3)]
    assert all(np.array_equal(a, b) for a, b in zip(factors, expected, strict=True))
    assert first.random() == second.random()
    assert (factors[2] > 0).all()
