"""The keypoint reader: scale-free landmark features, the skeleton's mirror, landmarks inside the frame,
a mirrored view that reads a mirrored image's landmarks back in the plain image's frame, unit rows, and a
saved reader that loads as an image model; the depth head starts at zero, leaves the landmarks as they
were and reads a mirrored image's depths on the other side, and its features are scale-free."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from posebrowser.nets.keypoint_reader import (
    MIRROR,
    KeypointLifter,
    KeypointReader,
    landmark_features,
    landmark_features_torch,
)
from posebrowser.pose.skeleton import JOINT_NAMES, PELVIS


def test_landmark_features_drop_position_and_scale_and_point_y_up(rng) -> None:
    points = rng.uniform(0, 128, (5, 16, 2))
    features = landmark_features(points)
    np.testing.assert_allclose(landmark_features(3.0 * points + 17.0), features, atol=1e-5)
    radius = np.sqrt((features.reshape(5, 16, 2) ** 2).sum(-1).mean(-1))
    np.testing.assert_allclose(radius, 1.0, atol=1e-5)
    above = points.copy()
    above[:, 0, 1] = points[:, PELVIS, 1] - 50  # joint 0 drawn 50 px above the pelvis (y down)
    assert (landmark_features(above).reshape(5, 16, 2)[:, 0, 1] > 0).all()
    torch.testing.assert_close(landmark_features_torch(torch.from_numpy(points).float()),
                               torch.from_numpy(features), atol=1e-5, rtol=0)


def test_the_mirror_pairs_left_and_right_joints() -> None:
    assert sorted(MIRROR) == list(range(16)) and all(MIRROR[MIRROR[i]] == i for i in range(16))
    for joint, partner in enumerate(MIRROR):
        name, other = JOINT_NAMES[joint], JOINT_NAMES[partner]
        assert name.replace("left", "right") == other or name.replace("right", "left") == other


@pytest.fixture(scope="module")
def reader() -> KeypointReader:
    torch.manual_seed(0)
    return KeypointReader(width=8, hidden=32).eval()


def test_landmarks_lie_inside_the_frame_and_rows_are_unit(reader) -> None:
    x = torch.rand(2, 3, 160, 160) * 2 - 1
    with torch.no_grad():
        landmarks, rows = reader.landmarks(x), reader(x)
    assert landmarks.shape == (2, 16, 2) and float(landmarks.abs().max()) < 1.0
    assert rows.shape == (2, 128)
    torch.testing.assert_close(rows.norm(dim=1), torch.ones(2))


def test_the_mirrored_view_of_a_mirrored_image_is_the_mirrored_reading(reader) -> None:
    x = torch.rand(3, 3, 160, 160) * 2 - 1
    plain = reader.landmarks(x)
    back = reader.landmarks(torch.flip(x, dims=[3]))[:, list(MIRROR)] * torch.tensor([-1.0, 1.0])
    torch.testing.assert_close(back, plain, atol=1e-5, rtol=0)


def test_the_lifter_gives_unit_rows() -> None:
    rows = KeypointLifter(hidden=32).eval()(torch.randn(6, 32))
    assert rows.shape == (6, 128)
    torch.testing.assert_close(rows.norm(dim=1), torch.ones(6))


@pytest.mark.parametrize("which", ["reader", "depth_reader"])
def test_a_saved_reader_embeds_images_like_the_module(tmp_path, which, request, rng) -> None:
    from posebrowser.core.embedder import Embedder
    from posebrowser.nets.checkpoint import ModelCard, save_model
    from posebrowser.nets.preprocessing import lite_preprocessing

    reader = request.getfixturevalue(which)
    card = ModelCard(net="keypoint_reader", config=dict(reader.config), kind="image",
                     preprocessing=lite_preprocessing(160).to_dict())
    save_model(tmp_path / "keypoint_reader", reader, card)
    embedder = Embedder.from_checkpoint(tmp_path / "keypoint_reader", "cpu")
    images = [rng.integers(0, 256, (160, 160, 3), dtype=np.uint8) for _ in range(2)]
    rows = embedder.embed_images(images)
    with torch.inference_mode():
        expected = reader(torch.from_numpy((np.stack(images) - 127.5) / 127.5).float().permute(0, 3, 1, 2))
    np.testing.assert_allclose(rows, expected.numpy(), atol=1e-4)


@pytest.fixture(scope="module")
def depth_reader() -> KeypointReader:
    torch.manual_seed(0)
    reader = KeypointReader(width=8, hidden=32, depth_head=True).eval()
    assert reader.keypoints.depth is not None
    with torch.no_grad():  # away from the zero start, so the depths below are not trivially equal
        for parameter in reader.keypoints.depth[-1].parameters():
            parameter.normal_(0.0, 0.5)
    return reader


def test_the_depth_head_starts_at_zero_and_leaves_the_landmarks_as_they_were() -> None:
    torch.manual_seed(0)
    plain = KeypointReader(width=8, hidden=32).eval()
    torch.manual_seed(0)
    deep = KeypointReader(width=8, hidden=32, depth_head=True).eval()
    assert "depth_head" not in plain.config and deep.config["depth_head"] is True
    assert deep.lifter.first.in_features == 48 and plain.lifter.first.in_features == 32
    x = torch.rand(2, 3, 160, 160) * 2 - 1
    with torch.no_grad():
        points, depths = deep.reading(x)
        torch.testing.assert_close(points, plain.landmarks(x))
    assert plain.reading(x)[1] is None
    assert depths is not None and torch.count_nonzero(depths) == 0


def test_a_mirrored_image_reads_the_same_depths_on_the_other_side(depth_reader) -> None:
    x = torch.rand(3, 3, 160, 160) * 2 - 1
    with torch.no_grad():
        _, depths = depth_reader.reading(x)
        _, mirrored = depth_reader.reading(torch.flip(x, dims=[3]))
    assert depths is not None and mirrored is not None and float(depths.abs().max()) > 1e-3
    torch.testing.assert_close(mirrored[:, list(MIRROR)], depths, atol=1e-5, rtol=0)


def test_depth_features_are_the_depths_over_the_landmarks_radius(rng) -> None:
    landmarks = rng.uniform(-0.5, 0.5, (3, 16, 2))
    depths = rng.normal(0, 0.2, (3, 16))
    features = landmark_features(landmarks, depths)
    centred = landmarks - landmarks[:, PELVIS : PELVIS + 1]
    radius = np.sqrt((centred**2).sum(-1).mean(-1))[:, None]
    np.testing.assert_allclose(features[:, :32], landmark_features(landmarks), atol=1e-6)
    np.testing.assert_allclose(features[:, 32:], depths / radius, rtol=1e-5)
    np.testing.assert_allclose(landmark_features(3 * landmarks + 0.2, 3 * depths), features, atol=1e-5)


def test_the_stride4_refinement_starts_near_the_stride8_reading_and_learns() -> None:
    torch.manual_seed(0)
    refined = KeypointReader(width=8, hidden=32, depth_head=True, stride4=True)
    plain = KeypointReader(width=8, hidden=32, depth_head=True)
    kept = {k: v for k, v in refined.keypoints.state_dict().items() if not k.startswith("refine.")}
    plain.keypoints.load_state_dict(kept)
    assert refined.config["stride4"] is True and "stride4" not in plain.config
    x = torch.rand(2, 3, 160, 160) * 2 - 1
    with torch.no_grad():
        (points, depths), (expected, expected_depths) = refined.eval().reading(x), plain.eval().reading(x)
    assert depths is not None and expected_depths is not None
    torch.testing.assert_close(depths, expected_depths)  # the depths stay read at the stride-8 maps
    assert float((points - expected).abs().max()) < 0.02  # the upsampled stride-8 maps, before training
    target = torch.zeros(2, 16, 2)
    optimizer = torch.optim.Adam(refined.keypoints.refine.parameters(), lr=1e-2)  # type: ignore[union-attr]
    refined.train()
    first = None
    for _ in range(30):
        optimizer.zero_grad()
        loss = (refined.keypoints(x) - target).abs().mean()
        loss.backward()
        optimizer.step()
        first = float(loss.detach()) if first is None else first
    assert float(loss.detach()) < 0.8 * first  # the correction moves the landmarks on its own


def test_a_saved_reader_with_the_refinement_embeds_images_like_the_module(tmp_path, rng) -> None:
    from posebrowser.core.embedder import Embedder
    from posebrowser.nets.checkpoint import ModelCard, save_model
    from posebrowser.nets.preprocessing import lite_preprocessing

    torch.manual_seed(1)
    reader = KeypointReader(width=8, hidden=32, depth_head=True, stride4=True).eval()
    with torch.no_grad():
        for parameter in reader.keypoints.refine.out.parameters():  # type: ignore[union-attr]
            parameter.normal_(0.0, 0.5)
    card = ModelCard(net="keypoint_reader", config=dict(reader.config), kind="image",
                     preprocessing=lite_preprocessing(160).to_dict())
    save_model(tmp_path / "keypoint_reader", reader, card)
    embedder = Embedder.from_checkpoint(tmp_path / "keypoint_reader", "cpu")
    images = [rng.integers(0, 256, (160, 160, 3), dtype=np.uint8) for _ in range(2)]
    with torch.inference_mode():
        expected = reader(torch.from_numpy((np.stack(images) - 127.5) / 127.5).float().permute(0, 3, 1, 2))
    np.testing.assert_allclose(embedder.embed_images(images), expected.numpy(), atol=1e-4)
