"""PosebitNet: maps a posebyte (N, B) to the image embedding space (the thesis' "language" net).

Layers ``fc1`` (B→hidden, ReLU, dropout), ``fc2`` (hidden→hidden2, ReLU, dropout), ``fc3``
(hidden2→128), then L2 norm. The thesis uses hidden=4608 and hidden2=2048 and initialises fc2/fc3 from
the Hamming image net's fc6/fc7.
"""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F
from torch import nn


class PosebitNet(nn.Module):
    """(N, B) float posebits (0/1, or completed/soft values in [0, 1]) → (N, 128) unit-norm."""

    def __init__(
        self,
        num_bits: int,
        hidden: int = 4608,
        hidden2: int = 2048,
        embedding_dim: int = 128,
        dropout: float = 0.5,
    ) -> None:
        super().__init__()
        if num_bits < 1:
            raise ValueError(f"num_bits must be positive, not {num_bits}")
        self.num_bits = num_bits
        self.fc1 = nn.Linear(num_bits, hidden)
        self.fc2 = nn.Linear(hidden, hidden2)
        self.fc3 = nn.Linear(hidden2, embedding_dim)
        self.dropout = nn.Dropout(dropout)

    def forward(self, bits: torch.Tensor) -> torch.Tensor:
        """(N, B) float32 → (N, embedding_dim) float32, L2-normalised."""
        x = self.dropout(F.relu(self.fc1(bits)))
        x = self.dropout(F.relu(self.fc2(x)))
        return F.normalize(self.fc3(x), dim=1)


class PosebitEnsemble(nn.Module):
    """Several :class:`PosebitNet` of one shape, trained alone with different seeds: the L2-normalised
    mean of their unit outputs (averaging the members smooths the seed-to-seed noise of one net)."""

    def __init__(self, num_bits: int, members: int = 4, **member_config: Any) -> None:
        """``member_config``: :class:`PosebitNet`'s other arguments, shared by every member."""
        super().__init__()
        if members < 1:
            raise ValueError(f"an ensemble needs at least one member, not {members}")
        self.num_bits = num_bits
        self.members = nn.ModuleList(PosebitNet(num_bits, **member_config) for _ in range(members))

    def forward(self, bits: torch.Tensor) -> torch.Tensor:
        """(N, B) float32 → (N, embedding_dim) float32, L2-normalised."""
        outputs = torch.stack([member(bits) for member in self.members])
        return F.normalize(outputs.mean(dim=0), dim=1)
