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


def _looking_at_the_pelvis(world: np.ndarray, azimuth: float, elevation: float, distance: float
                           ) -> tuple[np.ndarray, np.ndarray]:
    from posebrowser.synth.camera import look_at

    direction = np.array([np.cos(azimuth) * np.cos(elevation), np.sin(azimuth) * np.cos(elevation),
                          np.sin(elevation)])
    eye = world[PELVIS] + distance * direction
    rotation = look_at(eye, world[PELVIS])
    return rotation, -rotation @ eye


def _projected(world: np.ndarray, rotation: np.ndarray, translation: np.ndarray) -> np.ndarray:
    camera = world @ rotation.T + translation
    return camera[:, :2] / camera[:, 2:3]


def test_an_elevated_view_is_the_camera_at_that_elevation_and_roll_rotates_the_landmarks(rng) -> None:
    tool = load_script("tools/keypoint_lifter_screen.py")
    world = _body(rng)
    rotation, translation = _looking_at_the_pelvis(world, 0.7, 0.1, 3.5)
    steep_rotation, steep_translation = _looking_at_the_pelvis(world, 0.7, 1.0, 3.5)
    seen = tool.elevated_landmarks(world[None], rotation[None], translation[None], np.array([1.0]),
                                   np.array([0.0]))
    np.testing.assert_allclose(seen[0], _projected(world, steep_rotation, steep_translation), atol=1e-9)
    rolled = tool.elevated_landmarks(world[None], rotation[None], translation[None], np.array([1.0]),
                                     np.array([0.3]))
    turn = np.array([[np.cos(0.3), np.sin(0.3)], [-np.sin(0.3), np.cos(0.3)]])
    np.testing.assert_allclose(rolled[0], seen[0] @ turn, atol=1e-9)


def test_an_extra_pose_is_seen_by_its_donor_s_camera_moved_with_the_body(rng, monkeypatch) -> None:
    tool = load_script("tools/keypoint_lifter_screen.py")
    world = _body(rng)
    rotation, translation = _looking_at_the_pelvis(world, -0.4, 0.3, 4.0)
    pairs = {"x": tool.landmark_features(_projected(world, rotation, translation)[None]),
             "target": np.ones((1, 128), np.float32), "world": world[None], "rotation": rotation[None],
             "translation": translation[None]}
    moved = world + np.array([2.0, -1.0, 0.0])  # the same pose elsewhere: the camera follows it

    class Embedder:
        def embed_joints(self, joints: np.ndarray) -> np.ndarray:
            return np.zeros((len(joints), 128), np.float32)

    monkeypatch.setattr(tool, "sampled_train_poses", lambda count, seed: moved[None])
    out = tool.with_extra_poses(pairs, Embedder(), 1, 0, np.random.default_rng(0))
    assert {key: len(value) for key, value in out.items()} == dict.fromkeys(pairs, 2)
    np.testing.assert_allclose(out["x"][1], out["x"][0], atol=1e-6)
    np.testing.assert_allclose(out["world"][1], moved)
