"""MirrorViewNet: the averaged plain + mirrored view against a NumPy oracle, the Procrustes fit, and the
round trip through a saved model and the app's Embedder."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from posebrowser.core.embedder import Embedder
from posebrowser.errors import CheckpointError
from posebrowser.nets.checkpoint import ModelCard, load_model, save_model
from posebrowser.nets.mirror_view import MirrorViewNet, fit_rotation, unwrap
from posebrowser.nets.preprocessing import compact_preprocessing
from posebrowser.nets.registry import build_net

CONFIG = {"width": 0.125, "blocks": [1, 1, 1, 1], "embedding_dim": 128}


def _unit(rows: np.ndarray) -> np.ndarray:
    return rows / np.linalg.norm(rows, axis=1, keepdims=True)


def _rotation(seed: int, dim: int = 128) -> np.ndarray:
    rotation, _ = np.linalg.qr(np.random.default_rng(seed).normal(size=(dim, dim)))
    return rotation


def test_fit_rotation_recovers_a_known_orthogonal_map() -> None:
    rng = np.random.default_rng(0)
    rotation = _rotation(1, 16)
    plain = _unit(rng.normal(size=(300, 16)))
    mirrored = _unit(plain @ rotation + 0.01 * rng.normal(size=(300, 16)))
    fitted = fit_rotation(plain, mirrored)
    np.testing.assert_allclose(fitted @ fitted.T, np.eye(16), atol=1e-10)
    np.testing.assert_allclose(fitted, rotation, atol=0.02)


@pytest.mark.parametrize(
    ("plain", "mirrored"),
    [
        (np.ones((5, 4)), np.ones((5, 3))),  # shapes differ
        (np.ones((1, 4)), np.ones((1, 4))),  # one row
        (np.full((5, 4), np.nan), np.ones((5, 4))),  # NaN rows (an unreadable image)
    ],
)
def test_fit_rotation_refuses_unusable_views(plain: np.ndarray, mirrored: np.ndarray) -> None:
    with pytest.raises(ValueError):
        fit_rotation(plain, mirrored)


def test_forward_is_the_normalised_mean_of_the_plain_and_the_mapped_mirrored_view() -> None:
    inner = build_net("compact_resnet", **CONFIG).eval()
    wrapped = MirrorViewNet(inner).eval()
    rotation = _rotation(2)
    wrapped.set_rotation(rotation)
    images = torch.from_numpy(np.random.default_rng(3).normal(size=(5, 3, 32, 32)).astype(np.float32))
    with torch.inference_mode():
        plain = torch.nn.functional.normalize(inner(images), dim=1).double().numpy()
        mirrored = torch.nn.functional.normalize(inner(images.flip(3)), dim=1).double().numpy()
        out = wrapped(images).double().numpy()
    np.testing.assert_allclose(out, _unit(plain + mirrored @ rotation.T), atol=1e-5)
    assert not np.allclose(out, plain, atol=1e-3)  # the mirrored view changes the embedding
    with pytest.raises(ValueError):
        wrapped.set_rotation(np.eye(3))


def test_identity_map_on_a_mirror_symmetric_input_gives_the_plain_embedding() -> None:
    inner = build_net("compact_resnet", **CONFIG).eval()
    half = torch.randn(2, 3, 32, 16)
    symmetric = torch.cat([half, half.flip(3)], dim=3)  # equal to its own mirror image
    with torch.inference_mode():
        expected = torch.nn.functional.normalize(inner(symmetric), dim=1)
        np.testing.assert_allclose(MirrorViewNet(inner).eval()(symmetric), expected, atol=1e-5)


def test_a_saved_mirror_view_net_loads_with_its_map_and_embeds_as_the_oracle(tmp_path: Path) -> None:
    wrapped = build_net("compact_resnet", **CONFIG, mirror_view=True)
    assert isinstance(wrapped, MirrorViewNet) and unwrap(wrapped) is wrapped.net
    rotation = _rotation(4)
    wrapped.set_rotation(rotation)
    preprocessing = compact_preprocessing(32)
    card = ModelCard(
        net="compact_resnet",
        config={**CONFIG, "mirror_view": True},
        kind="image",
        preprocessing=preprocessing.to_dict(),
    )
    save_model(tmp_path / "image_net", wrapped.eval(), card)
    loaded, loaded_card = load_model(tmp_path / "image_net", expect_kind="image")
    assert isinstance(loaded, MirrorViewNet) and loaded_card.config["mirror_view"] is True
    np.testing.assert_allclose(loaded.rotation.numpy(), rotation, atol=1e-6)

    images = [np.random.default_rng(i).integers(0, 256, (40, 30, 3), dtype=np.uint8) for i in range(9)]
    app = Embedder.from_checkpoint(tmp_path / "image_net", "cpu", precision="fp32")
    plain_embedder = Embedder(unwrap(loaded), preprocessing, "cpu", precision="fp32")
    plain = plain_embedder.embed_images(images, batch_size=4).astype(np.float64)
    mirrored = plain_embedder.embed_images(images, batch_size=4, mirror=True).astype(np.float64)
    expected = _unit(plain + mirrored @ rotation.T)
    np.testing.assert_allclose(app.embed_images(images, batch_size=4), expected, atol=1e-5)


def test_only_image_nets_take_a_mirrored_view() -> None:
    with pytest.raises(CheckpointError, match="not an image net"):
        build_net("embedding_mask", dim=128, mirror_view=True)
    assert not isinstance(build_net("compact_resnet", **CONFIG, mirror_view=False), MirrorViewNet)
