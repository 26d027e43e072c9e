"""Architectures: shapes, unit norm, the thesis LRN quirk, registry behaviour."""

from __future__ import annotations

import importlib

import pytest
import torch

from posebrowser.errors import CheckpointError
from posebrowser.nets.compact import CompactImageNet
from posebrowser.nets.mask import EmbeddingMask
from posebrowser.nets.registry import NETS, build_net
from posebrowser.nets.thesis_vggs import ThesisImageNet, ThesisLocalResponseNorm


def legacy_running_sum_lrn(
    x: torch.Tensor, size: int = 5, alpha: float = 5e-4, beta: float = 0.75, k: float = 2.0
) -> torch.Tensor:
    """Literal transcription of torch.legacy SpatialCrossMapLRN.updateOutput (the thesis' CPU/GPU path)."""
    channels = x.size(1)
    input_square = x.pow(2)
    scale = torch.zeros_like(x)
    pre_pad = int((size - 1) / 2 + 1)
    pre_pad_crop = channels if pre_pad > channels else pre_pad
    scale_first = scale.select(1, 0)
    for c in range(pre_pad_crop):
        scale_first.add_(input_square.select(1, c))
    for c in range(1, channels):
        scale_previous = scale.select(1, c - 1)
        scale_current = scale.select(1, c)
        scale_current.copy_(scale_previous)
        if c < channels - pre_pad + 1:
            scale_current.add_(input_square.select(1, c + pre_pad - 1))
        if c > pre_pad:
            scale_current.add_(input_square.select(1, c - pre_pad), alpha=-1)
    scale.mul_(alpha / size).add_(k)
    return torch.pow(scale, -beta) * x


@pytest.mark.parametrize("channels", [1, 3, 4, 7, 12])
def test_thesis_lrn_matches_legacy_running_sum(channels: int) -> None:
    x = torch.randn(2, channels, 3, 4, dtype=torch.float64) * 30
    expected = legacy_running_sum_lrn(x)
    got = ThesisLocalResponseNorm(emulate_off_by_one=True)(x)
    torch.testing.assert_close(got, expected, rtol=1e-10, atol=1e-10)


def test_thesis_lrn_differs_from_standard_only_from_channel_three() -> None:
    x = torch.randn(1, 8, 2, 2, dtype=torch.float64) * 40
    quirky = ThesisLocalResponseNorm(emulate_off_by_one=True)(x)
    standard = torch.nn.LocalResponseNorm(5, 5e-4, 0.75, 2.0)(x)
    torch.testing.assert_close(ThesisLocalResponseNorm(emulate_off_by_one=False)(x), standard)
    torch.testing.assert_close(quirky[:, :3], standard[:, :3])
    assert not torch.allclose(quirky[:, 3:], standard[:, 3:])


def test_thesis_image_net_shapes_and_parameter_count() -> None:
    net = ThesisImageNet(lrn="thesis").eval()
    assert sum(p.numel() for p in net.parameters()) == 16_230_144
    assert len(net.state_dict()) == 14
    with torch.no_grad():
        assert net.features(torch.randn(2, 3, 112, 112)).shape == (2, 4608)
        out = net(torch.randn(2, 3, 112, 112) * 50)
    assert out.shape == (2, 128)
    torch.testing.assert_close(out.norm(dim=1), torch.ones(2))


def _example_config(name: str) -> dict[str, object]:
    if name == "posebit_mlp":
        return {"num_bits": 11, "hidden": 64, "hidden2": 32}
    if name == "posebit_ensemble":
        return {"num_bits": 11, "members": 3, "hidden": 64, "hidden2": 32}
    if name == "compact_resnet":
        return {"width": 0.25, "blocks": (1, 1, 1, 1)}
    return {}


def _example_input(name: str) -> torch.Tensor:
    kind = NETS[name].kind
    if kind == "image":
        return torch.randn(3, 3, 112, 112)
    if kind == "posebit":
        return torch.randint(0, 2, (3, 11)).float()
    if kind == "joints":
        return torch.randn(3, 16, 3) * 0.3
    if kind == "fusion":  # each image's CNN row and joints-net row
        return torch.nn.functional.normalize(torch.randn(3, 2, 128), dim=2)
    return torch.nn.functional.normalize(torch.randn(3, 128), dim=1)


@pytest.mark.parametrize("name", sorted(NETS))
def test_registry_nets_forward_shape_and_norm(name: str) -> None:
    net = build_net(name, **_example_config(name)).eval()
    with torch.no_grad():
        out = net(_example_input(name))
    assert out.shape == (3, 128)
    assert torch.isfinite(out).all()
    if NETS[name].kind != "mask":
        torch.testing.assert_close(out.norm(dim=1), torch.ones(3))
    spec = NETS[name]
    if spec.kind == "image":
        # the shipped EfficientNet-Lite0 (and the keypoint reader on its trunk) reads the 128 px renders
        # upsampled to 160 px; the others at 112
        expected = 160 if name in ("efficientnet_lite0", "keypoint_reader") else 112
        assert spec.preprocessing is not None and spec.preprocessing().input_size == expected


def test_compact_default_is_cheaper_than_resnet18_and_supports_channels_last() -> None:
    default = CompactImageNet().eval()
    full = CompactImageNet(width=1.0).eval()
    assert sum(p.numel() for p in default.parameters()) * 3 < sum(p.numel() for p in full.parameters())
    x = torch.randn(2, 3, 112, 112)
    with torch.no_grad():
        reference = default(x)
        default_cl = default.to(memory_format=torch.channels_last)
        out = default_cl(x.contiguous(memory_format=torch.channels_last))
    torch.testing.assert_close(out, reference, rtol=1e-4, atol=1e-5)


def test_compact_width_one_matches_torchvision_resnet18_trunk_shapes() -> None:
    torchvision = importlib.import_module("torchvision")
    ours = {
        k: v.shape
        for k, v in CompactImageNet(width=1.0).state_dict().items()
        if not k.startswith("embedding")
    }
    theirs = {
        k: v.shape
        for k, v in torchvision.models.resnet18(weights=None).state_dict().items()
        if not k.startswith("fc.")
    }
    assert ours == theirs


def test_mask_starts_at_ones_and_multiplies() -> None:
    mask = EmbeddingMask(4)
    x = torch.arange(8, dtype=torch.float32).reshape(2, 4)
    torch.testing.assert_close(mask(x), x)
    with torch.no_grad():
        mask.mask.copy_(torch.tensor([0.0, 1.0, -2.0, 0.5]))
    torch.testing.assert_close(mask(x)[1], torch.tensor([0.0, 5.0, -12.0, 3.5]))


def test_unknown_net_lists_known_names() -> None:
    with pytest.raises(CheckpointError, match="compact_resnet") as info:
        build_net("resnet9000")
    assert "thesis_vggs" in str(info.value)


def test_bad_config_is_a_checkpoint_error() -> None:
    with pytest.raises(CheckpointError, match="cannot be built"):
        build_net("thesis_vggs", lrn="bogus")
    with pytest.raises(CheckpointError):
        build_net("embedding_mask", nonsense=3)


def test_compact_neck_is_optional_and_recorded_in_the_config() -> None:
    import torch

    from posebrowser.nets.registry import build_net

    plain = build_net("compact_resnet", width=0.125, embedding_dim=128)
    necked = build_net("compact_resnet", width=0.125, embedding_dim=128, neck=True)
    assert plain.config["neck"] is False and plain.neck is None
    assert necked.config["neck"] is True and isinstance(necked.neck, torch.nn.BatchNorm1d)
    assert "neck.running_mean" in necked.state_dict() and "neck.running_mean" not in plain.state_dict()
    out = necked.eval()(torch.randn(3, 3, 64, 64))
    assert out.shape == (3, 128) and torch.allclose(out.norm(dim=1), torch.ones(3), atol=1e-5)


def test_posebit_ensemble_is_the_normalised_mean_of_its_members() -> None:
    from posebrowser.nets.posebit_net import PosebitEnsemble

    torch.manual_seed(0)
    ensemble = PosebitEnsemble(num_bits=11, members=3, hidden=32, hidden2=16).eval()
    bits = torch.randint(0, 2, (5, 11)).float()
    with torch.no_grad():
        members = [member(bits) for member in ensemble.members]
        expected = torch.nn.functional.normalize(sum(members) / 3, dim=1)
        torch.testing.assert_close(ensemble(bits), expected)
        assert not torch.allclose(members[0], members[1])  # the members differ
        single = PosebitEnsemble(num_bits=11, members=1, hidden=32, hidden2=16).eval()
        torch.testing.assert_close(single(bits), single.members[0](bits))
    with pytest.raises(ValueError, match="at least one member"):
        PosebitEnsemble(num_bits=11, members=0)
