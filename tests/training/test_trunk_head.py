"""The trunk-level 3-D joint head: a regression on the pooled features entering the net's embedding layer."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from numpy.typing import NDArray
from test_training_trainers import _config, to_tensor
from test_training_trainers import make_data as coloured_data
from torch import nn

from posebrowser.errors import CheckpointError
from posebrowser.training.aux_heads import AuxJointHead, FeatureTap, fit_heads_on_frozen, trunk_dim
from posebrowser.training.image_trainer import (
    TrunkJointHead,
    train_image_net,
)


class PooledNet(nn.Module):
    """(N,3,S,S) → conv → pooled 16-d trunk features → ``embedding`` Linear → unit rows, as LiteImageNet."""

    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv2d(3, 16, 3, stride=2, padding=1)
        self.embedding = nn.Linear(16, 128)

    def pooled(self, x: torch.Tensor) -> torch.Tensor:
        return torch.relu(self.conv(x)).mean(dim=(2, 3))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return nn.functional.normalize(self.embedding(self.pooled(x)), dim=1)


class NoEmbeddingNet(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.fc7 = nn.Linear(3, 128)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return nn.functional.normalize(self.fc7(x.mean(dim=(2, 3))), dim=1)


def make_data(count: int = 48, seed: int = 0) -> tuple[NDArray[np.uint8], NDArray[np.float32], NDArray]:
    """Images coloured by a latent 3-vector; the ranking ground truth reads only its first two entries,
    the 3-D joints only the third (so only the joint head asks the trunk to encode it)."""
    images, _, latent = coloured_data(count, seed)
    distances = np.linalg.norm(latent[:, None, :2] - latent[None, :, :2], axis=2).astype(np.float32)
    rng = np.random.default_rng(seed + 1)
    skeleton, direction = rng.normal(scale=0.3, size=(2, 16, 3)).astype(np.float32)
    joints = skeleton[None] + np.sin(3 * latent[:, 2])[:, None, None] * direction[None]
    return images, distances, joints


def _joint_fit(net: PooledNet, images: NDArray[np.uint8], joints: NDArray) -> float:
    """R² of the best linear map from the net's pooled trunk features to the standardised 3-D targets."""
    head = AuxJointHead("joints_3d", joints, 16, torch.device("cpu"))
    with torch.no_grad():
        features = net.eval().pooled(to_tensor(list(images))).numpy()
    inputs = np.hstack([features, np.ones((len(features), 1), np.float32)])
    targets = head.plain.numpy()
    solution, *_ = np.linalg.lstsq(inputs, targets, rcond=None)
    return 1.0 - float(np.mean((inputs @ solution - targets) ** 2) / np.mean(targets**2))


def test_the_tap_keeps_the_input_of_the_tapped_layer_once() -> None:
    net = PooledNet()
    tap = FeatureTap(net.embedding)
    x = torch.rand(5, 3, 24, 24)
    net(x)
    assert torch.allclose(tap.take(), net.pooled(x))
    with pytest.raises(RuntimeError, match="no forward pass"):
        tap.take()
    tap.remove()
    net(x)
    assert tap.features is None and not net.embedding._forward_hooks
    assert trunk_dim(net) == 16 and trunk_dim(NoEmbeddingNet()) is None


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_the_trunk_head_teaches_the_trunk_what_the_ranking_loss_does_not(tmp_path: Path, seed: int) -> None:
    images, distances, joints = make_data(seed=seed)
    unexplained = {}
    for weight in (0.0, 20.0):
        torch.manual_seed(0)
        net = PooledNet()
        config = _config(aux_trunk_joints_3d=weight)
        train_image_net(net, images, distances, to_tensor, config, tmp_path / str(weight), joints_3d=joints)
        unexplained[weight] = 1 - _joint_fit(net, images, joints)
        assert not net.embedding._forward_hooks  # the tap is gone after training
    # measured 0.49 / 0.24 / 0.58 of the share without the head (seeds 0 / 1 / 2)
    assert unexplained[20.0] < 0.75 * unexplained[0.0], unexplained
    state = torch.load(tmp_path / "20.0" / "image_train_state.pt", weights_only=True)
    assert any(key.startswith("trunk_joints_3d.") for key in state["model"])  # the head resumes too


def test_resuming_with_another_trunk_head_weight_is_refused(tmp_path: Path) -> None:
    images, distances, joints = make_data()
    torch.manual_seed(0)
    train_image_net(
        PooledNet(), images, distances, to_tensor, _config(epochs=1, aux_trunk_joints_3d=5.0), tmp_path,
        joints_3d=joints,
    )
    with pytest.raises(CheckpointError, match="aux_trunk_joints_3d"):
        train_image_net(
            PooledNet(), images, distances, to_tensor, _config(epochs=2), tmp_path, resume=True,
            joints_3d=joints,
        )


def test_a_net_without_an_embedding_layer_is_a_clear_error(tmp_path: Path) -> None:
    images, distances, joints = make_data(count=16)
    with pytest.raises(ValueError, match="no Linear 'embedding' layer"):
        train_image_net(
            NoEmbeddingNet(), images, distances, to_tensor, _config(aux_trunk_joints_3d=1.0), tmp_path,
            joints_3d=joints,
        )


def test_the_probe_fits_the_trunk_head_on_the_given_features_to_the_least_squares_optimum() -> None:
    torch.manual_seed(0)
    rng = np.random.default_rng(3)
    features = torch.from_numpy(rng.normal(size=(400, 16)).astype(np.float32))
    joints = (features.numpy() @ rng.normal(size=(16, 48)).astype(np.float32)).reshape(400, 16, 3)
    head = AuxJointHead("joints_3d", joints, 16, torch.device("cpu"), gain=1.0)
    trunk = TrunkJointHead(2.0, head, FeatureTap(nn.Identity()))
    ignored_embeddings = torch.zeros(400, 128)
    after = fit_heads_on_frozen(ignored_embeddings, [trunk.probe_term(features)], steps=600)
    inputs = np.hstack([features.numpy(), np.ones((400, 1), np.float32)])
    solution, *_ = np.linalg.lstsq(inputs, head.plain.numpy(), rcond=None)
    best = float(np.mean((inputs @ solution - head.plain.numpy()) ** 2))
    assert after / 2.0 <= best * 1.05 + 2e-3
