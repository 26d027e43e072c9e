"""The landmark head: the keypoint reader's decoder on an image net's own trunk maps, during training only."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from numpy.typing import NDArray
from test_training_trainers import _config

from posebrowser.errors import CheckpointError
from posebrowser.nets.efficientnet import LiteImageNet
from posebrowser.nets.keypoint_reader import MIRROR
from posebrowser.nets.preprocessing import lite_preprocessing
from posebrowser.training.augment import AugmentConfig, jitter_crop_to
from posebrowser.training.batch_inputs import augmented_inputs, augmented_inputs_and_crops
from posebrowser.training.image_trainer import ImageTrainConfig, train_image_net
from posebrowser.training.landmark_head import LandmarkHead, crop_landmarks

SIDE = 32


def _dot_image(x: int, y: int, side: int = SIDE) -> NDArray[np.uint8]:
    image = np.zeros((side, side, 3), np.uint8)
    image[y, x] = 255
    return image


def _brightest(image: NDArray[np.uint8]) -> NDArray[np.float64]:
    """The intensity-weighted centre of an image's bright pixels, in normalised coordinates."""
    grey = image.astype(np.float64).sum(axis=2)
    grey = np.where(grey > 0.5 * grey.max(), grey, 0.0)
    ys, xs = np.indices(grey.shape)
    centre = np.array([(grey * xs).sum(), (grey * ys).sum()]) / grey.sum()
    return (centre + 0.5) / (np.array(grey.shape[::-1]) / 2) - 1


@pytest.mark.parametrize("mirror", [False, True])
@pytest.mark.parametrize("crop", [(0, 0, 0), (3, -2, 4), (-4, 3, -3), (5, 5, 5)])
def test_the_landmarks_follow_the_crop_window_and_the_mirror_like_the_pixels_do(
    crop: tuple[int, int, int], mirror: bool
) -> None:
    rng = np.random.default_rng(abs(sum(crop)) + 7 * mirror)
    pixels = rng.integers(8, SIDE - 8, size=(16, 2))
    placed = crop_landmarks(pixels[None].astype(np.float32), np.array([crop]), SIDE, mirror)[0]
    for joint, (x, y) in enumerate(pixels):
        seen = _brightest(jitter_crop_to(_dot_image(int(x), int(y)), *crop, 4 * SIDE, mirror=mirror))
        row = MIRROR[joint] if mirror else joint  # after a mirror, this joint's dot is its partner's landmark
        np.testing.assert_allclose(placed[row], seen, atol=0.02)


def test_the_crop_windows_come_with_the_very_inputs_and_draws_of_the_plain_augmentation() -> None:
    images = np.random.default_rng(0).integers(0, 256, size=(6, SIDE, SIDE, 3), dtype=np.uint8)
    config, preprocessing = AugmentConfig(), lite_preprocessing(48)
    plain, plain_flip = augmented_inputs(images, preprocessing, config, np.random.default_rng(5))
    rng = np.random.default_rng(5)
    with_crops, flip, crops = augmented_inputs_and_crops(images, preprocessing, config, rng)
    assert flip == plain_flip and torch.equal(plain, with_crops)
    assert crops.shape == (6, 3) and np.abs(crops).max() > 0
    rng = np.random.default_rng(5)
    augmented_inputs_and_crops(images, preprocessing, config, rng)
    after = np.random.default_rng(5)
    augmented_inputs(images, preprocessing, config, after)
    assert rng.random() == after.random()  # the same number of draws: the runs without the head are unchanged


def test_crop_windows_of_a_batch_that_cannot_be_fused_are_a_clear_error() -> None:
    images = np.zeros((2, SIDE, SIDE + 4, 3), np.uint8)
    with pytest.raises(ValueError, match="fused path"):
        augmented_inputs_and_crops(images, lite_preprocessing(48), AugmentConfig(), np.random.default_rng(0))


def _square_images(count: int, seed: int) -> tuple[NDArray[np.uint8], NDArray[np.float32]]:
    """Images of a bright square on black at a random place; every joint's landmark is a fixed offset from
    the square's centre, so the landmarks are readable only from where the square is."""
    rng = np.random.default_rng(seed)
    offsets = rng.uniform(-3, 3, size=(16, 2))
    images = np.zeros((count, SIDE, SIDE, 3), np.uint8)
    joints = np.zeros((count, 16, 2), np.float32)
    for i, (x, y) in enumerate(rng.integers(6, SIDE - 10, size=(count, 2))):
        images[i, y : y + 5, x : x + 5] = 255
        joints[i] = np.array([x + 2, y + 2]) + offsets
    return images, joints


def test_the_head_learns_where_the_landmarks_are_from_the_trunk_maps() -> None:
    torch.manual_seed(0)
    images, joints = _square_images(32, 0)
    net = LiteImageNet(frozen_blocks=3)
    head = LandmarkHead(net, joints, SIDE, 1.0, torch.device("cpu"))
    inputs = lite_preprocessing(64).to_tensor(list(images))
    rows, crops = np.arange(32), np.zeros((32, 3), np.int64)
    params = [p for p in net.parameters() if p.requires_grad] + list(head.decoder.parameters())
    optimizer = torch.optim.Adam(params, lr=3e-3)
    losses = []
    for _ in range(40):
        optimizer.zero_grad()
        net(inputs)
        loss = head.loss(rows, crops, False)
        loss.backward()
        optimizer.step()
        losses.append(float(loss.detach()))
    head.remove()
    assert losses[-1] < 0.4 * losses[0], losses[::8]
    assert net.trunk.blocks[4][0].conv_pw.weight.grad is not None  # the trunk's stage 4 learns from it
    assert net.trunk.blocks[2][0].conv_pw.weight.grad is None  # the frozen stages stay frozen


def _train(tmp_path: Path, resume: bool = False, **changes: object) -> None:
    images, joints = _square_images(24, 1)
    distances = np.linalg.norm(joints[:, None, 0] - joints[None, :, 0], axis=2).astype(np.float32)
    torch.manual_seed(0)
    config: ImageTrainConfig = _config(**{"epochs": 1, "batch_size": 8, "augment": True, **changes})
    train_image_net(
        LiteImageNet(frozen_blocks=3), images, distances, lite_preprocessing(48), config, tmp_path,
        resume=resume, joints_2d=joints,
    )


def test_a_run_with_the_head_saves_its_decoder_and_refuses_to_resume_without_it(tmp_path: Path) -> None:
    _train(tmp_path, aux_landmarks=1.0)
    state = torch.load(tmp_path / "image_train_state.pt", weights_only=False)
    assert any(key.startswith("landmarks.") for key in state["model"])
    with pytest.raises(CheckpointError, match="aux_landmarks"):
        _train(tmp_path, resume=True, epochs=2)


def test_a_config_without_the_head_reads_as_the_states_saved_before_it() -> None:
    assert "aux_landmarks" not in ImageTrainConfig().to_dict()
    assert ImageTrainConfig(aux_landmarks=2.0).to_dict()["aux_landmarks"] == 2.0


def test_the_head_is_refused_where_its_landmarks_cannot_be_placed(tmp_path: Path) -> None:
    images, joints = _square_images(8, 2)
    distances = np.zeros((8, 8), np.float32)
    config: ImageTrainConfig = _config(**{"epochs": 1, "batch_size": 8, "aux_landmarks": 1.0})
    with pytest.raises(ValueError, match="plain-resize"):  # a bare to_tensor: no known crop or resize
        train_image_net(LiteImageNet(frozen_blocks=3), images, distances, lambda batch: torch.zeros(0),
                        config, tmp_path, joints_2d=joints)
