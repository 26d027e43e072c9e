"""The joints image model: images through a (fake) estimator and the joints net; images without a person
are NaN rows named in failures (exclude), the neutral mean-pose row (neutral), or an error (strict);
a joints_mlp model card gives this embedder, a CNN card the CNN's."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from pose_fakes import FakeEstimator, picture, random_poses

from posebrowser.core.embedder import Embedder
from posebrowser.core.image_models import image_embedder_from_checkpoint
from posebrowser.core.joints_embedder import NO_PERSON_MESSAGE, JointsEmbedder
from posebrowser.errors import DataError
from posebrowser.estimate.estimator import PoseEstimator
from posebrowser.nets.checkpoint import ModelCard, save_model
from posebrowser.nets.joints_net import JointsNet


@pytest.fixture
def setup(rng) -> tuple[JointsEmbedder, np.ndarray]:
    torch.manual_seed(0)
    net = JointsNet(hidden=32)
    poses = random_poses(rng, 4)
    return JointsEmbedder(net, FakeEstimator(poses)), poses


def test_images_with_a_person_embed_their_estimated_joints(setup) -> None:
    embedder, poses = setup
    out = embedder.embed_images([picture(i) for i in (2, 0, 3)], batch_size=2)
    stored = np.round(poses[[2, 0, 3]].astype(np.float64), 4)  # an estimate as its cache keeps it (0.1 mm)
    np.testing.assert_allclose(out, embedder.embed_joints(stored), atol=1e-6)
    np.testing.assert_allclose(np.linalg.norm(out, axis=1), 1.0, atol=1e-5)
    assert embedder.failures == [] and embedder.no_person_rows == []


def test_no_person_is_excluded_like_an_unreadable_image(setup) -> None:
    embedder, _ = setup
    out = embedder.embed_images([picture(1), picture(255), picture(2)])
    assert np.isnan(out[1]).all() and np.isfinite(out[[0, 2]]).all()
    assert embedder.failures == [(1, NO_PERSON_MESSAGE)] and embedder.no_person_rows == [1]


def test_no_person_gets_the_neutral_row_when_asked(setup) -> None:
    embedder, _ = setup
    embedder.no_person = "neutral"
    out = embedder.embed_images([picture(255), picture(0)])
    np.testing.assert_allclose(out[0], embedder.neutral_row(), atol=1e-6)
    assert embedder.failures == [] and embedder.no_person_rows == [0]
    assert np.linalg.norm(out[0]) == pytest.approx(1.0, abs=1e-5)


def test_a_strict_query_without_a_person_is_an_error(setup) -> None:
    embedder, _ = setup
    with pytest.raises(DataError, match="found no person"):
        embedder.embed_images([picture(255)], strict=True)


def test_unreadable_files_are_failures_not_crashes(setup, tmp_path) -> None:
    embedder, _ = setup
    broken = tmp_path / "broken.jpg"
    broken.write_bytes(b"not an image")
    embedder.estimator = PoseEstimator()  # decoding fails before the model is loaded
    out = embedder.embed_images([broken])
    assert np.isnan(out).all() and embedder.failures[0][0] == 0


def test_the_model_card_picks_the_embedder(tmp_path) -> None:
    joints_card = ModelCard(net="joints_mlp", config={"hidden": 16}, kind="image")
    written = save_model(tmp_path / "joints_net", JointsNet(hidden=16), joints_card)
    embedder = image_embedder_from_checkpoint(tmp_path / "joints_net", "cpu")
    assert isinstance(embedder, JointsEmbedder)
    assert embedder.model_sha256 != written.sha256  # the estimator's version is part of it
    from tiny_models import save_tiny_cnn

    save_tiny_cnn(tmp_path / "cnn")
    assert isinstance(image_embedder_from_checkpoint(tmp_path / "cnn", "cpu"), Embedder)


def test_the_joints_model_shares_the_engines_estimate_cache(tmp_path) -> None:
    """A photo folder is estimated while the engine opens (under ``<cache_dir>/estimates``); the joints
    model reads the same cache instead of estimating every image a second time in the user's cache."""
    from posebrowser.estimate.folder import estimate_cache_root

    card = ModelCard(net="joints_mlp", config={"hidden": 16}, kind="image")
    save_model(tmp_path / "joints_net", JointsNet(hidden=16), card)
    shared = estimate_cache_root(tmp_path / "cache")
    embedder = image_embedder_from_checkpoint(tmp_path / "joints_net", "cpu", shared)
    assert isinstance(embedder, JointsEmbedder) and embedder.cache is not None
    assert embedder.cache.directory.is_relative_to(shared)
