"""BlazePose landmarks → the 16-joint skeleton, the camera → Z-up rotation, and posebits with unknown bits."""

from __future__ import annotations

import numpy as np
import pytest

from posebrowser.data.gallery import Gallery
from posebrowser.estimate import skeleton_map as sm
from posebrowser.pose import skeleton as sk
from posebrowser.pose.posebits import get_vocabulary


def _landmarks(rng: np.random.Generator, dim: int) -> np.ndarray:
    return rng.normal(size=(sm.BLAZEPOSE_LANDMARKS, dim))


def test_direct_joints_are_copied_with_the_persons_own_sides(rng: np.random.Generator) -> None:
    marks = _landmarks(rng, 3)
    joints = sm.to_skeleton(marks)
    assert np.array_equal(joints[sk.R_WRIST], marks[16])
    assert np.array_equal(joints[sk.L_WRIST], marks[15])
    assert np.array_equal(joints[sk.R_ANKLE], marks[28])
    assert np.array_equal(joints[sk.L_HIP], marks[23])


def test_derived_joints(rng: np.random.Generator) -> None:
    marks = _landmarks(rng, 2)
    joints = sm.to_skeleton(marks)
    head = (marks[7] + marks[8]) / 2
    assert np.allclose(joints[sk.PELVIS], (marks[23] + marks[24]) / 2)
    assert np.allclose(joints[sk.THORAX], (marks[11] + marks[12]) / 2)
    assert np.allclose(joints[sk.UPPER_NECK], (joints[sk.THORAX] + head) / 2)
    assert np.allclose(joints[sk.HEAD_TOP], 2 * head - joints[sk.UPPER_NECK])


def test_wrong_landmark_count_is_refused() -> None:
    with pytest.raises(ValueError, match="33"):
        sm.to_skeleton(np.zeros((17, 3)))


def test_derived_confidence_is_the_lowest_input() -> None:
    scores = np.full(33, 0.9)
    scores[8] = 0.2  # right ear
    scores[23] = 0.4  # left hip
    confidence = sm.skeleton_confidence(scores)
    assert confidence[sk.HEAD_TOP] == pytest.approx(0.2)
    assert confidence[sk.UPPER_NECK] == pytest.approx(0.2)
    assert confidence[sk.PELVIS] == pytest.approx(0.4)
    assert confidence[sk.R_WRIST] == pytest.approx(0.9)


def test_camera_to_z_up_is_a_rotation_that_puts_the_head_up() -> None:
    assert np.linalg.det(sm.CAMERA_TO_Z_UP) == pytest.approx(1.0)
    head_in_camera = np.array([0.0, -0.7, 0.1])  # above the hips (y down), a little further away
    x, y, z = sm.camera_to_z_up(head_in_camera)
    assert z == pytest.approx(0.7) and y == pytest.approx(0.1) and x == pytest.approx(0.0)


def test_confident_exact_joints_give_the_ground_truth_posebits(gallery: Gallery) -> None:
    vocabulary = get_vocabulary()
    if gallery.joints_3d is None or gallery.posebit_names != vocabulary.names:
        pytest.skip("the built-in gallery has no 3-D joints for this vocabulary")
    for row in range(5):
        bits = sm.estimated_posebits(gallery.joints_3d[row], np.ones(16), vocabulary, 0.5)
        expected = vocabulary.compute_with_dont_care(gallery.joints_3d[row][None])[0]
        assert np.array_equal(bits, expected)


def test_a_doubtful_wrist_makes_only_the_bits_that_need_it_unknown(gallery: Gallery) -> None:
    vocabulary = get_vocabulary()
    joints = gallery.joints_3d[0]
    confidence = np.ones(16)
    confidence[sk.R_WRIST] = 0.1
    bits = sm.estimated_posebits(joints, confidence, vocabulary, 0.5)
    needs_wrist = np.array([sk.R_WRIST in bit.joints for bit in vocabulary.bits])
    assert np.all(bits[needs_wrist] == -1)
    full = vocabulary.compute_with_dont_care(joints[None])[0]
    assert np.array_equal(bits[~needs_wrist], full[~needs_wrist])


def test_doubtful_hips_leave_only_bend_angles_known(gallery: Gallery) -> None:
    vocabulary = get_vocabulary()
    confidence = np.ones(16)
    confidence[[sk.L_HIP, sk.R_HIP, sk.PELVIS]] = 0.1
    bits = sm.estimated_posebits(gallery.joints_3d[0], confidence, vocabulary, 0.5)
    for bit, value in zip(vocabulary.bits, bits, strict=True):
        uses_hips = bool({sk.L_HIP, sk.R_HIP, sk.PELVIS} & set(bit.joints))
        if bit.family != "hinge" or uses_hips:
            assert value == -1, bit.name
    assert np.any(bits >= 0), "elbow bends do not depend on the hips"
