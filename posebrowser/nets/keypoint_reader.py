"""KeypointReader: an image → its 16 image landmarks (a keypoint net) → lifted into the joints net's space
(a keypoint lifter): a third reader of each image for the fused image model.

**Keypoint net.** The stem and stages 0–4 of timm's ``tf_efficientnet_lite0`` (the shipped image net's
own trunk at the start of training), a decoder that joins the stride-16 map (112 channels), upsampled, with
the stride-8 map (40 channels) — two 3 × 3 conv + BatchNorm + ReLU of ``width`` channels and a 1 × 1 conv to
16 heat maps — and *integral regression* (Sun et al. 2018): each joint's landmark is the softmax-weighted
mean position over its heat map, so a 20 × 20 map at 160 px gives sub-pixel landmarks and the whole net
trains with a plain L1 loss on the coordinates. Landmarks are in normalised image coordinates ([−1, 1],
x right, y down, pixel centres at ``(i + 0.5) / n · 2 − 1``). With ``mirrored_landmarks`` the image is also
read mirrored left to right and that reading, mirrored back with the sides swapped, is averaged in.

**Keypoint lifter.** Martinez et al.'s residual MLP (2017): the 16 landmarks made translation- and
scale-free (:func:`landmark_features`: pelvis-centred, y up, unit RMS radius; 32 numbers) → ``hidden`` →
two residual blocks of two ``Linear + BatchNorm + ReLU + Dropout`` → 128 → L2. It is trained to land where
the joints net puts the image's *true* 3-D pose, so its rows live in the joints net's space and the fused
model carries them into the CNN's space with the joints net's map.

Input: ``(N, 3, 160, 160)`` float32 RGB in [−1, 1]
(:func:`~posebrowser.nets.preprocessing.lite_preprocessing`).
Output: ``(N, 128)`` float32 unit rows; :meth:`KeypointReader.landmarks` gives the landmarks themselves.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from numpy.typing import ArrayLike, NDArray
from torch import nn

from posebrowser.pose.skeleton import JOINT_NAMES, NUM_JOINTS, PELVIS

#: Trunk stages the keypoint net keeps: up to stride 8 (40 channels), then up to stride 16 (112 channels).
FINE_STAGES, COARSE_STAGES = 3, 5
FINE_CHANNELS, COARSE_CHANNELS = 40, 112


def _partner(name: str) -> str:
    for side, other in (("left_", "right_"), ("right_", "left_")):
        if name.startswith(side):
            return other + name[len(side) :]
    return name


#: Each joint's partner on the other side of the body (the skeleton mirrored left to right).
MIRROR: tuple[int, ...] = tuple(JOINT_NAMES.index(_partner(name)) for name in JOINT_NAMES)


def landmark_features_torch(landmarks: torch.Tensor) -> torch.Tensor:
    """``(N, 16, 2)`` image landmarks (any unit, y down) → ``(N, 32)``: pelvis-centred, y up, unit RMS
    radius (translation- and scale-free); differentiable, on the tensor's device and dtype."""
    centred = (landmarks - landmarks[:, PELVIS : PELVIS + 1]) * landmarks.new_tensor([1.0, -1.0])
    radius = centred.pow(2).sum(-1).mean(-1).sqrt().clamp_min(1e-9)[:, None, None]
    return (centred / radius).flatten(1)


def landmark_features(landmarks: ArrayLike) -> NDArray[np.float32]:
    """:func:`landmark_features_torch` of NumPy landmarks, computed in float64, returned as float32."""
    points = torch.from_numpy(np.asarray(landmarks, dtype=np.float64))
    return np.asarray(landmark_features_torch(points).numpy(), dtype=np.float32)


class KeypointNet(nn.Module):
    """``(N, 3, S, S)`` images in [−1, 1] → ``(N, 16, 2)`` normalised landmarks (see the module doc)."""

    def __init__(self, width: int = 96) -> None:
        super().__init__()
        from posebrowser.nets.efficientnet import build_trunk

        trunk: Any = build_trunk()
        self.stem = nn.Sequential(trunk.conv_stem, trunk.bn1)
        self.fine = nn.Sequential(*list(trunk.blocks)[:FINE_STAGES])
        self.coarse = nn.Sequential(*list(trunk.blocks)[FINE_STAGES:COARSE_STAGES])
        self.decoder = nn.Sequential(
            nn.Conv2d(FINE_CHANNELS + COARSE_CHANNELS, width, 3, padding=1, bias=False),
            nn.BatchNorm2d(width),
            nn.ReLU(),
            nn.Conv2d(width, width, 3, padding=1, bias=False),
            nn.BatchNorm2d(width),
            nn.ReLU(),
            nn.Conv2d(width, NUM_JOINTS, 1),
        )

    def load_trunk(self, trunk: Any) -> None:
        """Copy the stem and stages 0–4 of a timm Lite0 trunk (e.g. the shipped image net's)."""
        self.stem.load_state_dict(nn.Sequential(trunk.conv_stem, trunk.bn1).state_dict())
        self.fine.load_state_dict(nn.Sequential(*list(trunk.blocks)[:FINE_STAGES]).state_dict())
        self.coarse.load_state_dict(nn.Sequential(*list(trunk.blocks)[FINE_STAGES:COARSE_STAGES]).state_dict())

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        fine = self.fine(self.stem(x))
        coarse = F.interpolate(self.coarse(fine), size=fine.shape[-2:], mode="bilinear", align_corners=False)
        maps = self.decoder(torch.cat([fine, coarse], dim=1))
        batch, joints, height, width = maps.shape
        weights = maps.flatten(2).softmax(-1).reshape(batch, joints, height, width)
        xs = (torch.arange(width, device=maps.device, dtype=maps.dtype) + 0.5) / width * 2 - 1
        ys = (torch.arange(height, device=maps.device, dtype=maps.dtype) + 0.5) / height * 2 - 1
        return torch.stack([(weights.sum(2) * xs).sum(-1), (weights.sum(3) * ys).sum(-1)], dim=-1)


class KeypointLifter(nn.Module):
    """``(N, 32)`` landmark features → ``(N, D)`` unit rows (see the module doc)."""

    def __init__(self, hidden: int = 1024, blocks: int = 2, dropout: float = 0.2, embedding_dim: int = 128
                 ) -> None:
        super().__init__()
        self.first = nn.Linear(2 * NUM_JOINTS, hidden)
        self.blocks = nn.ModuleList(
            nn.Sequential(*[
                part
                for _ in range(2)
                for part in (
                    nn.Linear(hidden, hidden), nn.BatchNorm1d(hidden), nn.ReLU(), nn.Dropout(dropout)
                )
            ])
            for _ in range(blocks)
        )
        self.head = nn.Linear(hidden, embedding_dim)

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        hidden = F.relu(self.first(features))
        for block in self.blocks:
            hidden = hidden + block(hidden)
        return F.normalize(self.head(hidden), dim=1)


class KeypointReader(nn.Module):
    """Images → landmarks (:class:`KeypointNet`, with the mirrored view) → :class:`KeypointLifter` → unit
    rows in the joints net's space (see the module doc)."""

    def __init__(
        self,
        width: int = 96,
        hidden: int = 1024,
        blocks: int = 2,
        dropout: float = 0.2,
        embedding_dim: int = 128,
        mirrored_landmarks: bool = True,
        joints_model: str = "joints_net",
    ) -> None:
        super().__init__()
        self.config: dict[str, Any] = {
            "width": int(width),
            "hidden": int(hidden),
            "blocks": int(blocks),
            "dropout": float(dropout),
            "embedding_dim": int(embedding_dim),
            "mirrored_landmarks": bool(mirrored_landmarks),
            "joints_model": str(joints_model),
        }
        self.keypoints = KeypointNet(int(width))
        self.lifter = KeypointLifter(int(hidden), int(blocks), float(dropout), int(embedding_dim))
        #: Also read each image mirrored and average the landmarks (an image net's ``mirror_view`` instead
        #: wraps the whole net and averages its rows).
        self.mirrored_landmarks = bool(mirrored_landmarks)
        #: The joints model whose space the rows live in (the lifter's training targets).
        self.joints_model = str(joints_model)

    def landmarks(self, x: torch.Tensor) -> torch.Tensor:
        """``(N, 16, 2)`` normalised landmarks of the images (averaged with the mirrored view's)."""
        points: torch.Tensor = self.keypoints(x)
        if self.mirrored_landmarks:
            mirrored = self.keypoints(torch.flip(x, dims=[3]))[:, list(MIRROR)]
            points = (points + mirrored * mirrored.new_tensor([-1.0, 1.0])) / 2
        return points

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        rows: torch.Tensor = self.lifter(landmark_features_torch(self.landmarks(x)))
        return rows
