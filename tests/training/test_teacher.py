"""--aux-teacher: the joints net's embeddings of the true and the mirrored poses as targets, the loss
against a direct oracle, and the option through ``train image``."""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import pytest
import torch

from posebrowser.errors import CheckpointError
from posebrowser.nets.checkpoint import ModelCard, save_model
from posebrowser.nets.joints_net import JointsNet, joints_frame
from posebrowser.training.augment import flip_joints_3d
from posebrowser.training.teacher import TeacherTargets

CPU = torch.device("cpu")


def _joints_net(tmp_path: Path) -> tuple[Path, JointsNet]:
    torch.manual_seed(0)
    net = JointsNet(hidden=16).eval()
    save_model(tmp_path / "joints_net", net, ModelCard(net="joints_mlp", config={"hidden": 16}, kind="image"))
    return tmp_path / "joints_net", net


def _unit(rows: torch.Tensor) -> np.ndarray:
    return torch.nn.functional.normalize(rows, dim=1).detach().numpy()


def test_targets_are_the_teacher_embeddings_of_the_true_and_the_mirrored_poses(tmp_path: Path) -> None:
    path, net = _joints_net(tmp_path)
    joints = np.random.default_rng(0).normal(size=(6, 16, 3)).astype(np.float32)
    joints[4, 3] = np.nan  # a pose with a missing joint has no target
    targets = TeacherTargets.from_joints(joints, path, CPU)
    known = [0, 1, 2, 3, 5]
    with torch.inference_mode():
        plain = _unit(net(torch.from_numpy(joints_frame(joints[known]))))
        mirrored = _unit(net(torch.from_numpy(joints_frame(flip_joints_3d(joints[known])))))
    np.testing.assert_allclose(targets.plain[known].numpy(), plain, atol=1e-6)
    np.testing.assert_allclose(targets.mirrored[known].numpy(), mirrored, atol=1e-6)
    assert targets.known.tolist() == [True, True, True, True, False, True]
    assert not np.allclose(plain, mirrored, atol=1e-3)  # the mirrored pose is another pose


def test_loss_is_the_mean_one_minus_cosine_over_the_rows_with_a_target(tmp_path: Path) -> None:
    rng = np.random.default_rng(1)
    plain = rng.normal(size=(5, 8)).astype(np.float32)
    plain /= np.linalg.norm(plain, axis=1, keepdims=True)
    mirrored = -plain
    plain[2] = np.nan
    targets = TeacherTargets(plain, mirrored, CPU)
    embeddings = torch.from_numpy(rng.normal(size=(3, 8)).astype(np.float32))
    rows = np.array([0, 2, 4])
    unit = embeddings / embeddings.norm(dim=1, keepdim=True)
    expected = 1 - (unit[[0, 2]] * torch.from_numpy(plain[[0, 4]])).sum(dim=1)
    assert targets.loss(embeddings, rows, False).item() == pytest.approx(expected.mean().item(), abs=1e-6)
    flipped = 1 - (unit[[0, 2]] * torch.from_numpy(mirrored[[0, 4]])).sum(dim=1)
    assert targets.loss(embeddings, rows, True).item() == pytest.approx(flipped.mean().item(), abs=1e-6)
    on_target = torch.from_numpy(np.nan_to_num(plain[[0, 4]]))
    assert targets.loss(on_target, np.array([0, 4]), False).item() == pytest.approx(0.0, abs=1e-6)
    assert targets.loss(embeddings[:1], np.array([2]), False).item() == 0.0  # no target: no pull


def test_a_teacher_that_is_not_a_joints_net_is_refused(tmp_path: Path) -> None:
    from posebrowser.nets.registry import build_net

    config = {"width": 0.125, "blocks": [1, 1, 1, 1], "embedding_dim": 128}
    net = build_net("compact_resnet", **config)
    save_model(tmp_path / "cnn", net, ModelCard(net="compact_resnet", config=config, kind="image"))
    with pytest.raises(CheckpointError, match="joints net"):
        TeacherTargets.from_joints(np.zeros((2, 16, 3), np.float32), tmp_path / "cnn", CPU)


def test_train_image_takes_the_teacher_option_into_the_loss_and_the_card(tmp_path: Path) -> None:
    from test_training_command import write_gallery

    from posebrowser.nets.checkpoint import read_card
    from posebrowser.training import image_trainer
    from posebrowser.training.command import register

    path, _ = _joints_net(tmp_path)
    write_gallery(tmp_path / "gallery")
    parser = argparse.ArgumentParser()
    register(parser.add_subparsers(dest="command"))
    base = ["train", "image", "--gallery", str(tmp_path / "gallery"), "--device", "cpu", "--quiet"]
    base += ["--net", "compact_resnet", "--epochs", "1", "--max-train-images", "16"]
    seen: list[float] = []
    original = TeacherTargets.loss

    def recording(self: TeacherTargets, *args: object) -> torch.Tensor:
        value = original(self, *args)  # type: ignore[arg-type]
        seen.append(float(value.detach()))
        return value

    TeacherTargets.loss = recording  # type: ignore[method-assign]
    try:
        args = parser.parse_args([*base, "--out", str(tmp_path / "m"), "--aux-teacher", "2"])
        args.teacher_model = str(path)
        assert args.func(args) == 0
    finally:
        TeacherTargets.loss = original  # type: ignore[method-assign]
    assert seen and all(0.0 <= value <= 2.0 for value in seen)
    assert "aux_teacher=2.0" in read_card(tmp_path / "m" / "image_net").notes
    assert "aux_teacher" in image_trainer.RESUME_KEYS
    off = parser.parse_args([*base, "--out", str(tmp_path / "off")])
    assert off.func(off) == 0 and "aux_teacher" not in read_card(tmp_path / "off" / "image_net").notes


def test_a_gallery_without_3d_joints_is_a_clear_error_before_any_training(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from PIL import Image

    from posebrowser.data.gallery_format import save_annotations, write_manifest
    from posebrowser.training.command import register

    rng = np.random.default_rng(0)
    root = tmp_path / "gallery"
    (root / "images").mkdir(parents=True)
    files = []
    for i in range(20):
        Image.fromarray(rng.integers(0, 256, (32, 32, 3), dtype=np.uint8)).save(root / f"images/{i}.png")
        files.append(f"images/{i}.png")
    save_annotations(
        root / "annotations.npz",
        {
            "files": np.asarray(files),
            "ids": np.arange(20, dtype=np.int64),
            "split": np.zeros(20, dtype=np.uint8),
            "posebits": rng.integers(0, 2, size=(20, 4)).astype(np.int8),
            "posebit_names": np.asarray(["a", "b", "c", "d"]),
        },
    )
    write_manifest(root, name="no-joints", image_size=32, posebit_version="test-v1")
    parser = argparse.ArgumentParser()
    register(parser.add_subparsers(dest="command"))
    argv = ["train", "image", "--gallery", str(root), "--out", str(tmp_path / "m"), "--device", "cpu"]
    argv += ["--quiet", "--net", "compact_resnet", "--epochs", "1", "--metric", "hamming"]
    args = parser.parse_args([*argv, "--aux-teacher", "1"])
    assert args.func(args) == 1
    assert "--aux-teacher needs the gallery's 3-D joints" in capsys.readouterr().err
    assert not (tmp_path / "m" / "image_net.safetensors").exists()
