"""``posebrowser train fusion``: the fused image model fitted on train images of a gallery — the map is the
Procrustes fit of those images' two readings (oracle), the card names its parts, and a folder without the
joints model is a clear error that writes nothing."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from pose_fakes import FakeEstimator, random_poses
from test_training_command import _parse, _train_compact_image_net

from posebrowser.core.embedder import Embedder
from posebrowser.core.joints_embedder import JointsEmbedder
from posebrowser.nets.checkpoint import ModelCard, load_model, save_model
from posebrowser.nets.fusion import EstimatorFusion
from posebrowser.nets.joints_net import JointsNet
from posebrowser.nets.mirror_view import fit_rotation


def test_the_fit_is_the_procrustes_map_of_the_train_images_two_readings(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out, base, _ = _train_compact_image_net(tmp_path, max_images=40)
    torch.manual_seed(0)
    save_model(out / "joints_net", JointsNet(hidden=16), ModelCard("joints_mlp", {"hidden": 16}, "image"))
    # the fake estimator reads a pose index off each image's first pixel (255: nobody there)
    estimator = FakeEstimator(random_poses(np.random.default_rng(0), 255))

    def with_fake_estimator(path: Path, device: str = "cpu", cache_dir: object = None) -> JointsEmbedder:
        net, _ = load_model(path, expect_kind="image")
        return JointsEmbedder(net, estimator)  # type: ignore[arg-type]

    monkeypatch.setattr(JointsEmbedder, "from_checkpoint", staticmethod(with_fake_estimator))
    step = _parse(["train", "fusion", "--out", str(out), "--fusion-readers", "joints_net=0.25", *base])
    assert step.func(step) == 0
    fusion, card = load_model(out / "fused_net", expect_kind="image")
    assert isinstance(fusion, EstimatorFusion) and card.net == "estimator_fusion"
    parts = {"image_model": "image_net", "joints_model": "joints_net"}
    assert card.config == {"embedding_dim": 128, "weight": 0.25, **parts}
    from posebrowser.data.loading import open_gallery

    gallery = open_gallery(str(tmp_path / "gallery"))
    rows = gallery.split_indices("train")[:40]
    cnn = Embedder.from_checkpoint(out / "image_net", "cpu").embed_images(gallery, indices=rows)
    joints = with_fake_estimator(out / "joints_net").embed_images(gallery, indices=rows)
    person = np.isfinite(joints).all(axis=1)
    assert card.metrics["fit"]["with_person"] == int(person.sum()) and card.metrics["fit"]["fit_images"] == 40
    expected = fit_rotation(joints[person], cnn[person])
    # the map on the rows' span is what the fit determines (fewer rows than dimensions)
    np.testing.assert_allclose(joints[person] @ fusion.rotation.numpy(), joints[person] @ expected, atol=1e-4)


def test_a_folder_without_the_joints_model_is_a_clear_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out, base, _ = _train_compact_image_net(tmp_path, max_images=16)
    step = _parse(["train", "fusion", "--out", str(out), *base])
    assert step.func(step) == 1
    assert "needs joints_net" in capsys.readouterr().err and not (out / "fused_net.json").exists()


BAD_READERS = [["joints_net=0.7", "joints_torso_net=0.5"], ["joints_net=0.2", "joints_net=0.1"]]


@pytest.mark.parametrize("readers", BAD_READERS)
def test_readers_whose_weights_pass_1_or_repeat_are_refused_before_any_work(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], readers: list[str]
) -> None:
    out = tmp_path / "models"
    out.mkdir()
    gallery = str(tmp_path / "none")
    step = _parse(["train", "fusion", "--out", str(out), "--gallery", gallery, "--fusion-readers", *readers])
    assert step.func(step) == 1
    assert "sum to at most 1" in capsys.readouterr().err and not (out / "fused_net.json").exists()


def test_a_malformed_reader_is_refused_at_parse_time() -> None:
    with pytest.raises(SystemExit):
        _parse(["train", "fusion", "--fusion-readers", "joints_net"])
