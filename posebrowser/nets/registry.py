"""Registry of the network architectures posebrowser can build from a model card.

``NETS`` maps a name to a frozen :class:`NetSpec`; :func:`build_net` builds one with a config dict.
This module imports torch only inside the build functions, so reading the registry is cheap.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, Literal

from posebrowser.errors import CheckpointError
from posebrowser.nets.preprocessing import (
    Preprocessing,
    compact_preprocessing,
    lite_preprocessing,
    thesis_preprocessing,
)

if TYPE_CHECKING:
    from torch import nn

NetKind = Literal["image", "posebit", "mask", "joints", "fusion"]


@dataclass(frozen=True)
class NetSpec:
    """One buildable architecture.

    ``build(**config)`` returns a freshly initialised ``nn.Module``; ``preprocessing`` (image nets only)
    gives the input pipeline the weights expect; ``default_config`` documents the accepted keys. ``kind``
    is what the module takes: images, posebytes, embeddings (masks), 3-D joints (``joints``: its model
    card says ``image``, because the app feeds it images through the pose estimator) or an image's CNN and
    joints-net rows (``fusion``: its card says ``image`` too, the fused image model).
    """

    name: str
    kind: NetKind
    build: Callable[..., nn.Module]
    description: str
    default_config: Mapping[str, Any]
    preprocessing: Callable[..., Preprocessing] | None = None
    fixed_input_size: bool = False  # its preprocessing takes no size: its layers are sized for one input


def _build_thesis_vggs(**config: Any) -> nn.Module:
    from posebrowser.nets.thesis_vggs import ThesisImageNet

    return ThesisImageNet(**config)


def _build_compact(**config: Any) -> nn.Module:
    from posebrowser.nets.compact import CompactImageNet

    return CompactImageNet(**config)


def _build_lite(**config: Any) -> nn.Module:
    from posebrowser.nets.efficientnet import LiteImageNet

    return LiteImageNet(**config)


def _build_posebit(**config: Any) -> nn.Module:
    from posebrowser.nets.posebit_net import PosebitNet

    return PosebitNet(**config)


def _build_posebit_ensemble(**config: Any) -> nn.Module:
    from posebrowser.nets.posebit_net import PosebitEnsemble

    return PosebitEnsemble(**config)


def _build_joints(**config: Any) -> nn.Module:
    from posebrowser.nets.joints_net import JointsNet

    return JointsNet(**config)


def _build_fusion(**config: Any) -> nn.Module:
    from posebrowser.nets.fusion import EstimatorFusion

    return EstimatorFusion(**config)


def _build_keypoint_reader(**config: Any) -> nn.Module:
    from posebrowser.nets.keypoint_reader import KeypointReader

    return KeypointReader(**config)


def _build_mask(**config: Any) -> nn.Module:
    from posebrowser.nets.mask import EmbeddingMask

    return EmbeddingMask(**config)


DEFAULT_IMAGE_NET = "efficientnet_lite0"

NETS: Mapping[str, NetSpec] = MappingProxyType(
    {
        "efficientnet_lite0": NetSpec(
            name="efficientnet_lite0",
            kind="image",
            build=_build_lite,
            description="timm EfficientNet-Lite0, ImageNet-initialised; GAP → 128 → L2 (default).",
            default_config=MappingProxyType({"embedding_dim": 128, "drop_rate": 0.0}),
            preprocessing=lite_preprocessing,
        ),
        "compact_resnet": NetSpec(
            name="compact_resnet",
            kind="image",
            build=_build_compact,
            description="Width-scaled ResNet-18 layout, GAP → 128 → L2 (from scratch; fast on CPU).",
            default_config=MappingProxyType({"width": 0.5, "blocks": (2, 2, 2, 2), "embedding_dim": 128}),
            preprocessing=compact_preprocessing,
        ),
        "thesis_vggs": NetSpec(
            name="thesis_vggs",
            kind="image",
            build=_build_thesis_vggs,
            description="The thesis VGG-S trunk + fc6/fc7 head (BGR, mean-subtracted 0–255 input).",
            default_config=MappingProxyType({"lrn": "thesis", "embedding_dim": 128, "dropout": 0.5}),
            preprocessing=thesis_preprocessing,
            fixed_input_size=True,
        ),
        "posebit_mlp": NetSpec(
            name="posebit_mlp",
            kind="posebit",
            build=_build_posebit,
            description="Posebyte (N, B) → fc1/fc2/fc3 → 128 → L2 (the thesis language net).",
            default_config=MappingProxyType(
                {"num_bits": None, "hidden": 4608, "hidden2": 2048, "embedding_dim": 128, "dropout": 0.5}
            ),
        ),
        "posebit_ensemble": NetSpec(
            name="posebit_ensemble",
            kind="posebit",
            build=_build_posebit_ensemble,
            description="Several posebit_mlp nets trained with different seeds; the L2-normalised mean of "
            "their outputs.",
            default_config=MappingProxyType(
                {
                    "num_bits": None,
                    "members": 4,
                    "hidden": 1024,
                    "hidden2": 512,
                    "embedding_dim": 128,
                    "dropout": 0.1,
                }
            ),
        ),
        "joints_mlp": NetSpec(
            name="joints_mlp",
            kind="joints",
            build=_build_joints,
            description="3-D joints (16, 3), pelvis-centred and facing-aligned (or in the torso's axes, "
            "frame 'torso') → MLP → 128 → L2; an image model (card kind 'image') behind the pose estimator.",
            default_config=MappingProxyType(
                {"hidden": 512, "depth": 2, "embedding_dim": 128, "dropout": 0.0, "frame": "facing"}
            ),
        ),
        "estimator_fusion": NetSpec(
            name="estimator_fusion",
            kind="fusion",
            build=_build_fusion,
            description="The image CNN's embedding blended with the pose estimator's (one or more joints "
            "nets, each mapped into the CNN's space by a fitted rotation); an image model (card kind "
            "'image') of several models.",
            default_config=MappingProxyType(
                {
                    "embedding_dim": 128,
                    "weight": 0.3,
                    "image_model": "image_net",
                    "joints_model": "joints_net",
                    "more_joints_models": (),
                    "more_weights": (),
                }
            ),
        ),
        "keypoint_reader": NetSpec(
            name="keypoint_reader",
            kind="image",
            build=_build_keypoint_reader,
            description="Keypoint net (Lite0 stages 0-4 + heat maps, integral regression) → 16 image "
            "landmarks → keypoint lifter MLP → 128 → L2, in the joints net's space; a reader of the fused "
            "image model.",
            default_config=MappingProxyType(
                {"width": 96, "hidden": 1024, "blocks": 2, "dropout": 0.2, "embedding_dim": 128,
                 "mirrored_landmarks": True, "joints_model": "joints_net"}
            ),
            preprocessing=lite_preprocessing,
        ),
        "embedding_mask": NetSpec(
            name="embedding_mask",
            kind="mask",
            build=_build_mask,
            description="Element-wise mask (128,) applied to embeddings.",
            default_config=MappingProxyType({"dim": 128}),
        ),
    }
)


def get_spec(name: str) -> NetSpec:
    """Return the spec called ``name``; raise :class:`CheckpointError` listing known names if absent."""
    try:
        return NETS[name]
    except KeyError:
        known = ", ".join(sorted(NETS))
        raise CheckpointError(
            f"Unknown network architecture {name!r}; known architectures: {known}."
        ) from None


def build_net(name: str, **config: Any) -> nn.Module:
    """Build a freshly initialised network ``name`` with ``config`` (keyword arguments of its class).

    ``mirror_view: true`` in the config (image nets) wraps the net in
    :class:`~posebrowser.nets.mirror_view.MirrorViewNet`. Raises :class:`CheckpointError` for an unknown
    name or a config the class does not accept.
    """
    spec = get_spec(name)
    mirror_view = bool(config.pop("mirror_view", False))
    if mirror_view and spec.kind != "image":
        raise CheckpointError(f"Network {name!r} is not an image net; it cannot read a mirrored view.")
    try:
        net = spec.build(**config)
        if mirror_view:  # the flip test-time view of nets/mirror_view.py
            from posebrowser.nets.mirror_view import MirrorViewNet

            return MirrorViewNet(net, int(config.get("embedding_dim", 128)))
        return net
    except (TypeError, ValueError, RuntimeError, OverflowError, MemoryError) as error:
        raise CheckpointError(f"Network {name!r} cannot be built with config {config!r}: {error}") from error
