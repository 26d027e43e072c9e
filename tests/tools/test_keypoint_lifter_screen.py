"""tools/keypoint_lifter_screen.py: the landmark features drop position and scale; an orbited view is what
the synthetic camera orbited the same way projects; left/right confusions permute the right joints."""

from __future__ import annotations

import numpy as np
import torch
from script_loader import load_script

from posebrowser.pose.skeleton import PELVIS
from posebrowser.synth.camera import fit_camera


def _body(rng: np.random.Generator) -> np.ndarray:
    """A Z-up cloud of 16 joints about 1.7 m tall, standing on the ground."""
    joints = rng.normal(0.0, 0.25, (16, 3)) + np.array([0.0, 0.0, 0.9])
    return np.clip(joints, [-1, -1, 0.05], [1, 1, 1.8])


def test_landmark_features_drop_position_and_scale_and_point_y_up(rng) -> None:
    tool = load_script("tools/keypoint_lifter_screen.py")
    points = rng.uniform(0, 128, (5, 16, 2))
    features = tool.landmark_features(points)
    np.testing.assert_allclose(tool.landmark_features(3.0 * points + 17.0), features, atol=1e-5)
    radius = np.sqrt((features.reshape(5, 16, 2) ** 2).sum(-1).mean(-1))
    np.testing.assert_allclose(radius, 1.0, atol=1e-5)
    above = points.copy()
    above[:, 0, 1] = points[:, PELVIS, 1] - 50  # joint 0 drawn 50 px above the pelvis (y down)
    assert (tool.landmark_features(above).reshape(5, 16, 2)[:, 0, 1] > 0).all()


def test_an_orbited_view_is_the_orbited_camera_s_projection(rng) -> None:
    tool = load_script("tools/keypoint_lifter_screen.py")
    world = _body(rng)
    camera = fit_camera(world, azimuth=0.4, elevation=0.3, distance=3.0, fill=0.8, size=128)
    for delta in (0.0, 1.1, -2.5):
        expected = camera.with_azimuth(delta, world[PELVIS]).project(world)[:, :2]
        seen = tool.orbited_landmarks(world[None], camera.rotation[None], camera.translation[None],
                                      np.array([delta]))
        np.testing.assert_allclose(tool.landmark_features(seen), tool.landmark_features(expected[None]),
                                   atol=1e-5)


def test_swaps_permute_left_and_right_joints_only_in_the_chosen_share(rng) -> None:
    tool = load_script("tools/keypoint_lifter_screen.py")
    features = torch.from_numpy(rng.standard_normal((400, 32)).astype(np.float32))
    assert torch.equal(tool.with_swaps(features, rng, 0.0), features)
    swapped = tool.with_swaps(features, rng, 1.0).reshape(400, 16, 2)
    points = features.reshape(400, 16, 2)
    orders = [order for order, _ in tool.SWAPS]
    for row in range(400):
        assert any(torch.equal(swapped[row], points[row][order]) for order in orders)
        assert torch.equal(swapped[row][PELVIS], points[row][PELVIS])


def test_the_lifter_gives_unit_rows() -> None:
    tool = load_script("tools/keypoint_lifter_screen.py")
    net = tool.KeypointLifter(hidden=32).eval()
    rows = net(torch.randn(6, 32))
    assert rows.shape == (6, 128)
    torch.testing.assert_close(rows.norm(dim=1), torch.ones(6))
