"""EmbeddingMask: an element-wise learned weighting of the embedding space (the thesis' mask layer)."""

from __future__ import annotations

import torch
from torch import nn


class EmbeddingMask(nn.Module):
    """``forward(x) = x ⊙ mask`` for x of shape (N, dim); ``mask`` (dim,) float32 starts at ones.

    The mask is unconstrained (it may go negative or above 1), as in the thesis.
    """

    def __init__(self, dim: int = 128) -> None:
        super().__init__()
        self.mask = nn.Parameter(torch.ones(dim))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(N, dim) → (N, dim); not re-normalised."""
        return x * self.mask
