"""Batch composition from a ground-truth distance matrix: the thesis' anchor + near + far batches, without
its sampling faults (an anchor written over rank 0 of the argsort, which duplicates or drops an item when
distances tie; positive and negative pools that overrun the split or hold fewer items than asked for —
here every pool is clipped to the split and a short pool gives a smaller batch).

``distances`` is always the (N, N) float32 ground-truth distance matrix of the training split
(2D/3D/Procrustes joint distances or Hamming fractions). Ranks are 1-based positions in the anchor's
row sorted ascending **with the anchor itself removed** (so the anchor can never be duplicated or
dropped, unlike the thesis' "overwrite position 0" trick).

Tie rule (matters for Hamming, where many items share a distance): the positive pool is ranks
1…``pos_rank_max``, but a group of equal distances is never split between positives and negatives.
The boundary moves down to the start of the tied group when that still leaves ``n_pos`` positives,
otherwise up to its end. Every negative is therefore strictly farther than every positive.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

IntArray = NDArray[np.int64]
FloatArray = NDArray[np.float32]


def scaled_pos_rank_max(n_items: int, pos_rank_max: int = 30, n_pos: int = 5) -> int:
    """Positive rank limit for a split of ``n_items``: the thesis' 30, less for small sets (N/8, ≥ n_pos)."""
    return max(1, min(pos_rank_max, max(n_pos, n_items // 8), n_items - 1))


def positive_pool_size(sorted_distances: FloatArray, pos_rank_max: int, n_pos: int) -> int:
    """Tie-aware number of positives among ascending ``sorted_distances`` (anchor excluded); module doc."""
    count = len(sorted_distances)
    boundary = min(pos_rank_max, count)
    if boundary == 0 or boundary == count or sorted_distances[boundary - 1] != sorted_distances[boundary]:
        return boundary
    tied = sorted_distances[boundary - 1]
    start = int(np.searchsorted(sorted_distances, tied, side="left"))
    if start >= min(n_pos, count):
        return start
    return int(np.searchsorted(sorted_distances, tied, side="right"))


def ranked_neighbours(distances_row: FloatArray, anchor: int) -> tuple[IntArray, FloatArray]:
    """Item indices (N−1,) int64 other than ``anchor`` sorted by distance (stable), with their distances."""
    candidates = np.delete(np.arange(len(distances_row), dtype=np.int64), anchor)
    order = candidates[np.argsort(distances_row[candidates], kind="stable")]
    return order, distances_row[order].astype(np.float32)


def neighbour_radii(distances: FloatArray, pos_rank_max: int, n_pos: int) -> FloatArray:
    """Per-item positive radius (N,) float32: the largest distance inside its tie-aware positive pool."""
    radii = np.empty(len(distances), dtype=np.float32)
    for item in range(len(distances)):
        _, sorted_row = ranked_neighbours(distances[item], item)
        size = positive_pool_size(sorted_row, pos_rank_max, n_pos)
        radii[item] = sorted_row[max(size, 1) - 1]
    return radii


@dataclass(frozen=True)
class FarSchedule:
    """Hard-negative curriculum: ``far_max(e) = max(N − step·e, floor)``, both scaled to the split size.

    ``step = round(step_fraction·N)`` and ``floor = pos_rank_max + 1 + max(n_neg, round(floor_fraction·N))``
    (thesis, N_tr ≈ 20k: step 3000 ≈ 0.15·N, floor 1031 ≈ 31 + 0.05·N). The result is capped at N.
    """

    step_fraction: float = 0.15
    floor_fraction: float = 0.05

    def far_max(self, n_items: int, epoch: int, pos_rank_max: int, n_neg: int) -> int:
        step = round(self.step_fraction * n_items)
        floor = pos_rank_max + 1 + max(n_neg, round(self.floor_fraction * n_items))
        return min(n_items, max(n_items - step * epoch, floor))


@dataclass
class Batch:
    """Indices (B,) int64 into the training split plus the positive/negative layout (B, B) bool."""

    indices: IntArray
    positive: NDArray[np.bool_]
    negative: NDArray[np.bool_]


class ThinSlicingSampler:
    """One anchor + ``n_pos`` near (ranks 1…pos_rank_max) + ``n_neg`` far (ranks after the positive pool
    up to ``far_max − 1``) per batch; only row 0 (the anchor) has positives/negatives in the layout."""

    def __init__(
        self,
        distances: FloatArray,
        n_pos: int = 5,
        n_neg: int = 105,
        pos_rank_max: int = 30,
        schedule: FarSchedule | None = None,
    ) -> None:
        self.distances = distances
        self.n_pos = n_pos
        self.n_neg = n_neg
        self.pos_rank_max = scaled_pos_rank_max(len(distances), pos_rank_max, n_pos)
        self.schedule = schedule or FarSchedule()

    def batches_per_epoch(self) -> int:
        return max(1, math.ceil(len(self.distances) / (1 + self.n_pos + self.n_neg)))

    def sample(self, anchor: int, epoch: int, rng: np.random.Generator) -> Batch:
        order, sorted_row = ranked_neighbours(self.distances[anchor], anchor)
        pool = positive_pool_size(sorted_row, self.pos_rank_max, self.n_pos)
        far_max = self.schedule.far_max(len(self.distances), epoch, self.pos_rank_max, self.n_neg)
        neg_end = min(len(order), max(far_max - 1, pool + self.n_neg))
        positives = rng.choice(order[:pool], size=min(self.n_pos, pool), replace=False)
        negatives = rng.choice(order[pool:neg_end], size=min(self.n_neg, neg_end - pool), replace=False)
        indices = np.concatenate([[anchor], positives, negatives]).astype(np.int64)
        size = len(indices)
        positive = np.zeros((size, size), dtype=bool)
        negative = np.zeros((size, size), dtype=bool)
        positive[0, 1 : 1 + len(positives)] = True
        negative[0, 1 + len(positives) :] = True
        return Batch(indices, positive, negative)

    def epoch(self, epoch: int, rng: np.random.Generator) -> Iterator[Batch]:
        anchors = rng.permutation(len(self.distances))[: self.batches_per_epoch()]
        for anchor in anchors:
            yield self.sample(int(anchor), epoch, rng)


class NeighbourGroupSampler:
    """Batches of ``groups`` anchors, each with ``group_size − 1`` random members of its positive pool.

    The layout comes from the ground truth: j is a positive of i when ``D[i, j] ≤ radius[i]``
    (:func:`neighbour_radii`), else a negative. Duplicate items are removed (first occurrence kept).

    ``near_share`` > 0 makes batches harder: that share of each batch's anchors is not drawn from the
    epoch's permutation but from the *near band* of one of the other anchors, the ranks just outside its
    positive pool up to ``near_band`` × N (default 5 %, the share a top-51-of-1,000 retrieval window
    covers). Their groups are negatives of that anchor that a retrieval still has to rank correctly.
    """

    def __init__(
        self,
        distances: FloatArray,
        batch_size: int = 64,
        group_size: int = 4,
        n_pos: int = 5,
        pos_rank_max: int = 30,
        near_share: float = 0.0,
        near_band: float = 0.05,
    ) -> None:
        if not 0.0 <= near_share < 1.0:
            raise ValueError(f"near_share must be in [0, 1), not {near_share}")
        self.distances = distances
        self.near_share = near_share
        self.near_band = near_band
        self.group_size = max(2, group_size)
        self.groups = max(1, batch_size // self.group_size)
        self.pos_rank_max = scaled_pos_rank_max(len(distances), pos_rank_max, n_pos)
        self.radii = neighbour_radii(distances, self.pos_rank_max, n_pos)

    def batches_per_epoch(self) -> int:
        return max(1, math.ceil(len(self.distances) / (self.groups * self.group_size)))

    def sample(self, anchors: IntArray, rng: np.random.Generator) -> Batch:
        members: list[int] = []
        for anchor in anchors:
            row = self.distances[anchor]
            pool = np.flatnonzero(row <= self.radii[anchor])
            pool = pool[pool != anchor]
            take = min(self.group_size - 1, len(pool))
            members.extend([int(anchor), *rng.choice(pool, size=take, replace=False).tolist()])
        _, first = np.unique(np.asarray(members), return_index=True)
        indices = np.asarray(members, dtype=np.int64)[np.sort(first)]
        block = self.distances[np.ix_(indices, indices)]
        eye = np.eye(len(indices), dtype=bool)
        positive = (block <= self.radii[indices][:, None]) & ~eye
        negative = (block > self.radii[indices][:, None]) & ~eye
        return Batch(indices, positive, negative)

    def epoch(self, epoch: int, rng: np.random.Generator) -> Iterator[Batch]:
        order = rng.permutation(len(self.distances))
        near = min(self.groups - 1, int(self.near_share * self.groups))
        seeds = self.groups - near
        for start in range(self.batches_per_epoch()):
            chunk = order[(start * seeds) % len(order) :][:seeds].astype(np.int64)
            if near > 0:
                chunk = np.concatenate([chunk, self._near_band_anchors(chunk, near, rng)])
            yield self.sample(chunk, rng)

    def _near_band_anchors(self, seeds: IntArray, count: int, rng: np.random.Generator) -> IntArray:
        """``count`` anchors (int64), each from the near band of a seed anchor (round-robin over seeds)."""
        n_items = len(self.distances)
        band_end = min(n_items - 1, max(self.pos_rank_max + 2, round(self.near_band * n_items)))
        picks = np.empty(count, dtype=np.int64)
        for slot in range(count):
            seed = int(seeds[slot % len(seeds)])
            row = self.distances[seed]
            nearest = np.argpartition(row, band_end)[: band_end + 1]
            band = nearest[row[nearest] > self.radii[seed]]
            picks[slot] = int(rng.choice(band)) if len(band) else int(rng.integers(n_items))
        return picks
