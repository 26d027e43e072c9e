"""The fused image model with more than one estimator reader (a facing-frame and a torso-frame joints
net): the blend against a hand oracle, the fit recovering one known map per reader, one estimate per
image shared by the readers, the card's round trip, and a single-reader card still loading as before."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image
from pose_fakes import FakeEstimator, random_poses
from scipy.stats import ortho_group
from tiny_models import save_tiny_cnn

from posebrowser.core.embedder import Embedder
from posebrowser.core.fused_embedder import FusedEmbedder
from posebrowser.core.image_models import image_embedder_from_checkpoint
from posebrowser.core.joints_embedder import JointsEmbedder
from posebrowser.estimate.cache import EstimateCache
from posebrowser.nets.checkpoint import ModelCard, load_model, save_model
from posebrowser.nets.compact import CompactImageNet
from posebrowser.nets.fusion import EstimatorFusion
from posebrowser.nets.joints_net import JointsNet
from posebrowser.nets.preprocessing import compact_preprocessing
from posebrowser.training.fusion_fit import fit_fusion


def unit_rows(rng: np.random.Generator, n: int, d: int = 128) -> np.ndarray:
    rows = rng.standard_normal((n, d)).astype(np.float32)
    return rows / np.linalg.norm(rows, axis=1, keepdims=True)


def two_reader_fusion() -> EstimatorFusion:
    fusion = EstimatorFusion(
        weight=0.2, more_joints_models=("joints_torso_net",), more_weights=(0.15,)
    )
    fusion.set_rotation(ortho_group.rvs(128, random_state=4), 0)
    fusion.set_rotation(ortho_group.rvs(128, random_state=5), 1)
    return fusion


def test_two_readers_blend_by_the_formula_row_by_row(rng) -> None:
    cnn, facing, torso = unit_rows(rng, 5), unit_rows(rng, 5), unit_rows(rng, 5)
    fusion = two_reader_fusion()
    first, second = (r.numpy() for r in fusion.rotations())
    person = np.array([True, False, True, True, True])
    out = fusion.blend(cnn, [facing, torso], person)
    for row in (0, 2, 3, 4):
        expected = 0.65 * cnn[row] + 0.2 * facing[row] @ first + 0.15 * torso[row] @ second
        np.testing.assert_allclose(out[row], expected / np.linalg.norm(expected), atol=1e-5)
    np.testing.assert_array_equal(out[1], cnn[1])
    with pytest.raises(ValueError, match="1 joints readings for a fusion of 2"):
        fusion.blend(cnn, facing, person)


def test_a_reading_one_reader_cannot_make_keeps_the_cnn_row(rng) -> None:
    cnn, facing, torso = unit_rows(rng, 3), unit_rows(rng, 3), unit_rows(rng, 3)
    torso[1] = np.nan  # e.g. an estimate without a spine has no torso frame
    out = two_reader_fusion().blend(cnn, [facing, torso], np.ones(3, bool))
    assert np.isfinite(out).all()
    np.testing.assert_array_equal(out[1], cnn[1])
    assert not np.allclose(out[0], cnn[0])


def test_weights_and_names_must_agree() -> None:
    with pytest.raises(ValueError, match="same length"):
        EstimatorFusion(more_joints_models=("a", "b"), more_weights=(0.1,))
    with pytest.raises(ValueError, match="sum at most 1"):
        EstimatorFusion(weight=0.6, more_joints_models=("a",), more_weights=(0.5,))
    with pytest.raises(ValueError, match="reader 2 does not exist"):
        two_reader_fusion().set_rotation(np.eye(128), 2)


def test_the_fit_recovers_one_map_per_reader(rng) -> None:
    truths = [ortho_group.rvs(128, random_state=s) for s in (6, 7)]
    cnn = unit_rows(rng, 300)
    readings = [(cnn @ truth.T).astype(np.float32) for truth in truths]
    for reading in readings:
        reading[:20] = np.nan  # nobody found
    fusion, figures = fit_fusion(cnn, readings, [0.2, 0.15], ["joints_net", "joints_torso_net"])
    for fitted, truth in zip(fusion.rotations(), truths, strict=True):
        np.testing.assert_allclose(fitted.numpy(), truth, atol=1e-4)
    assert fusion.joints_models == ("joints_net", "joints_torso_net") and fusion.weights == (0.2, 0.15)
    assert figures["with_person"] == 280 and figures["joints_torso_net"]["with_person"] == 280


def _save_readers(folder: Path) -> None:
    torch.manual_seed(0)
    save_model(folder / "joints_net", JointsNet(hidden=16), ModelCard("joints_mlp", {"hidden": 16}, "image"))
    torso_card = ModelCard("joints_mlp", {"hidden": 16, "frame": "torso"}, "image")
    save_model(folder / "joints_torso_net", JointsNet(hidden=16, frame="torso"), torso_card)


def test_a_two_reader_card_round_trips_and_loads_both_readers(tmp_path) -> None:
    save_tiny_cnn(tmp_path / "image_net")
    _save_readers(tmp_path)
    fusion = two_reader_fusion()
    config = {
        "weight": 0.2,
        "joints_model": "joints_net",
        "more_joints_models": ["joints_torso_net"],
        "more_weights": [0.15],
    }
    save_model(tmp_path / "fused_net", fusion, ModelCard("estimator_fusion", config, "image"))
    loaded, _ = load_model(tmp_path / "fused_net", expect_kind="image")
    assert isinstance(loaded, EstimatorFusion) and loaded.weights == (0.2, 0.15)
    for mine, theirs in zip(fusion.rotations(), loaded.rotations(), strict=True):
        torch.testing.assert_close(mine, theirs)
    embedder = image_embedder_from_checkpoint(tmp_path / "fused_net", "cpu")
    assert isinstance(embedder, FusedEmbedder) and len(embedder.readers) == 2
    assert [reader.module.frame for reader in embedder.readers] == ["facing", "torso"]
    assert embedder.readers[1].estimator is embedder.readers[0].estimator  # one estimator, one estimate


def test_a_single_reader_card_loads_as_before(tmp_path) -> None:
    fusion = EstimatorFusion(weight=0.3)
    fusion.set_rotation(ortho_group.rvs(128, random_state=8))
    save_model(tmp_path / "fused_net", fusion, ModelCard("estimator_fusion", {"weight": 0.3}, "image"))
    loaded, _ = load_model(tmp_path / "fused_net", expect_kind="image")
    assert isinstance(loaded, EstimatorFusion) and loaded.weights == (0.3,) and len(loaded.rotations()) == 1
    torch.testing.assert_close(loaded.rotation, fusion.rotation)


def test_the_readers_share_one_estimate_per_image(rng, tmp_path) -> None:
    torch.manual_seed(0)
    files = []
    for index in (1, 255, 2, 3):
        path = tmp_path / f"{index}.png"
        Image.fromarray(np.full((8, 8, 3), index, np.uint8)).save(path)
        files.append(path)
    estimator = FakeEstimator(random_poses(rng, 4))
    cache = EstimateCache(tmp_path / "estimates", estimator.version)
    facing = JointsEmbedder(JointsNet(hidden=32), estimator, cache)  # type: ignore[arg-type]
    torso = JointsEmbedder(JointsNet(hidden=32, frame="torso"), estimator, cache)  # type: ignore[arg-type]
    image = Embedder(CompactImageNet(width=0.25, blocks=(1, 1, 1, 1)), compact_preprocessing(), "cpu")
    fusion = two_reader_fusion()
    embedder = FusedEmbedder(image, [facing, torso], fusion, "sha")
    out = embedder.embed_images(files, batch_size=2)
    assert estimator.calls == len(files)  # the torso reader read every estimate back from the cache
    cnn = image.embed_images(files)
    readings = [reader.embed_images(files) for reader in (facing, torso)]
    expected = fusion.blend(cnn, readings, np.isfinite(readings[0]).all(axis=1))
    np.testing.assert_allclose(out, expected, atol=1e-5)
    assert embedder.no_person_rows == [1]
    np.testing.assert_allclose(out[1], cnn[1], atol=1e-6)


class CountingReader(Embedder):
    """An image reader (an :class:`Embedder`) that records how many images it was asked to read."""

    read_count = 0

    def embed_images(self, sources, *args, **kwargs):  # type: ignore[no-untyped-def, override]
        self.read_count += len(sources)
        return super().embed_images(sources, *args, **kwargs)


def test_an_image_reader_reads_only_the_images_with_a_person(rng, tmp_path) -> None:
    torch.manual_seed(0)
    files = []
    for index in (1, 255, 2, 255, 3):
        path = tmp_path / f"{len(files)}.png"
        Image.fromarray(np.full((8, 8, 3), index, np.uint8)).save(path)
        files.append(path)
    estimator = FakeEstimator(random_poses(rng, 4))
    facing = JointsEmbedder(JointsNet(hidden=32), estimator,  # type: ignore[arg-type]
                            EstimateCache(tmp_path / "estimates", estimator.version))
    reader = CountingReader(CompactImageNet(width=0.25, blocks=(1, 1, 1, 1)), compact_preprocessing(), "cpu")
    image = Embedder(CompactImageNet(width=0.25, blocks=(1, 1, 1, 1)), compact_preprocessing(), "cpu")
    fusion = EstimatorFusion(weight=0.2, more_joints_models=("keypoint_reader",), more_weights=(0.2,))
    fusion.set_rotation(ortho_group.rvs(128, random_state=4), 0)
    fusion.set_rotation(ortho_group.rvs(128, random_state=5), 1)
    embedder = FusedEmbedder(image, [facing, reader], fusion, "sha")
    out = embedder.embed_images(files)
    assert reader.read_count == 3  # the two images without a person keep the CNN's row: not read
    assert embedder.no_person_rows == [1, 3]
    cnn = image.embed_images(files)
    np.testing.assert_array_equal(out[[1, 3]], cnn[[1, 3]])
    readings = [facing.embed_images(files), reader.embed_images(files)]
    person = np.isfinite(readings[0]).all(axis=1)
    np.testing.assert_allclose(out, fusion.blend(cnn, readings, person), atol=1e-5)
