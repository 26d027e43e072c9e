"""Triplet miners (PyTorch-Metric-Learning style).

Every miner has ``mine(embeddings, positive, negative) -> (anchor, pos, neg)``:

* ``embeddings`` (B, D) float, unit-norm rows (the net's output for the batch);
* ``positive`` / ``negative`` (B, B) bool: which batch items count as positives / negatives of each
  anchor under the ground-truth metric (build them with :func:`masks_from_distances`). The diagonal is
  never a positive or a negative.
* result: three (T,) int64 tensors of batch indices on the embeddings' device.

Miners never back-propagate through their selection (they work on detached distances).
"""

from __future__ import annotations

import torch
from torch import Tensor

from posebrowser.training.losses import Triplets


def masks_from_distances(gt: Tensor, radius: Tensor) -> tuple[Tensor, Tensor]:
    """Positive / negative masks (B, B) bool from a ground-truth distance block.

    ``gt`` (B, B) float ground-truth distances between batch items; ``radius`` (B,) float: item j is a
    positive of anchor i when ``gt[i, j] ≤ radius[i]`` and a negative when ``gt[i, j] > radius[i]``.
    Ties at the radius are therefore always positives, never both. The diagonal is excluded from both.
    """
    eye = torch.eye(gt.shape[0], dtype=torch.bool, device=gt.device)
    positive = (gt <= radius[:, None]) & ~eye
    negative = (gt > radius[:, None]) & ~eye
    return positive, negative


def _empty(device: torch.device) -> Triplets:
    empty = torch.zeros(0, dtype=torch.int64, device=device)
    return empty, empty.clone(), empty.clone()


def _all_triplets(positive: Tensor, negative: Tensor) -> Triplets:
    valid = positive[:, :, None] & negative[:, None, :]
    anchor, pos, neg = torch.nonzero(valid, as_tuple=True)
    return anchor, pos, neg


class ThinSlicingMiner:
    """All (anchor, positive, negative) triplets of the anchors in ``anchors`` (default: item 0).

    With a thin-slicing batch (anchor, 5 near, 105 far; see
    :class:`posebrowser.training.sampling.ThinSlicingSampler`) this gives the thesis' 525 triplets.
    """

    def __init__(self, anchors: tuple[int, ...] = (0,)) -> None:
        self.anchors = anchors

    def mine(self, embeddings: Tensor, positive: Tensor, negative: Tensor) -> Triplets:
        keep = torch.zeros(positive.shape[0], dtype=torch.bool, device=positive.device)
        keep[list(self.anchors)] = True
        return _all_triplets(positive & keep[:, None], negative & keep[:, None])


class BatchHardMiner:
    """For each anchor with ≥1 positive and ≥1 negative: its farthest positive and its nearest negative
    (Hermans et al. 2017). Yields at most B triplets."""

    def mine(self, embeddings: Tensor, positive: Tensor, negative: Tensor) -> Triplets:
        distances = torch.cdist(embeddings.detach().float(), embeddings.detach().float())
        usable = positive.any(dim=1) & negative.any(dim=1)
        if not bool(usable.any()):
            return _empty(embeddings.device)
        hardest_pos = torch.where(positive, distances, torch.full_like(distances, -1.0)).argmax(dim=1)
        hardest_neg = torch.where(negative, distances, torch.full_like(distances, float("inf"))).argmin(dim=1)
        anchor = torch.nonzero(usable, as_tuple=True)[0]
        return anchor, hardest_pos[anchor], hardest_neg[anchor]


class BatchAllMiner:
    """All valid triplets whose triplet loss is positive: ``d(a,p) − d(a,n) + margin > 0``."""

    def __init__(self, margin: float = 0.2) -> None:
        self.margin = margin

    def mine(self, embeddings: Tensor, positive: Tensor, negative: Tensor) -> Triplets:
        distances = torch.cdist(embeddings.detach().float(), embeddings.detach().float())
        anchor, pos, neg = _all_triplets(positive, negative)
        violating = distances[anchor, pos] - distances[anchor, neg] + self.margin > 0
        return anchor[violating], pos[violating], neg[violating]


class DistanceWeightedMiner:
    """Distance-weighted negative sampling (Wu, Manmatha, Smola & Krähenbühl 2017).

    For every (anchor, positive) pair one negative is drawn with probability ∝ 1 / q(d), where
    ``q(d) ∝ d^(D−2) (1 − d²/4)^((D−3)/2)`` is the density of pairwise distances of uniform points on the
    unit sphere in D dimensions; d is clamped below at ``cutoff`` and negatives at ``d ≥
    nonzero_loss_cutoff`` get weight 0. If an anchor has no weighted negative, a uniform one is used.
    ``generator`` (a CPU torch.Generator) makes sampling reproducible.
    """

    def __init__(
        self, cutoff: float = 0.5, nonzero_loss_cutoff: float = 1.4, generator: torch.Generator | None = None
    ) -> None:
        self.cutoff = cutoff
        self.nonzero_loss_cutoff = nonzero_loss_cutoff
        self.generator = generator

    def negative_weights(self, embeddings: Tensor, negative: Tensor) -> Tensor:
        """Unnormalised sampling weights (B, B) float64 of each negative per anchor (0 for non-negatives)."""
        dim = embeddings.shape[1]
        distances = torch.cdist(embeddings.detach().double(), embeddings.detach().double())
        clamped = distances.clamp(min=self.cutoff, max=2.0 - 1e-6)
        log_weight = (2.0 - dim) * torch.log(clamped) - (dim - 3.0) / 2.0 * torch.log(1.0 - 0.25 * clamped**2)
        allowed = negative & (distances < self.nonzero_loss_cutoff)
        log_weight = torch.where(allowed, log_weight, torch.full_like(log_weight, float("-inf")))
        row_max = log_weight.max(dim=1, keepdim=True).values
        row_max = torch.where(torch.isfinite(row_max), row_max, torch.zeros_like(row_max))
        return torch.exp(log_weight - row_max)

    def mine(self, embeddings: Tensor, positive: Tensor, negative: Tensor) -> Triplets:
        weights = self.negative_weights(embeddings, negative).cpu()
        fallback = negative.cpu().double()
        weights = torch.where(weights.sum(dim=1, keepdim=True) > 0, weights, fallback)
        anchor, pos = torch.nonzero(positive.cpu() & negative.cpu().any(dim=1)[:, None], as_tuple=True)
        if anchor.numel() == 0:
            return _empty(embeddings.device)
        neg = torch.multinomial(weights[anchor], 1, generator=self.generator).squeeze(1)
        device = embeddings.device
        return anchor.to(device), pos.to(device), neg.to(device)


MINERS = ("thin-slicing", "batch-hard", "batch-all", "distance-weighted")


def build_miner(
    name: str, margin: float = 0.2, generator: torch.Generator | None = None
) -> ThinSlicingMiner | BatchHardMiner | BatchAllMiner | DistanceWeightedMiner:
    """Miner by CLI name (one of :data:`MINERS`)."""
    if name == "thin-slicing":
        return ThinSlicingMiner()
    if name == "batch-hard":
        return BatchHardMiner()
    if name == "batch-all":
        return BatchAllMiner(margin)
    if name == "distance-weighted":
        return DistanceWeightedMiner(generator=generator)
    raise ValueError(f"Unknown miner {name!r}; choose one of {', '.join(MINERS)}.")
