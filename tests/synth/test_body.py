"""Clip FK, world-orient FK + skinning, left/right conventions and the pose sampler."""

from __future__ import annotations

import numpy as np
import pytest

from posebrowser.pose import skeleton as sk
from posebrowser.synth import fk, poses
from posebrowser.synth.assets import load_motions
from posebrowser.synth.skin import default_body_model, links_to_world

IDENTITY_LINKS = np.tile(np.eye(3), (13, 1, 1))


def _rest(body: int = 0) -> poses.PosedBody:
    sample = poses.PoseSample(local=IDENTITY_LINKS.copy(), airborne=0.0, source="rest", split_key="rest")
    return poses.pose_body(default_body_model(), body, sample)


def test_rotation_helpers_round_trip(rng: np.random.Generator) -> None:
    vecs = rng.normal(size=(50, 3))
    vecs *= (rng.uniform(0.01, 3.0, 50) / np.linalg.norm(vecs, axis=1))[:, None]
    mats = fk.axis_angle_to_matrix(vecs)
    np.testing.assert_allclose(
        mats @ np.swapaxes(mats, 1, 2), np.broadcast_to(np.eye(3), mats.shape), atol=1e-12
    )
    np.testing.assert_allclose(fk.axis_angle_to_matrix(fk.matrix_to_axis_angle(mats)), mats, atol=1e-9)
    half = fk.quat_to_matrix(np.array([np.cos(0.3), 0.0, 0.0, np.sin(0.3)]))  # 0.6 rad about z
    np.testing.assert_allclose(half, fk.axis_angle_to_matrix(np.array([0, 0, 0.6])), atol=1e-12)
    a, b = mats[0], mats[1]
    np.testing.assert_allclose(fk.slerp_matrix(a, b, 0.0), a, atol=1e-9)
    np.testing.assert_allclose(fk.slerp_matrix(a, b, 1.0), b, atol=1e-9)
    src, dst = rng.normal(size=3), rng.normal(size=3)
    turned = fk.rotation_between(src, dst) @ src
    np.testing.assert_allclose(turned / np.linalg.norm(turned), dst / np.linalg.norm(dst), atol=1e-9)


def test_clip_fk_rest_pose_and_frame_layout() -> None:
    _, pos = fk.forward_kinematics(IDENTITY_LINKS)
    # rest: right hip at +Z (DeepMimic's right), knee 0.42 m straight below it
    np.testing.assert_allclose(pos[fk.LINK_INDEX["right_hip"]], [0, 0, 0.084887], atol=1e-6)
    np.testing.assert_allclose(
        pos[fk.LINK_INDEX["right_knee"]] - pos[fk.LINK_INDEX["right_hip"]], [0, -0.421546, 0], atol=1e-6
    )
    motions = load_motions()
    assert len(motions.frames) == 1810 and motions.frames.shape[1] == 44
    local, root = fk.frame_to_local_rotations(motions.frames[0])
    assert local.shape == (13, 3, 3) and root.shape == (3,)
    np.testing.assert_allclose(
        local @ np.swapaxes(local, 1, 2), np.broadcast_to(np.eye(3), local.shape), atol=1e-5
    )


def test_world_frame_conversion_keeps_right_at_minus_x() -> None:
    world_dm, pos_dm = fk.forward_kinematics(IDENTITY_LINKS)
    right_dm = pos_dm[fk.LINK_INDEX["right_hip"]]
    np.testing.assert_allclose(fk.DM_TO_WORLD @ right_dm, [-0.084887, 0, 0], atol=1e-6)
    np.testing.assert_allclose(links_to_world(world_dm), world_dm, atol=1e-12)  # identity stays identity


def test_rest_pose_skinning_reproduces_the_bank_and_faces_minus_y() -> None:
    model = default_body_model()
    identity = np.tile(np.eye(3), (len(model.parents), 1, 1))
    rest_heads = model.arrays.rest_bone_heads[3]
    transforms, heads = model.bone_transforms(3, identity, rest_heads[0])
    np.testing.assert_allclose(heads, rest_heads, atol=1e-6)
    np.testing.assert_allclose(model.skin(3, transforms), model.arrays.rest_vertices[3], atol=1e-6)
    posed = _rest(3)  # DeepMimic's rest pose: arms and legs straight down
    vertices = model.skin(3, posed.transforms)
    joints = posed.joints
    assert joints[sk.R_HIP, 0] < joints[sk.L_HIP, 0] and joints[sk.R_SHOULDER, 0] < joints[sk.L_SHOULDER, 0]
    assert joints[sk.R_WRIST, 0] < -0.15 < 0.15 < joints[sk.L_WRIST, 0]  # arms hang at the sides
    assert joints[sk.HEAD_TOP, 2] > joints[sk.UPPER_NECK, 2] > joints[sk.THORAX, 2] > joints[sk.PELVIS, 2]
    assert abs(vertices[:, 2].min()) < 0.01  # standing on the ground
    eyes = model.arrays.vertex_regions == model.arrays.region_names.index("eye")
    face_direction = vertices[eyes].mean(0) - joints[sk.UPPER_NECK]
    assert face_direction[1] < -0.03  # the face looks along −Y, so the right side (−X) is the person's right


@pytest.mark.parametrize("index", range(6))
def test_skinned_mesh_follows_the_fk_joints(index: int) -> None:
    sample, posed = poses.draw_pose(poses.pose_rng(11, index), index)
    model = posed.model or default_body_model()  # the shaped one-body model the pose was built on
    transforms, heads = posed.transforms, posed.heads
    # every bone's transform moves its own rest head onto the FK position of that head
    rest_heads = model.arrays.rest_bone_heads[posed.body].astype(np.float64)
    moved = np.einsum("bij,bj->bi", transforms[:, :, :3], rest_heads) + transforms[:, :, 3]
    np.testing.assert_allclose(moved, heads, atol=1e-9)
    vertices = model.skin(posed.body, transforms)
    np.testing.assert_allclose(
        vertices[model.arrays.head_top_vertex[posed.body]], posed.joints[sk.HEAD_TOP], atol=1e-9
    )
    # vertices bound only to bones moving rigidly with a joint's bone keep their rest distance to that joint
    weights, indices = model.arrays.vertex_bone_weights, model.arrays.vertex_bone_indices
    for joint, bone in ((sk.R_ANKLE, "foot.R"), (sk.L_WRIST, "wrist.L"), (sk.UPPER_NECK, "head")):
        b = model.bone_index[bone]
        same_motion = model.driver[indices] == model.driver[b]
        rigid = np.nonzero(np.where(same_motion, weights, 0.0).sum(1) > 0.9999)[0]
        assert len(rigid) > 5
        rest_d = np.linalg.norm(model.arrays.rest_vertices[posed.body, rigid] - rest_heads[b], axis=1)
        posed_d = np.linalg.norm(vertices[rigid] - posed.joints[joint], axis=1)
        np.testing.assert_allclose(posed_d, rest_d, atol=1e-5)
    assert vertices[:, 2].min() > sample.airborne - 0.02


def test_segment_distance_against_sampling(rng: np.random.Generator) -> None:
    a0, a1, b0, b1 = (rng.normal(size=(40, 3)) for _ in range(4))
    got = poses.segment_distances(a0, a1, b0, b1)
    t = np.linspace(0, 1, 201)
    for i in range(40):
        pa = a0[i] + t[:, None] * (a1[i] - a0[i])
        pb = b0[i] + t[:, None] * (b1[i] - b0[i])
        brute = np.linalg.norm(pa[:, None] - pb[None], axis=2).min()
        assert got[i] <= brute + 1e-9 and got[i] > brute - 0.02


def test_self_collision_detects_a_hand_inside_the_torso() -> None:
    joints = _rest().joints.copy()
    assert not poses.self_collides(joints)
    joints[sk.R_WRIST] = (joints[sk.PELVIS] + joints[sk.THORAX]) / 2
    joints[sk.R_ELBOW] = joints[sk.R_WRIST] + np.array([-0.05, -0.25, 0.0])
    assert poses.self_collides(joints)


def test_sample_poses_is_deterministic_and_mixed() -> None:
    batch = poses.sample_poses(24, seed=5)
    again = poses.sample_poses(24, seed=5)
    np.testing.assert_array_equal(batch.joints_3d, again.joints_3d)
    assert batch.joints_3d.shape == (24, 16, 3) and batch.joints_3d.dtype == np.float32
    kinds = {source.split(":")[0] for source in batch.source}
    assert kinds == {"clip", "perturb", "random"}
    other = poses.sample_poses(4, seed=6)
    assert not np.allclose(other.joints_3d, batch.joints_3d[:4])
    assert set(batch.split.tolist()) <= {0, 1, 2}
    # the same split for every frame of a clip segment
    assert poses.split_of("walk:1") == poses.split_of("walk:1")
    fractions = np.bincount([poses.split_of(f"random:{i}") for i in range(3000)], minlength=3) / 3000
    np.testing.assert_allclose(fractions, poses.SPLIT_FRACTIONS, atol=0.03)


def test_upright_poses_face_forward_relative_to_their_hips() -> None:
    model = default_body_model()
    eyes = model.arrays.vertex_regions == model.arrays.region_names.index("eye")
    checked = 0
    for index in range(12):
        sample, posed = poses.draw_pose(poses.pose_rng(2, index), index)
        model = posed.model or model
        j = posed.joints
        up = j[sk.THORAX] - j[sk.PELVIS]
        if sample.source.startswith("random:free") or up[2] < 0.8 * np.linalg.norm(up):
            continue
        right = j[sk.R_SHOULDER] - j[sk.L_SHOULDER]
        forward = np.cross(up, right)
        eye_centre = model.skin(posed.body, posed.transforms, np.nonzero(eyes)[0]).mean(0)
        assert np.dot(eye_centre - j[sk.UPPER_NECK], forward) > 0, sample.source
        checked += 1
    assert checked >= 3
