"""tools/keypoint_lifter_screen.py: an orbited view is what the synthetic camera orbited the same way
projects (the landmark features, the swaps and the lifter are the product's, tested with it)."""

from __future__ import annotations

import numpy as np
from script_loader import load_script

from posebrowser.pose.skeleton import PELVIS
from posebrowser.synth.camera import fit_camera


def _body(rng: np.random.Generator) -> np.ndarray:
    """A Z-up cloud of 16 joints about 1.7 m tall, standing on the ground."""
    joints = rng.normal(0.0, 0.25, (16, 3)) + np.array([0.0, 0.0, 0.9])
    return np.clip(joints, [-1, -1, 0.05], [1, 1, 1.8])


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
