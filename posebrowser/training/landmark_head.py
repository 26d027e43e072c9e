"""A landmark head for image-net training: the keypoint net's decoder on the image net's own trunk maps.

The image net's embedding is a global pool of its last trunk map, which keeps *what* fired but not *where*.
This head (training only, discarded after it, like the other auxiliary heads) asks the trunk to keep where
each body joint is: it joins the trunk's stride-8 map (the output of stage 2) with its stride-16 map (the
output of stage 4, upsampled), decodes them into 16 heat maps with the keypoint reader's decoder
(:func:`posebrowser.nets.keypoint_reader.landmark_decoder`) and reads each joint's landmark by integral
regression; the loss is the L1 distance to the exact 2-D landmarks, in pixels of the stored image — the
keypoint net's own loss, so weight 1 gives the trunk the gradients the keypoint trainer gives it.

The landmarks follow each image's augmentation: the jittered crop window
(:func:`posebrowser.training.batch_inputs.augmented_inputs_and_crops`) and, in a mirrored batch, the mirror
with the sides swapped. The maps are read through forward hooks, so the net's ``forward`` is unchanged.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from numpy.typing import NDArray
from torch import Tensor, nn

from posebrowser.nets.keypoint_reader import (
    COARSE_STAGES,
    FINE_STAGES,
    MIRROR,
    integral_landmarks,
    joined_maps,
    landmark_decoder,
)
from posebrowser.training.aux_heads import FeatureTap
from posebrowser.training.keypoint_trainer import normalised

DECODER_WIDTH = 96


def crop_landmarks(
    pixels: NDArray[np.floating], crops: NDArray[np.integer], side: int, mirrored: bool
) -> NDArray[np.float32]:
    """``(B, 16, 2)`` landmarks in pixel-index coordinates of ``side`` px stored images → normalised
    coordinates ([−1, 1], pixel centres at ``(i + 0.5) / n · 2 − 1``) of the augmented input: the crop
    window grown by ``scale`` px per side and shifted by ``(shift_x, shift_y)`` (``crops`` rows), then, when
    ``mirrored``, mirrored left to right with the sides swapped."""
    scale, shift = crops[:, 0:1].astype(np.float32), crops[:, 1:3].astype(np.float32)
    origin = shift - scale  # the window's top-left corner in the stored image
    points = normalised(np.asarray(pixels, np.float32) - origin[:, None], (side + 2 * scale)[:, None])
    if mirrored:
        points = points[:, list(MIRROR)] * np.array([-1.0, 1.0], np.float32)
    return points.astype(np.float32)


class LandmarkHead:
    """The decoder on an image net's trunk maps (see the module doc), its loss weight and its targets."""

    def __init__(
        self, net: nn.Module, joints_2d: NDArray[np.floating], side: int, weight: float, device: torch.device
    ) -> None:
        trunk: Any = getattr(net, "trunk", None)
        blocks = getattr(trunk, "blocks", None)
        if blocks is None or len(blocks) < COARSE_STAGES:
            raise ValueError(f"{type(net).__name__} has no EfficientNet trunk to read landmark maps from")
        self.weight = float(weight)
        self.side = int(side)
        self.pixels = np.asarray(joints_2d, np.float32)
        self.known: NDArray[np.bool_] = np.asarray(np.isfinite(self.pixels).all(axis=(1, 2)), dtype=bool)
        generator_state = torch.random.get_rng_state()
        self.decoder = landmark_decoder(DECODER_WIDTH).to(device)
        torch.random.set_rng_state(generator_state)  # the net's batches stay as without the head
        self.fine = FeatureTap(blocks[FINE_STAGES - 1], output=True)
        self.coarse = FeatureTap(blocks[COARSE_STAGES - 1], output=True)
        self.device = device

    def loss(self, rows: NDArray[np.int64], crops: NDArray[np.integer], mirrored: bool) -> Tensor:
        """Mean L1 distance (stored-image pixels) of the decoded landmarks of the last forward pass to the
        exact ones of ``rows``, placed by each image's crop window and the batch's mirror."""
        maps = self.decoder(joined_maps(self.fine.take(), self.coarse.take()).float())
        points, _ = integral_landmarks(maps)
        known = torch.from_numpy(self.known[rows]).to(self.device)
        if not bool(known.any()):
            return points.sum() * 0.0
        targets = crop_landmarks(np.nan_to_num(self.pixels[rows]), crops, self.side, mirrored)
        error = (points - torch.from_numpy(targets).to(self.device)).abs()[known]
        return error.mean() * (self.side / 2)

    def remove(self) -> None:
        self.fine.remove()
        self.coarse.remove()
