"""End-to-end training on tiny random data: loss decreases, resume continues, posebit net and masks train."""

from __future__ import annotations

import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest
import torch
from numpy.typing import NDArray
from torch import nn

from posebrowser.training.image_trainer import ImageTrainConfig, train_image_net
from posebrowser.training.loop import LossHistory, load_training_state
from posebrowser.training.mask_trainer import MaskTrainConfig, eligible_masks, save_masks, train_masks
from posebrowser.training.posebit_trainer import (
    PosebitTrainConfig,
    alignment_score,
    init_from_image_head,
    train_posebit_net,
)


class TinyImageNet(nn.Module):
    """(N,3,S,S) → (N,128) unit rows; two convs + GAP + linear head."""

    def __init__(self) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(3, 8, 3, stride=2, padding=1)
        self.conv2 = nn.Conv2d(8, 16, 3, stride=2, padding=1)
        self.fc7 = nn.Linear(16, 128)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = torch.relu(self.conv2(torch.relu(self.conv1(x))))
        return nn.functional.normalize(self.fc7(x.mean(dim=(2, 3))), dim=1)


class TinyPosebitNet(nn.Module):
    def __init__(self, bits: int) -> None:
        super().__init__()
        self.fc1 = nn.Linear(bits, 32)
        self.fc3 = nn.Linear(32, 128)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return nn.functional.normalize(self.fc3(torch.relu(self.fc1(x))), dim=1)


def to_tensor(images: Sequence[NDArray[np.uint8]]) -> torch.Tensor:
    return torch.from_numpy(np.stack(images).astype(np.float32) / 255.0).permute(0, 3, 1, 2).contiguous()


def make_data(
    count: int = 32, seed: int = 0
) -> tuple[NDArray[np.uint8], NDArray[np.float32], NDArray[np.float32]]:
    """Images whose colour/brightness pattern encodes a latent 3-vector; ground truth = latent distance."""
    rng = np.random.default_rng(seed)
    latent = rng.uniform(0, 1, size=(count, 3)).astype(np.float32)
    images = np.zeros((count, 24, 24, 3), dtype=np.uint8)
    for i, (r, g, b) in enumerate(latent):
        images[i, :12, :, 0] = int(255 * r)
        images[i, 12:, :, 1] = int(255 * g)
        images[i, :, :12, 2] = int(255 * b)
    images = np.clip(images + rng.integers(0, 20, size=images.shape), 0, 255).astype(np.uint8)
    gt = np.linalg.norm(latent[:, None] - latent[None], axis=2).astype(np.float32)
    return images, gt, latent


def _config(**changes: object) -> ImageTrainConfig:
    base = {
        "miner": "batch-all",
        "epochs": 6,
        "batch_size": 32,
        "group_size": 4,
        "lr": 3e-3,
        "device": "cpu",
        "augment": False,
        "n_neg": 20,
        "seed": 0,
        "schedule": "cosine",
    }
    base.update(changes)
    return ImageTrainConfig(**base)  # type: ignore[arg-type]


def test_tiny_training_decreases_loss_fast(tmp_path: Path) -> None:
    images, gt, _ = make_data()
    torch.manual_seed(0)
    net = TinyImageNet()
    began = time.perf_counter()
    val_images, val_gt, _ = make_data(count=16, seed=9)
    result = train_image_net(
        net, images, gt, to_tensor, _config(epochs=8), tmp_path, validation=(val_images, val_gt)
    )
    assert time.perf_counter() - began < 20
    losses = result.history.train
    assert len(losses) == 8 and all(np.isfinite(losses))
    assert len(result.history.val) == 8 and all(np.isfinite(result.history.val))
    assert np.mean(losses[-2:]) < losses[0]
    assert (tmp_path / "image_loss.png").stat().st_size > 1000
    with torch.no_grad():
        emb = net.eval()(to_tensor(list(images))).numpy()
    assert emb.shape == (32, 128) and np.allclose(np.linalg.norm(emb, axis=1), 1, atol=1e-5)


@pytest.mark.parametrize(
    "miner,loss",
    [("thin-slicing", "triplet"), ("batch-hard", "contrastive"), ("distance-weighted", "triplet")],
)
def test_every_miner_trains_with_augmentation(tmp_path: Path, miner: str, loss: str) -> None:
    images, gt, _ = make_data(seed=1)
    net = TinyImageNet()
    config = _config(
        miner=miner,
        loss=loss,
        epochs=1,
        augment=True,
        optimizer="sgd",
        schedule="step",
        lr=1e-2,
        amp=miner == "batch-hard",  # bf16 autocast on CPU
    )
    result = train_image_net(net, images, gt, to_tensor, config, tmp_path)
    assert len(result.history.train) == 1 and np.isfinite(result.history.train[0])


@pytest.mark.parametrize("changes", [{"loss": "log-ratio"}, {"loss": "triplet", "log_ratio": 1.0}])
def test_log_ratio_training_lowers_its_loss(tmp_path: Path, changes: dict[str, object]) -> None:
    images, gt, _ = make_data(seed=2)
    torch.manual_seed(0)
    val_images, val_gt, _ = make_data(count=16, seed=9)
    result = train_image_net(
        TinyImageNet(),
        images,
        gt,
        to_tensor,
        _config(miner="batch-all", epochs=8, **changes),
        tmp_path,
        validation=(val_images, val_gt),
    )
    losses = result.history.train
    assert all(np.isfinite(losses)) and all(np.isfinite(result.history.val))
    assert np.mean(losses[-2:]) < losses[0]


def test_an_unknown_loss_is_a_clear_error(tmp_path: Path) -> None:
    images, gt, _ = make_data()
    with pytest.raises(ValueError, match="log-ratio"):
        train_image_net(TinyImageNet(), images, gt, to_tensor, _config(loss="hinge"), tmp_path)


def test_distance_weighted_miner_resumes_exactly(tmp_path: Path) -> None:
    """Before: the miner's generator was re-seeded on resume, so epoch 3 drew other triplets."""
    from posebrowser.errors import JobCancelledError

    images, gt, _ = make_data(seed=3)
    config = _config(epochs=3, miner="distance-weighted")
    calls = {"n": 0}

    def cancel_in_third_epoch() -> bool:
        calls["n"] += 1
        return calls["n"] == 3

    torch.manual_seed(0)
    with pytest.raises(JobCancelledError):
        train_image_net(TinyImageNet(), images, gt, to_tensor, config, tmp_path, cancel=cancel_in_third_epoch)
    resumed = train_image_net(TinyImageNet(), images, gt, to_tensor, config, tmp_path, resume=True)
    torch.manual_seed(0)
    straight = train_image_net(TinyImageNet(), images, gt, to_tensor, config, tmp_path / "straight")
    assert resumed.start_epoch == 2
    np.testing.assert_allclose(straight.history.train, resumed.history.train, rtol=1e-6, atol=1e-8)


def test_resume_continues_from_saved_epoch(tmp_path: Path) -> None:
    from posebrowser.errors import JobCancelledError

    images, gt, _ = make_data(seed=2)
    calls = {"n": 0}

    def cancel_in_third_epoch() -> bool:  # one batch per epoch here
        calls["n"] += 1
        return calls["n"] == 3

    torch.manual_seed(0)
    with pytest.raises(JobCancelledError):
        train_image_net(
            TinyImageNet(), images, gt, to_tensor, _config(epochs=3), tmp_path, cancel=cancel_in_third_epoch
        )
    torch.manual_seed(1)  # a different init: resume must overwrite it with the saved weights
    resumed = train_image_net(TinyImageNet(), images, gt, to_tensor, _config(epochs=3), tmp_path, resume=True)
    assert resumed.start_epoch == 2 and len(resumed.history.train) == 3
    torch.manual_seed(0)
    straight = train_image_net(
        TinyImageNet(), images, gt, to_tensor, _config(epochs=3), tmp_path / "straight"
    )
    assert np.allclose(straight.history.train, resumed.history.train, rtol=1e-5, atol=1e-7)
    from posebrowser.errors import CheckpointError

    with pytest.raises(CheckpointError, match="miner"):
        train_image_net(
            TinyImageNet(), images, gt, to_tensor, _config(miner="batch-hard"), tmp_path, resume=True
        )


def test_corrupt_state_raises_checkpoint_error(tmp_path: Path) -> None:
    from posebrowser.errors import CheckpointError

    state = tmp_path / "state.pt"
    state.write_bytes(b"not a checkpoint")
    net = TinyImageNet()
    with pytest.raises(CheckpointError):
        load_training_state(
            state,
            model=net,
            optimizer=torch.optim.SGD(net.parameters(), lr=0.1),
            scheduler=None,
            numpy_rng=np.random.default_rng(0),
        )
    assert LossHistory.from_dict({"train": [1.0]}).train == [1.0]


@pytest.mark.slow  # 13–20 s each on the 2-core reference machine under load
@pytest.mark.parametrize("loss", ["cosine", "ranking"])
def test_posebit_net_aligns_with_targets(tmp_path: Path, loss: str) -> None:
    rng = np.random.default_rng(3)
    bits = rng.integers(0, 2, size=(64, 10)).astype(np.int8)
    bits[::7, 2] = -1
    projection = rng.normal(size=(10, 128))
    targets = (bits.clip(0, 1) @ projection).astype(np.float32)
    targets /= np.linalg.norm(targets, axis=1, keepdims=True)
    torch.manual_seed(0)
    net = TinyPosebitNet(10)
    before = alignment_score(net, bits, targets)
    config = PosebitTrainConfig(loss=loss, epochs=15, batch_size=32, lr=1e-2, device="cpu", match_radius=0.2)
    result = train_posebit_net(net, bits, targets, config, tmp_path)
    assert result.history.train[-1] < result.history.train[0]
    assert alignment_score(net, bits, targets) > before


def test_init_from_image_head_copies_and_freezes_matching_layers() -> None:
    image = nn.Module()
    image.fc6, image.fc7 = nn.Linear(20, 16), nn.Linear(16, 128)
    posebit = nn.Module()
    posebit.fc2, posebit.fc3 = nn.Linear(20, 16), nn.Linear(16, 128)
    assert init_from_image_head(posebit, image)
    assert torch.equal(posebit.fc2.weight, image.fc6.weight) and not posebit.fc3.weight.requires_grad
    assert not init_from_image_head(TinyPosebitNet(4), TinyImageNet())


def test_masks_train_select_eligible_bits_and_save(tmp_path: Path) -> None:
    rng = np.random.default_rng(4)
    count = 200
    bits = np.zeros((count, 3), dtype=np.int8)
    bits[:, 0] = rng.integers(0, 2, count)
    bits[:, 1] = (rng.uniform(size=count) < 0.1).astype(np.int8)  # too few ones → not eligible
    bits[:, 2] = rng.integers(-1, 2, count)
    embeddings = rng.normal(size=(count, 128)).astype(np.float32)
    embeddings[:, :4] += 3.0 * bits[:, :1]  # bit 0 = 1 pushes dims 0–3 out
    embeddings /= np.linalg.norm(embeddings, axis=1, keepdims=True)
    assert eligible_masks(bits, 55) == [(0, 0), (0, 1), (2, 0), (2, 1)]
    result = train_masks(embeddings, bits, ("a", "b", "c"), MaskTrainConfig(epochs=3))
    assert set(result.masks) == {"a=0", "a=1", "c=0", "c=1"}
    stats = {s.key: s for s in result.stats}
    assert stats["a=0"].precision_at_k >= 0.9 > stats["a=0"].base_rate
    path = save_masks(
        tmp_path / "masks", result, MaskTrainConfig(), posebit_version="v1", training_data_hash="h"
    )
    from safetensors.numpy import load_file

    loaded = load_file(str(path))
    assert loaded["a=1"].shape == (128,) and loaded["a=1"].dtype == np.float32
    import json

    card = json.loads((tmp_path / "masks.json").read_text())
    assert card["kind"] == "mask" and len(card["metrics"]["masks"]) == 4


def test_thesis_image_net_head_initialises_thesis_sized_posebit_net() -> None:
    from posebrowser.nets.registry import build_net

    posebit = build_net("posebit_mlp", num_bits=5, hidden=4608, hidden2=2048)
    image = build_net("thesis_vggs")
    assert init_from_image_head(posebit, image)
    assert torch.equal(posebit.fc3.weight, image.fc7.weight)
    assert not init_from_image_head(build_net("posebit_mlp", num_bits=5, hidden=64, hidden2=32), image)


def test_auxiliary_posebit_head_learns_mirrors_and_resumes(tmp_path: Path) -> None:
    from posebrowser.training.image_trainer import AuxPosebitHead

    images, gt, latent = make_data(seed=4)
    names = ("left_knee_bent", "right_knee_bent", "pelvis_high")
    bits = (latent > 0.5).astype(np.int8)
    bits[0, 2] = -1  # unknown bits are left out of the loss
    config = _config(epochs=8, aux_posebits=1.0)
    torch.manual_seed(0)
    net = TinyImageNet()
    optimizer = torch.optim.SGD(net.parameters(), lr=0.1)
    probe = AuxPosebitHead.build(net, config, bits, names, torch.device("cpu"), optimizer)
    assert probe is not None and len(optimizer.param_groups) == 2
    assert probe.mirrored is not None
    np.testing.assert_array_equal(probe.mirrored[:, 0].numpy(), bits[:, 1])  # left ↔ right knee
    assert AuxPosebitHead.build(net, _config(), bits, names, torch.device("cpu"), optimizer) is None

    def aux_loss(model: nn.Module, head: AuxPosebitHead) -> float:
        with torch.no_grad():
            return float(head.loss(model.eval()(to_tensor(list(images))), np.arange(len(images)), False))

    torch.manual_seed(0)
    net = TinyImageNet()
    result = train_image_net(net, images, gt, to_tensor, config, tmp_path, posebits=bits, posebit_names=names)
    assert all(np.isfinite(result.history.train))
    state = torch.load(tmp_path / "image_train_state.pt", weights_only=True)
    assert "aux.weight" in state["model"] and "net.fc7.weight" in state["model"]
    head = AuxPosebitHead(nn.Linear(128, 3), bits, None, torch.device("cpu"))
    head.head.load_state_dict({"weight": state["model"]["aux.weight"], "bias": state["model"]["aux.bias"]})
    fresh = AuxPosebitHead(nn.Linear(128, 3), bits, None, torch.device("cpu"))
    assert aux_loss(net, head) < aux_loss(net, fresh)  # the trained head reads the bits off the embedding
