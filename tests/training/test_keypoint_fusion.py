"""``posebrowser train keypoints`` then ``train fusion`` with the keypoint reader: a tiny run trains and
saves the reader, resumes an interrupted or SIGKILLed run to the same weights, refuses a folder without
the image net, and the fused model reads it with the joints net's map (oracle: the blend computed by
hand)."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch
from pose_fakes import FakeEstimator, random_poses
from test_training_command import _parse

from posebrowser.core.embedder import Embedder
from posebrowser.core.fused_embedder import FusedEmbedder
from posebrowser.core.joints_embedder import JointsEmbedder
from posebrowser.nets.checkpoint import ModelCard, load_model, save_model
from posebrowser.nets.efficientnet import LiteImageNet
from posebrowser.nets.joints_net import JointsNet
from posebrowser.nets.preprocessing import lite_preprocessing
from posebrowser.training.keypoint_trainer import STATE_FILE, run_keypoints


@pytest.fixture(scope="module")
def synthetic(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small rendered gallery (2-D and 3-D joints, train / val / test splits)."""
    from posebrowser.synth.generate import generate_gallery

    root = tmp_path_factory.mktemp("keypoints") / "gallery"
    generate_gallery(root, count=60, seed=3, size=64, workers=1)
    return root


def _models(tmp_path: Path, gallery: Path) -> tuple[Path, Path]:
    """The gallery and a models folder holding an untrained Lite0 image net and a small joints net."""
    out = tmp_path / "m"
    torch.manual_seed(0)
    save_model(out / "image_net", LiteImageNet(),
               ModelCard("efficientnet_lite0", {"embedding_dim": 128}, "image",
                         preprocessing=lite_preprocessing(160).to_dict()))
    save_model(out / "joints_net", JointsNet(hidden=16), ModelCard("joints_mlp", {"hidden": 16}, "image"))
    return gallery, out


def _keypoint_args(gallery: Path, out: Path) -> list[str]:
    return ["train", "keypoints", "--gallery", str(gallery), "--noise-gallery", str(gallery), "--out",
            str(out), "--device", "cpu", "--quiet", "--max-train-images", "16", "--keypoint-epochs", "2",
            "--lifter-epochs", "2"]


def _trained(tmp_path: Path, synthetic: Path) -> tuple[Path, Path]:
    """The gallery and a models folder after a whole tiny ``train keypoints`` run."""
    gallery, out = _models(tmp_path, synthetic)
    step = _parse(_keypoint_args(gallery, out))
    assert step.func(step) == 0
    return gallery, out


def test_an_interrupted_run_resumes_to_the_weights_of_a_whole_run(
    tmp_path: Path, synthetic: Path
) -> None:
    gallery, out = _trained(tmp_path, synthetic)
    reader, card = load_model(out / "keypoint_reader", expect_kind="image")
    assert card.net == "keypoint_reader" and card.config["joints_model"] == "joints_net"
    assert len(card.metrics["keypoint_train_l1_px"]) == 2 and len(card.metrics["lifter_train_loss"]) == 2
    assert not (out / "training" / STATE_FILE).exists()

    again = tmp_path / "again"
    again.mkdir()
    for name in ("image_net", "joints_net"):
        for suffix in (".json", ".safetensors"):
            (again / f"{name}{suffix}").write_bytes((out / f"{name}{suffix}").read_bytes())

    def stop_after_the_first_epoch(message: str) -> None:
        if "epoch 1/2" in message:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        run_keypoints(_parse(_keypoint_args(gallery, again)), stop_after_the_first_epoch)
    assert (again / "training" / STATE_FILE).exists() and not (again / "keypoint_reader.json").exists()
    resumed = _parse([*_keypoint_args(gallery, again), "--resume"])
    assert resumed.func(resumed) == 0
    second, _ = load_model(again / "keypoint_reader", expect_kind="image")
    for (name, value), other in zip(reader.state_dict().items(), second.state_dict().values(), strict=True):
        torch.testing.assert_close(other, value, msg=name)


def test_a_grey_share_reaches_the_keypoint_net_and_a_resume_must_keep_it(
    tmp_path: Path, synthetic: Path
) -> None:
    from posebrowser.errors import CheckpointError
    from posebrowser.training.loop import read_training_state

    gallery, out = _models(tmp_path, synthetic)

    def stop_after_the_first_epoch(message: str) -> None:
        if "epoch 1/2" in message:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        grey = _parse([*_keypoint_args(gallery, out), "--grey-share", "0.5"])
        run_keypoints(grey, stop_after_the_first_epoch)
    assert read_training_state(out / "training" / STATE_FILE)["config"]["grey_share"] == 0.5
    without = _parse([*_keypoint_args(gallery, out), "--resume"])
    with pytest.raises(CheckpointError, match="grey_share"):
        run_keypoints(without, lambda _: None)
    assert (out / "training" / STATE_FILE).exists()  # the state is kept


def test_a_depth_run_saves_a_reader_with_the_depth_head_and_its_depth_error(
    tmp_path: Path, synthetic: Path
) -> None:
    from posebrowser.core.engine import RetrievalEngine
    from posebrowser.nets.keypoint_reader import KeypointReader

    gallery, out = _models(tmp_path, synthetic)
    step = _parse([*_keypoint_args(gallery, out), "--keypoint-depth"])
    assert step.func(step) == 0
    reader, card = load_model(out / "keypoint_reader", expect_kind="image")
    assert isinstance(reader, KeypointReader) and reader.keypoints.depth is not None
    assert card.config["depth_head"] is True and reader.lifter.first.in_features == 48
    errors = card.metrics["landmark_error_noise_gallery"]
    assert errors["depth_median_px"] > 0 and "depth head" in card.notes
    engine = RetrievalEngine.open(gallery, out, "cpu", tmp_path / "cache", image_model="keypoint_reader",
                                  estimate_poses=False)
    expected = Embedder.from_checkpoint(out / "keypoint_reader", "cpu").embed_images(engine.gallery)
    np.testing.assert_allclose(engine.embeddings, expected, atol=1e-5)


def test_resuming_with_the_depth_head_switched_on_is_a_clear_error(
    tmp_path: Path, synthetic: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = _interrupted_after_the_first_epoch(tmp_path, synthetic)
    resumed = _parse([*_keypoint_args(synthetic, out), "--keypoint-depth", "--resume"])
    assert resumed.func(resumed) == 1
    assert "different settings (depth_head)" in capsys.readouterr().err
    assert (out / "training" / STATE_FILE).exists() and not (out / "keypoint_reader.json").exists()


def _interrupted_after_the_first_epoch(tmp_path: Path, gallery: Path) -> Path:
    """A models folder whose ``train keypoints`` (2 epochs) was stopped after epoch 1."""
    _, out = _models(tmp_path, gallery)

    def stop_after_the_first_epoch(message: str) -> None:
        if "epoch 1/2" in message:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        run_keypoints(_parse(_keypoint_args(gallery, out)), stop_after_the_first_epoch)
    return out


def test_resuming_with_other_epochs_is_a_clear_error_not_a_silently_wrong_schedule(
    tmp_path: Path, synthetic: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = _interrupted_after_the_first_epoch(tmp_path, synthetic)
    state = (out / "training" / STATE_FILE).read_bytes()
    args = _keypoint_args(synthetic, out)
    args[args.index("--keypoint-epochs") + 1] = "3"
    resumed = _parse([*args, "--resume"])
    assert resumed.func(resumed) == 1
    error = capsys.readouterr().err
    assert "different settings (keypoint_epochs)" in error and "without --resume" in error
    assert (out / "training" / STATE_FILE).read_bytes() == state  # the saved epoch is kept
    assert not (out / "keypoint_reader.json").exists()


def test_a_truncated_state_is_a_clear_error_that_keeps_the_file(
    tmp_path: Path, synthetic: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = _interrupted_after_the_first_epoch(tmp_path, synthetic)
    path = out / "training" / STATE_FILE
    path.write_bytes(path.read_bytes()[:1000])
    resumed = _parse([*_keypoint_args(synthetic, out), "--resume"])
    assert resumed.func(resumed) == 1
    assert "cannot be resumed" in capsys.readouterr().err
    assert len(path.read_bytes()) == 1000
    assert not (out / "keypoint_reader.json").exists()


def test_a_run_sigkilled_mid_epoch_resumes_to_the_weights_of_a_whole_run(
    tmp_path: Path, synthetic: Path
) -> None:
    """SIGKILL at the 6th optimiser step (the 2nd of epoch 2: 16 images in batches of 4): no reader is
    written, the state of epoch 1 survives, and ``--resume`` ends with a whole run's weights."""
    args = [*_keypoint_args(*_models(tmp_path / "killed", synthetic)), "--batch-size", "4"]
    child = textwrap.dedent(
        f"""
        import argparse, os, signal
        import torch
        from posebrowser.training import keypoint_trainer
        from posebrowser.training.command import register

        torch.set_num_threads(1)  # as the test process (conftest): the same float sums as the resumed half

        real_step, steps = keypoint_trainer.optimiser_step, []

        def kill_at_step_6(*step_args):
            steps.append(1)
            if len(steps) == 6:
                os.kill(os.getpid(), signal.SIGKILL)
            return real_step(*step_args)

        keypoint_trainer.optimiser_step = kill_at_step_6
        parser = argparse.ArgumentParser()
        register(parser.add_subparsers(dest="command"))
        parsed = parser.parse_args({args!r})
        parsed.func(parsed)
        """
    )
    done = subprocess.run([sys.executable, "-c", child], capture_output=True, text=True, timeout=600)
    killed = tmp_path / "killed" / "m"
    assert done.returncode == -9, done.stderr[-2000:]
    assert (killed / "training" / STATE_FILE).exists() and not (killed / "keypoint_reader.json").exists()
    resumed = _parse([*args, "--resume"])
    assert resumed.func(resumed) == 0
    whole = _parse([*_keypoint_args(*_models(tmp_path / "whole", synthetic)), "--batch-size", "4"])
    assert whole.func(whole) == 0
    first, _ = load_model(killed / "keypoint_reader", expect_kind="image")
    second, _ = load_model(tmp_path / "whole" / "m" / "keypoint_reader", expect_kind="image")
    for (name, value), other in zip(first.state_dict().items(), second.state_dict().values(), strict=True):
        torch.testing.assert_close(other, value, msg=name)


def test_the_keypoint_reader_alone_opens_as_the_engine_s_image_model(
    tmp_path: Path, synthetic: Path
) -> None:
    from posebrowser.core.engine import RetrievalEngine

    gallery, out = _trained(tmp_path, synthetic)
    engine = RetrievalEngine.open(gallery, out, "cpu", tmp_path / "cache", image_model="keypoint_reader",
                                  estimate_poses=False)
    from posebrowser.data.loading import open_gallery

    assert len(engine.gallery) == len(open_gallery(str(gallery)))  # every image read: no estimator to miss
    expected = Embedder.from_checkpoint(out / "keypoint_reader", "cpu").embed_images(engine.gallery)
    np.testing.assert_allclose(engine.embeddings, expected, atol=1e-5)
    assert any("Posebit queries and masks are off" in w for w in engine.warnings)


def test_a_folder_without_the_image_net_is_a_clear_error_that_writes_nothing(
    tmp_path: Path, synthetic: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    gallery, out = _models(tmp_path, synthetic)
    (out / "image_net.json").unlink()
    step = _parse(_keypoint_args(gallery, out))
    assert step.func(step) == 1
    assert "needs image_net" in capsys.readouterr().err
    assert not (out / "keypoint_reader.json").exists()


def _fused(tmp_path: Path, synthetic: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, Path, Any]:
    """The gallery, a models folder with the fused model trained with both readers, and the joints
    embedder loader patched in for the test (a fake estimator that finds random poses)."""
    gallery, out = _trained(tmp_path, synthetic)
    estimator = FakeEstimator(random_poses(np.random.default_rng(0), 255))

    def with_fake_estimator(path: Path, device: str = "cpu", cache_dir: object = None, **_: object
                            ) -> JointsEmbedder:
        net, _ = load_model(path, expect_kind="image")
        return JointsEmbedder(net, estimator)  # type: ignore[arg-type]

    monkeypatch.setattr(JointsEmbedder, "from_checkpoint", staticmethod(with_fake_estimator))
    fusion_step = _parse(["train", "fusion", "--out", str(out), "--gallery", str(gallery), "--device", "cpu",
                          "--quiet", "--max-train-images", "40", "--fusion-readers", "joints_net=0.2",
                          "keypoint_reader=0.2"])
    assert fusion_step.func(fusion_step) == 0
    return gallery, out, with_fake_estimator


def test_the_fused_model_reads_the_keypoint_reader_with_the_joints_net_s_map(
    tmp_path: Path, synthetic: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    gallery, out, with_fake_estimator = _fused(tmp_path, synthetic, monkeypatch)
    fusion, card = load_model(out / "fused_net", expect_kind="image")
    assert card.config["more_joints_models"] == ["keypoint_reader"] and card.config["more_weights"] == [0.2]
    assert card.metrics["fit"]["keypoint_reader"]["map_of"] == "joints_net"
    first, second = fusion.rotations()
    torch.testing.assert_close(second, first)

    from posebrowser.data.loading import open_gallery

    items = open_gallery(str(gallery))
    rows = items.split_indices("val")
    fused = FusedEmbedder.from_checkpoint(out / "fused_net", "cpu").embed_images(items, indices=rows)
    cnn = Embedder.from_checkpoint(out / "image_net", "cpu").embed_images(items, indices=rows)
    joints = with_fake_estimator(out / "joints_net").embed_images(items, indices=rows)
    lifted = Embedder.from_checkpoint(out / "keypoint_reader", "cpu").embed_images(items, indices=rows)
    person = np.isfinite(joints).all(axis=1)
    assert person.any()
    mixed = 0.6 * cnn[person] + 0.2 * (joints[person] + lifted[person]) @ first.numpy()
    np.testing.assert_allclose(fused[person], mixed / np.linalg.norm(mixed, axis=1, keepdims=True), atol=1e-4)
    np.testing.assert_allclose(fused[~person], cnn[~person], atol=1e-6)


def test_evaluate_scores_the_fused_model_s_cnn_and_keypoint_reader_each_alone(
    tmp_path: Path, synthetic: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The rows of ``posebrowser evaluate`` beside the fused image query: its CNN's own rows and the
    keypoint reader's own rows (every image: it needs no estimate), no other part, and none at all for
    the CNN alone as the image model."""
    from types import SimpleNamespace

    from posebrowser.data.loading import open_gallery
    from posebrowser.evaluation.command import CNN_ALONE, READER_ALONE, fused_part_vectors

    gallery, out, _ = _fused(tmp_path, synthetic, monkeypatch)
    items = open_gallery(str(gallery))
    rows = np.concatenate([items.split_indices("val"), items.split_indices("test")])
    fused = FusedEmbedder.from_checkpoint(out / "fused_net", "cpu")
    parts = fused_part_vectors(SimpleNamespace(gallery=items, image_embedder=fused), rows)
    alone = READER_ALONE["keypoint_reader"]
    assert list(parts) == [CNN_ALONE, alone]
    cnn = Embedder.from_checkpoint(out / "image_net", "cpu").embed_images(items, indices=rows)
    lifted = Embedder.from_checkpoint(out / "keypoint_reader", "cpu").embed_images(items, indices=rows)
    np.testing.assert_allclose(parts[CNN_ALONE], cnn, atol=1e-6)
    np.testing.assert_allclose(parts[alone], lifted, atol=1e-6)
    assert np.isfinite(parts[alone]).all()
    just_the_cnn = SimpleNamespace(gallery=items, image_embedder=fused.image)
    assert fused_part_vectors(just_the_cnn, rows) == {}


def test_embedding_with_the_fused_model_fills_its_cnn_s_cache_which_is_then_read_not_recomputed(
    tmp_path: Path, synthetic: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The fused model's CNN rows of a gallery are kept in the CNN's own embedding cache: the evaluation's
    "CNN alone" rows and the gallery opened with ``image_net`` read them instead of embedding again, and
    they are the CNN's own embeddings."""
    from posebrowser.core.engine import RetrievalEngine
    from posebrowser.evaluation.command import CNN_ALONE, fused_part_vectors

    gallery, out, _ = _fused(tmp_path, synthetic, monkeypatch)
    cache = tmp_path / "cache"
    fused = RetrievalEngine.open(gallery, out, "cpu", cache, chunk_rows=16, image_model="fused_net")
    items = fused.gallery
    cnn = Embedder.from_checkpoint(out / "image_net", "cpu").embed_images(items)

    def embedded_again(*_: object, **__: object) -> np.ndarray:
        raise AssertionError("the CNN embedded the gallery again")

    rows = np.concatenate([items.split_indices("val"), items.split_indices("test")])
    monkeypatch.setattr(fused.image_embedder.image, "embed_images", embedded_again)
    np.testing.assert_allclose(fused_part_vectors(fused, rows)[CNN_ALONE], cnn[rows], atol=1e-6)
    embedded: list[int] = []
    embed = Embedder.embed_images

    def counted(self: Embedder, sources: Any, *args: Any, **kwargs: Any) -> np.ndarray:
        rows = embed(self, sources, *args, **kwargs)
        embedded.append(len(rows))
        return rows

    monkeypatch.setattr(Embedder, "embed_images", counted)
    alone = RetrievalEngine.open(gallery, out, "cpu", cache, chunk_rows=16, image_model="image_net")
    np.testing.assert_allclose(alone.embeddings, cnn, atol=1e-6)
    assert embedded == [1]  # only the one-image probe that learns the embedding's width
