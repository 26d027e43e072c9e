"""JointsNet and its input frame: unit-norm output, a frame that ignores where the person stands and
which way they face, and the neutral (mean-pose) row."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from pose_fakes import random_poses

from posebrowser.nets.joints_net import JointsNet, joints_frame
from posebrowser.nets.registry import build_net
from posebrowser.pose.similarity import distances_3d
from posebrowser.pose.skeleton import L_HIP, PELVIS, R_HIP


def test_frame_is_pelvis_centred_hips_along_x_idempotent_and_keeps_the_3d_metric(rng) -> None:
    poses = random_poses(rng, 50)
    framed = joints_frame(poses)
    np.testing.assert_allclose(framed[:, PELVIS], 0.0, atol=1e-6)
    across = framed[:, L_HIP] - framed[:, R_HIP]
    np.testing.assert_allclose(across[:, 1], 0.0, atol=1e-5)
    assert (across[:, 0] > 0).all()
    np.testing.assert_allclose(joints_frame(framed), framed, atol=1e-5)
    np.testing.assert_allclose(distances_3d(framed, framed), distances_3d(poses, poses), atol=1e-5)


def test_output_is_unit_norm_and_ignores_position_and_facing(rng) -> None:
    net = JointsNet(hidden=64).eval()
    poses = random_poses(rng, 20)
    moved = poses.copy()
    moved[..., :2] = moved[..., :2] @ np.array([[0.0, 1.0], [-1.0, 0.0]])  # a quarter turn about Z
    moved += np.array([3.0, -1.0, 0.5])
    with torch.no_grad():
        out = net(torch.from_numpy(joints_frame(poses)))
        again = net(torch.from_numpy(joints_frame(moved)))
    torch.testing.assert_close(out.norm(dim=1), torch.ones(20))
    torch.testing.assert_close(out, again, atol=1e-5, rtol=1e-5)
    assert out.shape == (20, 128)


def test_neutral_embedding_is_the_mean_pose_embedded_and_saved_with_the_weights(rng) -> None:
    net = build_net("joints_mlp", hidden=32).eval()
    mean = joints_frame(random_poses(rng, 30)).mean(axis=0)
    net.get_buffer("mean_pose").copy_(torch.from_numpy(mean))
    with torch.no_grad():
        torch.testing.assert_close(net.neutral_embedding(), net(torch.from_numpy(mean)[None]))
    assert "mean_pose" in net.state_dict()


def test_bad_shapes_are_refused() -> None:
    with pytest.raises(ValueError, match="16, 3"):
        joints_frame(np.zeros((2, 15, 3)))
    with pytest.raises(ValueError, match="positive"):
        JointsNet(hidden=0)


def test_torso_frame_removes_every_global_rotation_and_is_idempotent(rng) -> None:
    from scipy.spatial.transform import Rotation

    from posebrowser.pose.skeleton import UPPER_NECK

    poses = random_poses(rng, 12)
    framed = joints_frame(poses, "torso")
    np.testing.assert_allclose(framed[:, PELVIS], 0, atol=1e-6)
    spine, hips = framed[:, UPPER_NECK], framed[:, L_HIP] - framed[:, R_HIP]
    np.testing.assert_allclose(spine[:, :2], 0, atol=1e-5)  # the spine along +z
    assert (spine[:, 2] > 0).all() and (hips[:, 0] > 0).all()
    np.testing.assert_allclose(hips[:, 1], 0, atol=1e-5)  # the hips in the x–z plane
    tilted = poses @ Rotation.random(12, random_state=3).as_matrix()  # any rotation, not only about z
    np.testing.assert_allclose(joints_frame(tilted, "torso"), framed, atol=1e-5)
    np.testing.assert_allclose(joints_frame(framed, "torso"), framed, atol=1e-5)
    # the facing frame keeps the lean, so a tilt changes it
    assert not np.allclose(joints_frame(tilted), joints_frame(poses), atol=1e-2)


def test_torso_frame_of_a_pose_without_a_spine_is_nan_and_an_unknown_frame_is_refused(rng) -> None:
    flat = np.zeros((1, 16, 3))
    assert np.isnan(joints_frame(flat, "torso")).all()
    with pytest.raises(ValueError, match="frame must be one of"):
        joints_frame(random_poses(rng, 1), "world")
    with pytest.raises(ValueError, match="frame must be one of"):
        JointsNet(frame="world")


def test_a_torso_net_embeds_tilted_copies_alike(rng) -> None:
    from scipy.spatial.transform import Rotation

    from posebrowser.nets.joints_net import embed_joints

    torch.manual_seed(0)
    net = JointsNet(hidden=32, frame="torso")
    poses = random_poses(rng, 6)
    tilted = poses @ Rotation.random(6, random_state=4).as_matrix()
    np.testing.assert_allclose(embed_joints(net, poses), embed_joints(net, tilted), atol=1e-5)
