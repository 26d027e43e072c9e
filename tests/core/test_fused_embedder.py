"""The fused image model: the CNN's rows blended with the pose estimator's (joints net, rotated into the
CNN's space) — the blend against a hand oracle, the fit recovering a known map, the embedder's bookkeeping
(no person keeps the CNN's row, an unreadable image stays NaN and named, cancel), and the model card
picking the embedder with the posebit space of its CNN."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from pose_fakes import FakeEstimator, picture, random_poses
from scipy.stats import ortho_group
from tiny_models import save_tiny_cnn

from posebrowser.core.embedder import Embedder
from posebrowser.core.fused_embedder import FusedEmbedder
from posebrowser.core.image_models import embedding_space, image_embedder_from_checkpoint
from posebrowser.core.joints_embedder import JointsEmbedder
from posebrowser.errors import CheckpointError, DataError, JobCancelledError
from posebrowser.nets.checkpoint import ModelCard, save_model
from posebrowser.nets.compact import CompactImageNet
from posebrowser.nets.fusion import EstimatorFusion
from posebrowser.nets.joints_net import JointsNet
from posebrowser.nets.preprocessing import compact_preprocessing
from posebrowser.training.fusion_fit import fit_fusion


def unit_rows(rng: np.random.Generator, n: int, d: int = 128) -> np.ndarray:
    rows = rng.standard_normal((n, d)).astype(np.float32)
    return rows / np.linalg.norm(rows, axis=1, keepdims=True)


def test_the_blend_matches_the_formula_row_by_row(rng) -> None:
    cnn, joints = unit_rows(rng, 6), unit_rows(rng, 6)
    rotation = ortho_group.rvs(128, random_state=1).astype(np.float32)
    fusion = EstimatorFusion(weight=0.3)
    fusion.set_rotation(rotation)
    cnn[4] = np.nan  # an unreadable image
    person = np.array([True, True, False, True, True, True])
    out = fusion.blend(cnn, joints, person)
    for row in (0, 1, 3, 5):
        expected = 0.7 * cnn[row] + 0.3 * joints[row] @ rotation
        np.testing.assert_allclose(out[row], expected / np.linalg.norm(expected), atol=1e-5)
    np.testing.assert_array_equal(out[2], cnn[2])  # nobody found: the CNN's row unchanged
    assert np.isnan(out[4]).all()


def test_weight_zero_is_the_cnn_and_a_bad_weight_is_refused(rng) -> None:
    cnn, joints = unit_rows(rng, 3), unit_rows(rng, 3)
    blended = EstimatorFusion(weight=0.0).blend(cnn, joints, np.ones(3, bool))
    np.testing.assert_allclose(blended, cnn, atol=1e-6)
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        EstimatorFusion(weight=1.5)


def test_the_fit_recovers_a_known_map_and_skips_rows_without_a_person(rng) -> None:
    truth = ortho_group.rvs(128, random_state=2)
    cnn = unit_rows(rng, 400)
    joints = (cnn @ truth.T).astype(np.float32)  # joints · truth = cnn
    joints[:30] = np.nan  # nobody found in these
    fusion, figures = fit_fusion(cnn, joints, 0.3)
    np.testing.assert_allclose(fusion.rotation.numpy(), truth, atol=1e-4)
    assert figures["with_person"] == 370 and figures["fit_images"] == 400
    assert figures["mean_cosine_after_map"] == pytest.approx(1.0, abs=1e-4)


def test_too_few_rows_with_a_person_is_a_clear_error(rng) -> None:
    joints = np.full((40, 128), np.nan, np.float32)
    joints[:3] = unit_rows(rng, 3)
    with pytest.raises(DataError, match="at least 16"):
        fit_fusion(unit_rows(rng, 40), joints, 0.3)


@pytest.fixture
def fused(rng) -> tuple[FusedEmbedder, Embedder, JointsEmbedder]:
    torch.manual_seed(0)
    image = Embedder(CompactImageNet(width=0.25, blocks=(1, 1, 1, 1)), compact_preprocessing(), "cpu")
    joints = JointsEmbedder(JointsNet(hidden=32), FakeEstimator(random_poses(rng, 4)))
    fusion = EstimatorFusion(weight=0.4)
    fusion.set_rotation(ortho_group.rvs(128, random_state=3))
    return FusedEmbedder(image, joints, fusion, "sha"), image, joints


def test_the_embedder_blends_both_readers_and_keeps_the_cnn_where_nobody_is_found(fused) -> None:
    embedder, image, joints = fused
    pictures = [picture(i) for i in (2, 255, 0, 3, 255)]
    out = embedder.embed_images(pictures, batch_size=2)
    cnn = image.embed_images(pictures)
    joints.no_person = "exclude"
    read = joints.embed_images(pictures)
    expected = embedder.fusion.blend(cnn, read, np.isfinite(read).all(axis=1))
    np.testing.assert_allclose(out, expected, atol=1e-5)
    np.testing.assert_allclose(out[[1, 4]], cnn[[1, 4]], atol=1e-6)
    assert embedder.no_person_rows == [1, 4] and embedder.failures == []
    assert embedding_space(embedder, "fused_net") == "image_net"


def test_an_unreadable_image_is_a_named_nan_row_at_its_own_position(fused, tmp_path) -> None:
    embedder, _, _ = fused
    broken = tmp_path / "broken.jpg"
    broken.write_bytes(b"not an image")
    out = embedder.embed_images([picture(1), picture(2), broken], batch_size=2)
    assert np.isnan(out[2]).all() and np.isfinite(out[:2]).all()
    assert [row for row, _ in embedder.failures] == [2]


def test_cancel_stops_between_chunks(fused) -> None:
    embedder, _, _ = fused
    with pytest.raises(JobCancelledError):
        embedder.embed_images([picture(0)] * 4, batch_size=2, cancel=lambda: True)


def test_the_card_picks_the_fused_embedder_and_names_its_parts(tmp_path) -> None:
    save_tiny_cnn(tmp_path / "image_net")
    joints_card = ModelCard(net="joints_mlp", config={"hidden": 16}, kind="image")
    save_model(tmp_path / "joints_net", JointsNet(hidden=16), joints_card)
    fusion_card = ModelCard(net="estimator_fusion", config={"weight": 0.25}, kind="image")
    written = save_model(tmp_path / "fused_net", EstimatorFusion(weight=0.25), fusion_card)
    embedder = image_embedder_from_checkpoint(tmp_path / "fused_net", "cpu")
    assert isinstance(embedder, FusedEmbedder)
    assert embedder.fusion.weight == 0.25 and embedder.embedding_space == "image_net"
    assert embedder.model_sha256 not in (written.sha256, embedder.image.model_sha256)
    (tmp_path / "joints_net.json").unlink()
    with pytest.raises(CheckpointError, match="does not exist"):
        image_embedder_from_checkpoint(tmp_path / "fused_net", "cpu")
