"""The thesis image embedding net (VGG-S trunk + fc6/fc7 head) with its LRN layer.

Input: (N, 3, 112, 112) float32, **BGR**, mean-subtracted 0–255 values, no std scaling (see
:func:`posebrowser.nets.preprocessing.thesis_preprocessing`). Output: (N, 128) float32, L2-normalised
(``z / ‖z‖₂`` without epsilon, as the thesis).
"""

from __future__ import annotations

from typing import Literal

import torch
import torch.nn.functional as F
from torch import nn

LrnVariant = Literal["standard", "thesis"]

LRN_SIZE = 5
LRN_ALPHA = 5e-4
LRN_BETA = 0.75
LRN_K = 2.0


class ThesisLocalResponseNorm(nn.Module):
    """Cross-channel LRN ``y_c = x_c · (k + (α/n)·S_c)^(−β)`` over a 5-channel window.

    With ``emulate_off_by_one=True`` the legacy running-sum bug of the thesis' LRN is reproduced:
    channel 0's square is never subtracted, so ``S_c`` gains ``x₀²`` for every channel ``c ≥ 3``.
    With ``False`` it equals ``torch.nn.LocalResponseNorm(5, 5e-4, 0.75, 2)``.
    """

    def __init__(
        self,
        size: int = LRN_SIZE,
        alpha: float = LRN_ALPHA,
        beta: float = LRN_BETA,
        k: float = LRN_K,
        *,
        emulate_off_by_one: bool = True,
    ) -> None:
        super().__init__()
        self.size = size
        self.alpha = alpha
        self.beta = beta
        self.k = k
        self.emulate_off_by_one = emulate_off_by_one

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Normalise (N, C, H, W) activations across channels; returns the same shape."""
        squares = x * x
        channels = x.shape[1]
        before = self.size // 2
        after = (self.size - 1) // 2
        padded = F.pad(squares, (0, 0, 0, 0, before, after))
        window_sum = padded[:, 0:channels]
        for offset in range(1, self.size):
            window_sum = window_sum + padded[:, offset : offset + channels]
        pre_pad = (self.size - 1) // 2 + 1
        if self.emulate_off_by_one and channels > pre_pad:
            leak = torch.zeros_like(window_sum)
            leak[:, pre_pad:] = squares[:, 0:1]
            window_sum = window_sum + leak
        scale = self.k + (self.alpha / self.size) * window_sum
        return x * scale.pow(-self.beta)

    def extra_repr(self) -> str:
        return (
            f"size={self.size}, alpha={self.alpha}, beta={self.beta}, k={self.k}, "
            f"emulate_off_by_one={self.emulate_off_by_one}"
        )


class ThesisImageNet(nn.Module):
    """VGG-S conv1–conv5 trunk, fc6 (4608→2048, ReLU, dropout 0.5), fc7 (2048→128), L2 norm.

    Module names match the thesis state_dict keys exactly (14 keys, 16,230,144 parameters).
    ``lrn="thesis"`` reproduces the released embeddings (off-by-one LRN); ``"standard"`` is the
    Caffe/torch LRN for new training. Input must be 112×112 so that pool5 flattens to 4608.
    """

    def __init__(self, lrn: LrnVariant = "thesis", embedding_dim: int = 128, dropout: float = 0.5) -> None:
        super().__init__()
        if lrn not in ("standard", "thesis"):
            raise ValueError(f"lrn must be 'standard' or 'thesis', not {lrn!r}")
        self.lrn_variant: LrnVariant = lrn
        self.conv1 = nn.Conv2d(3, 96, kernel_size=7, stride=2)
        self.lrn: nn.Module = (
            nn.LocalResponseNorm(LRN_SIZE, LRN_ALPHA, LRN_BETA, LRN_K)
            if lrn == "standard"
            else ThesisLocalResponseNorm(emulate_off_by_one=True)
        )
        self.pool1 = nn.MaxPool2d(3, stride=3, ceil_mode=True)
        self.conv2 = nn.Conv2d(96, 256, kernel_size=5, stride=1)
        self.pool2 = nn.MaxPool2d(2, stride=2, ceil_mode=True)
        self.conv3 = nn.Conv2d(256, 512, kernel_size=3, padding=1)
        self.conv4 = nn.Conv2d(512, 512, kernel_size=3, padding=1)
        self.conv5 = nn.Conv2d(512, 512, kernel_size=3, padding=1)
        self.pool5 = nn.MaxPool2d(3, stride=3, ceil_mode=True)
        self.fc6 = nn.Linear(512 * 3 * 3, 2048)
        self.dropout = nn.Dropout(dropout)
        self.fc7 = nn.Linear(2048, embedding_dim)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """(N, 3, 112, 112) → flattened pool5 (N, 4608) in C,H,W order."""
        x = self.pool1(self.lrn(F.relu(self.conv1(x))))
        x = self.pool2(F.relu(self.conv2(x)))
        x = F.relu(self.conv3(x))
        x = F.relu(self.conv4(x))
        x = self.pool5(F.relu(self.conv5(x)))
        return x.contiguous().flatten(1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(N, 3, 112, 112) BGR mean-subtracted → (N, 128) unit-norm embeddings."""
        z: torch.Tensor = self.fc7(self.dropout(F.relu(self.fc6(self.features(x)))))
        normalised: torch.Tensor = z / z.norm(dim=1, keepdim=True)  # no epsilon, as the thesis
        return normalised
