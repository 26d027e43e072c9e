"""tools/depth_reader_screen.py: the screen's keypoint net is the shipped one with its depth head (a
landmark-only reader gets a fresh one: its depths start at zero), its exact features are the product's
features of the renders' exact landmarks and depths, and its lifters take the inputs asked for (the depth
head, the depths, the augmentation and the swaps are the product's, tested with it)."""

from __future__ import annotations

from argparse import Namespace
from types import SimpleNamespace

import numpy as np
import torch
from script_loader import ROOT, load_script

from posebrowser.nets.checkpoint import load_model
from posebrowser.pose.skeleton import PELVIS


class _Image:
    size = (128, 128)


def test_the_screen_s_net_is_the_shipped_keypoint_net_with_its_depth_head_or_a_fresh_one(
    tmp_path, monkeypatch
) -> None:
    from posebrowser.nets.checkpoint import ModelCard, save_model
    from posebrowser.nets.keypoint_reader import KeypointReader

    tool = load_script("tools/depth_reader_screen.py")
    x = torch.rand(2, 3, 160, 160) * 2 - 1
    shipped, _ = load_model(ROOT / "models" / "keypoint_reader", expect_kind="image")
    torch.manual_seed(0)
    landmarks_only = KeypointReader(width=96)
    save_model(tmp_path / "models" / "keypoint_reader", landmarks_only,
               ModelCard(net="keypoint_reader", config=dict(landmarks_only.config), kind="image"))
    for root, source in ((ROOT, shipped), (tmp_path, landmarks_only)):
        monkeypatch.setattr(tool, "ROOT", root)
        reader = tool.depth_reader(None)
        with torch.inference_mode():
            points, depths = reader.reading(x)
            expected_points, expected_depths = source.eval().reading(x)
        torch.testing.assert_close(points, expected_points)
        assert depths is not None
        if expected_depths is None:  # a landmark-only reader gets a fresh head: depth 0 everywhere
            assert torch.count_nonzero(depths) == 0
        else:
            torch.testing.assert_close(depths, expected_depths)


def test_exact_features_are_the_landmarks_and_the_camera_depths(rng) -> None:
    tool = load_script("tools/depth_reader_screen.py")
    world = rng.normal(0, 0.3, (2, 16, 3))
    rotation = np.repeat(np.eye(3)[None], 2, axis=0)
    translation = np.array([[0.0, 0.0, 5.0], [0.2, 0.1, 7.0]])
    camera = world + translation[:, None]
    pixels = 300.0 * camera[..., :2] / camera[..., 2:] + 64
    gallery = SimpleNamespace(joints_3d=world, joints_2d=pixels, camera_rotation=rotation,
                              camera_translation=translation, camera_focal=np.full(2, 300.0),
                              load_image=lambda row: _Image())
    features = tool.exact_features(gallery, np.arange(2))
    np.testing.assert_allclose(features[:, :32], tool.landmark_features(pixels), atol=1e-5)
    z = camera[..., 2]
    centred = (pixels - pixels[:, PELVIS : PELVIS + 1]) / 64
    radius = np.sqrt((centred**2).sum(-1).mean(-1))[:, None]
    np.testing.assert_allclose(features[:, 32:], 300.0 * (z - z[:, PELVIS : PELVIS + 1])
                               / z[:, PELVIS : PELVIS + 1] / 64 / radius, rtol=1e-4, atol=1e-6)


def test_a_lifter_takes_the_inputs_asked_for_and_learns_with_noise_and_swaps(rng) -> None:
    tool = load_script("tools/depth_reader_screen.py")
    x = rng.normal(size=(600, 48)).astype(np.float32)
    target = rng.normal(size=(600, 128)).astype(np.float32)
    target /= np.linalg.norm(target, axis=1, keepdims=True)
    args = Namespace(seed=0, epochs=2, swap=0.17)
    noise = (np.zeros(48), np.eye(48) * 0.01)
    for inputs in (32, 48):
        lifter = tool.train_lifter(x, target, (noise[0][:inputs], noise[1][:inputs, :inputs]), args, inputs)
        assert lifter.first.in_features == inputs and not lifter.training
        rows = lifter(torch.from_numpy(x[:4, :inputs]))
        torch.testing.assert_close(rows.norm(dim=1), torch.ones(4))


def test_own_readings_are_read_once_per_reader_in_the_training_items_order(tmp_path, monkeypatch) -> None:
    tool = load_script("tools/depth_reader_screen.py")
    monkeypatch.setattr(tool, "ROOT", tmp_path)
    (tmp_path / "build").mkdir()
    galleries = [(SimpleNamespace(root=tmp_path / name), np.arange(count))
                 for name, count in (("a", 3), ("b", 2))]
    monkeypatch.setattr(tool, "training_items", lambda: galleries)
    calls: list[int] = []

    def load(gallery, rows):
        calls.append(len(rows))
        offset = 0.0 if gallery.root.name == "a" else 10.0
        return np.asarray(rows, np.float32)[:, None] + offset

    def read(reader, images):
        points = np.zeros((len(images), 16, 2), np.float32)
        points[:, :, 0] = np.linspace(-1, 1, 16) * (1 + images[:, :1])
        points[:, :, 1] = np.linspace(1, -1, 16) ** 2
        return points, images[:, :1] * np.ones((1, 16), np.float32)

    monkeypatch.setattr(tool, "load_rgb", load)
    monkeypatch.setattr(tool, "read_keypoints", read)
    first = tool.own_readings(object(), "ab" * 32)
    again = tool.own_readings(object(), "ab" * 32)
    assert calls == [3, 2] and first.shape == (5, 48)  # the second call reads the kept file
    np.testing.assert_array_equal(first, again)
    expected = np.concatenate([tool.landmark_features(*read(None, load(g, r))) for g, r in galleries])
    np.testing.assert_allclose(first, expected)
    calls.clear()
    other = tool.own_readings(object(), "cd" * 32)  # another reader reads again
    assert calls == [3, 2] and other.shape == (5, 48)


def test_the_mixed_reading_takes_each_part_from_where_it_is_asked(monkeypatch, rng) -> None:
    tool = load_script("tools/depth_reader_screen.py")
    read_points = rng.uniform(-0.5, 0.5, (3, 16, 2)).astype(np.float32)
    read_depths = rng.normal(0, 0.1, (3, 16)).astype(np.float32)
    exact_pixels = rng.uniform(20, 100, (3, 16, 2))
    exact_depths = rng.normal(0, 0.1, (3, 16)).astype(np.float32)
    monkeypatch.setattr(tool, "camera_depths", lambda gallery, rows, side: exact_depths[rows])
    gallery = SimpleNamespace(joints_2d=exact_pixels, load_image=lambda row: _Image())
    rows = np.arange(3)
    exact_points = tool.normalised(exact_pixels, 128)
    for (points_from, depths_from), (points, depths) in zip(
        tool.MIXES,
        ((read_points, read_depths), (exact_points, read_depths), (read_points, exact_depths),
         (exact_points, exact_depths)),
        strict=True,
    ):
        raw_reading = lambda gallery, rows: (read_points, read_depths)  # noqa: E731
        features = tool.mixed_reading(raw_reading, points_from, depths_from)(gallery, rows)
        np.testing.assert_allclose(features, tool.landmark_features(points, depths), atol=1e-6)
