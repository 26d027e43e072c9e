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

**Depth head** (``depth_head=True``): each joint also gets a depth relative to the pelvis, in the
landmarks' units (``f · (Z_j − Z_pelvis) / Z_pelvis`` in normalised image coordinates: 2.5-D integral
regression) — a 3 × 3 conv + BatchNorm + ReLU and a 1 × 1 conv on the decoder's last features give one
depth map per joint, read at that joint's own soft-max heat map. From 2-D alone a limb pointing at the
camera and one pointing away look the same; the depth says which.

**Keypoint lifter.** Martinez et al.'s residual MLP (2017): the 16 landmarks made translation- and
scale-free (:func:`landmark_features`: pelvis-centred, y up, unit RMS radius; 32 numbers; with the depth
head also the 16 depths divided by the same radius, 48 numbers) → ``hidden`` → two residual blocks of two
``Linear + BatchNorm + ReLU + Dropout`` → 128 → L2. It is trained to land where the joints net puts the
image's *true* 3-D pose, so its rows live in the joints net's space and the fused model carries them into
the CNN's space with the joints net's map.

Input: ``(N, 3, 160, 160)`` float32 RGB in [−1, 1]
(:func:`~posebrowser.nets.preprocessing.lite_preprocessing`).
Output: ``(N, 128)`` float32 unit rows; :meth:`KeypointReader.landmarks` gives the landmarks themselves
(:meth:`KeypointReader.reading` the landmarks and depths).
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
#: The stride-4 map the refinement reads (the output of stage 1) and the refinement's width.
STRIDE4_STAGES, STRIDE4_CHANNELS, REFINE_WIDTH = 2, 24, 32


def _partner(name: str) -> str:
    for side, other in (("left_", "right_"), ("right_", "left_")):
        if name.startswith(side):
            return other + name[len(side) :]
    return name


#: Each joint's partner on the other side of the body (the skeleton mirrored left to right).
MIRROR: tuple[int, ...] = tuple(JOINT_NAMES.index(_partner(name)) for name in JOINT_NAMES)


def landmark_features_torch(landmarks: torch.Tensor, depths: torch.Tensor | None = None) -> torch.Tensor:
    """``(N, 16, 2)`` image landmarks (any unit, y down) → ``(N, 32)``: pelvis-centred, y up, unit RMS
    radius (translation- and scale-free); with ``(N, 16)`` depths in the landmarks' unit, ``(N, 48)``: the
    depths divided by the same radius appended. Differentiable, on the tensor's device and dtype."""
    centred = (landmarks - landmarks[:, PELVIS : PELVIS + 1]) * landmarks.new_tensor([1.0, -1.0])
    radius = centred.pow(2).sum(-1).mean(-1).sqrt().clamp_min(1e-9)[:, None]
    features = (centred / radius[:, :, None]).flatten(1)
    return features if depths is None else torch.cat([features, depths / radius], dim=1)


def landmark_features(landmarks: ArrayLike, depths: ArrayLike | None = None) -> NDArray[np.float32]:
    """:func:`landmark_features_torch` of NumPy landmarks (and depths), computed in float64, returned as
    float32."""
    points = torch.from_numpy(np.asarray(landmarks, dtype=np.float64))
    depth = None if depths is None else torch.from_numpy(np.asarray(depths, dtype=np.float64))
    return np.asarray(landmark_features_torch(points, depth).numpy(), dtype=np.float32)


def landmark_decoder(width: int) -> nn.Sequential:
    """The decoder of the joined stride-8 and upsampled stride-16 maps: two 3 × 3 conv + BatchNorm + ReLU
    of ``width`` channels, then a 1 × 1 conv to the 16 heat maps."""
    return nn.Sequential(
        nn.Conv2d(FINE_CHANNELS + COARSE_CHANNELS, width, 3, padding=1, bias=False),
        nn.BatchNorm2d(width),
        nn.ReLU(),
        nn.Conv2d(width, width, 3, padding=1, bias=False),
        nn.BatchNorm2d(width),
        nn.ReLU(),
        nn.Conv2d(width, NUM_JOINTS, 1),
    )


def joined_maps(fine: torch.Tensor, coarse: torch.Tensor) -> torch.Tensor:
    """The stride-8 map and the stride-16 map upsampled to its size, concatenated (the decoder's input)."""
    upsampled = F.interpolate(coarse, size=fine.shape[-2:], mode="bilinear", align_corners=False)
    return torch.cat([fine, upsampled], dim=1)


def integral_landmarks(maps: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """``(N, J, H, W)`` heat maps → ``(N, J, 2)`` normalised landmarks (each the soft-max-weighted mean
    pixel centre of its map) and the ``(N, J, H·W)`` soft-max weights."""
    batch, joints, height, width = maps.shape
    flat = maps.flatten(2).softmax(-1)
    weights = flat.reshape(batch, joints, height, width)
    xs = (torch.arange(width, device=maps.device, dtype=maps.dtype) + 0.5) / width * 2 - 1
    ys = (torch.arange(height, device=maps.device, dtype=maps.dtype) + 0.5) / height * 2 - 1
    points = torch.stack([(weights.sum(2) * xs).sum(-1), (weights.sum(3) * ys).sum(-1)], dim=-1)
    return points, flat


class Stride4Refinement(nn.Module):
    """Heat maps at stride 4: the stride-8 maps upsampled plus a correction read off the trunk's stride-4
    map joined with the decoder's last features (reduced to :data:`REFINE_WIDTH` channels and upsampled).
    Its last conv starts at zero, so a refinement added to a trained net starts where the net was."""

    def __init__(self, width: int) -> None:
        super().__init__()
        self.reduce = nn.Sequential(
            nn.Conv2d(width, REFINE_WIDTH, 1, bias=False), nn.BatchNorm2d(REFINE_WIDTH), nn.ReLU()
        )
        self.mix = nn.Sequential(
            nn.Conv2d(STRIDE4_CHANNELS + REFINE_WIDTH, REFINE_WIDTH, 3, padding=1, bias=False),
            nn.BatchNorm2d(REFINE_WIDTH),
            nn.ReLU(),
        )
        self.out = nn.Conv2d(REFINE_WIDTH, NUM_JOINTS, 1)
        for parameter in self.out.parameters():
            nn.init.zeros_(parameter)

    def forward(self, stride4: torch.Tensor, hidden: torch.Tensor, maps: torch.Tensor) -> torch.Tensor:
        size = stride4.shape[-2:]
        reduced = F.interpolate(self.reduce(hidden), size=size, mode="bilinear", align_corners=False)
        correction: torch.Tensor = self.out(self.mix(torch.cat([stride4, reduced], dim=1)))
        upsampled: torch.Tensor = F.interpolate(maps, size=size, mode="bilinear", align_corners=False)
        return upsampled + correction


class KeypointNet(nn.Module):
    """``(N, 3, S, S)`` images in [−1, 1] → ``(N, 16, 2)`` normalised landmarks (see the module doc)."""

    def __init__(self, width: int = 96, depth_head: bool = False, stride4: bool = False) -> None:
        super().__init__()
        from posebrowser.nets.efficientnet import build_trunk

        trunk: Any = build_trunk()
        self.stem = nn.Sequential(trunk.conv_stem, trunk.bn1)
        self.fine = nn.Sequential(*list(trunk.blocks)[:FINE_STAGES])
        self.coarse = nn.Sequential(*list(trunk.blocks)[FINE_STAGES:COARSE_STAGES])
        self.decoder = landmark_decoder(width)
        #: The depth head (see the module doc), or None; its last conv starts at zero (depth 0 everywhere).
        self.depth: nn.Sequential | None = None
        if depth_head:
            last = nn.Conv2d(width, NUM_JOINTS, 1)
            for parameter in last.parameters():
                nn.init.zeros_(parameter)
            self.depth = nn.Sequential(
                nn.Conv2d(width, width, 3, padding=1, bias=False), nn.BatchNorm2d(width), nn.ReLU(), last
            )
        #: The stride-4 refinement of the landmarks' heat maps (:class:`Stride4Refinement`), or None.
        self.refine: Stride4Refinement | None = Stride4Refinement(width) if stride4 else None

    def load_trunk(self, trunk: Any) -> None:
        """Copy the stem and stages 0–4 of a timm Lite0 trunk (e.g. the shipped image net's)."""
        self.stem.load_state_dict(nn.Sequential(trunk.conv_stem, trunk.bn1).state_dict())
        self.fine.load_state_dict(nn.Sequential(*list(trunk.blocks)[:FINE_STAGES]).state_dict())
        self.coarse.load_state_dict(nn.Sequential(*list(trunk.blocks)[FINE_STAGES:COARSE_STAGES]).state_dict())

    def read(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor | None]:
        """``(N, 16, 2)`` landmarks and ``(N, 16)`` depths (None without the depth head)."""
        stride4 = self.fine[:STRIDE4_STAGES](self.stem(x))
        fine = self.fine[STRIDE4_STAGES:](stride4)
        hidden = self.decoder[:-1](joined_maps(fine, self.coarse(fine)))
        maps = self.decoder[-1](hidden)
        points, flat = integral_landmarks(maps)
        depths = None if self.depth is None else (flat * self.depth(hidden).flatten(2)).sum(-1)
        if self.refine is not None:  # the depths stay read at the stride-8 maps
            points, _ = integral_landmarks(self.refine(stride4, hidden, maps))
        return points, depths

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.read(x)[0]


class KeypointLifter(nn.Module):
    """``(N, 32)`` landmark features (``(N, 48)`` with depths) → ``(N, D)`` unit rows (see the module
    doc)."""

    def __init__(self, hidden: int = 1024, blocks: int = 2, dropout: float = 0.2, embedding_dim: int = 128,
                 inputs: int = 2 * NUM_JOINTS) -> None:
        super().__init__()
        self.first = nn.Linear(inputs, hidden)
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
        depth_head: bool = False,
        stride4: bool = False,
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
        if depth_head:  # only then, so the cards of readers without it stay as they were
            self.config["depth_head"] = True
        if stride4:  # likewise
            self.config["stride4"] = True
        self.keypoints = KeypointNet(int(width), bool(depth_head), bool(stride4))
        inputs = 3 * NUM_JOINTS if depth_head else 2 * NUM_JOINTS
        self.lifter = KeypointLifter(int(hidden), int(blocks), float(dropout), int(embedding_dim), inputs)
        #: Also read each image mirrored and average the landmarks (an image net's ``mirror_view`` instead
        #: wraps the whole net and averages its rows).
        self.mirrored_landmarks = bool(mirrored_landmarks)
        #: The joints model whose space the rows live in (the lifter's training targets).
        self.joints_model = str(joints_model)

    def reading(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor | None]:
        """``(N, 16, 2)`` normalised landmarks and ``(N, 16)`` depths (None without the depth head) of the
        images, averaged with the mirrored view's (mirrored back, sides swapped; a mirror keeps depths)."""
        points, depths = self.keypoints.read(x)
        if self.mirrored_landmarks:
            mirrored, mirrored_depths = self.keypoints.read(torch.flip(x, dims=[3]))
            points = (points + mirrored[:, list(MIRROR)] * mirrored.new_tensor([-1.0, 1.0])) / 2
            if depths is not None and mirrored_depths is not None:
                depths = (depths + mirrored_depths[:, list(MIRROR)]) / 2
        return points, depths

    def landmarks(self, x: torch.Tensor) -> torch.Tensor:
        """``(N, 16, 2)`` normalised landmarks of the images (averaged with the mirrored view's)."""
        return self.reading(x)[0]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        rows: torch.Tensor = self.lifter(landmark_features_torch(*self.reading(x)))
        return rows
