"""Cross-batch memory (Wang et al. 2020, "Cross-Batch Memory for Embedding Learning", XBM).

A batch of 64 images holds 16 anchor groups; its negatives are the other groups, which are almost always
far poses, so a batch-all triplet loss learns coarse structure and little about the *near band* a retrieval
has to order (the 50 nearest of a thousand). The memory keeps the detached embeddings of the last
``size`` training images with their rows in the training split; every anchor of the current batch is then
also ranked against all of them: positives are memory items inside the anchor's rank-30 radius (the same
layout as the batch, :func:`posebrowser.training.sampling.neighbour_radii`) plus its own group, negatives
are the other memory items, among them the near-band poses a batch rarely holds.

Mirrored batches carry mirrored labels, so the ground-truth distance between a mirrored image and an
unmirrored one is not the table's: the memory keeps one queue per mirror state and a batch is compared
with its own state's queue only.

The memory is not part of the resumable training state: after a resume it fills again (``start`` batches
of warm-up count from the first batch this process sees).
"""

from __future__ import annotations

import numpy as np
import torch
from numpy.typing import NDArray
from torch import Tensor

from posebrowser.training.losses import pair_distance


class CrossBatchMemory:
    """FIFO queues of detached embeddings (one per mirror state) and the triplet loss against them.

    ``distances`` (N, N) float32 is the training split's ground truth, ``radii`` (N,) each item's positive
    radius; ``size`` the number of items kept per queue; the loss is zero until ``start`` batches have been
    pushed (the embedding drifts fast at first, so early entries would be stale)."""

    def __init__(
        self,
        distances: NDArray[np.float32],
        radii: NDArray[np.float32],
        size: int,
        margin: float = 0.2,
        start: int = 0,
    ) -> None:
        if size < 1:
            raise ValueError(f"memory size must be ≥ 1, not {size}")
        self.distances = distances
        self.radii = radii
        self.size = size
        self.margin = margin
        self.start = start
        self.pushed = 0
        self._vectors: dict[bool, Tensor] = {}
        self._rows: dict[bool, NDArray[np.int64]] = {}

    def __len__(self) -> int:
        return sum(len(rows) for rows in self._rows.values())

    def loss(
        self, embeddings: Tensor, rows: NDArray[np.int64], flipped: bool, batch_positive: NDArray[np.bool_]
    ) -> Tensor:
        """Mean of the violating triplets (anchor in the batch, positive in the batch or the memory,
        negative in the memory); a zero connected to the graph while warming up or without a triplet.
        ``batch_positive`` (B, B) is the batch's own positive layout (the sampler's ``Batch.positive``)."""
        zero = embeddings.sum() * 0.0
        memory_rows = self._rows.get(flipped)
        if self.pushed < self.start or memory_rows is None or len(memory_rows) == 0:
            return zero
        memory = self._vectors[flipped]
        radius = self.radii[rows][:, None]
        truth = self.distances[np.ix_(rows, memory_rows)]
        same_item = rows[:, None] == memory_rows[None, :]
        negative = torch.from_numpy((truth > radius) & ~same_item).to(embeddings.device)
        positive = torch.from_numpy(np.concatenate([batch_positive, (truth <= radius) & ~same_item], 1))
        d_batch = pair_distance(embeddings[:, None], embeddings[None])
        d_memory = torch.cdist(embeddings, memory)
        d_positive = torch.cat([d_batch, d_memory], 1)
        anchors, columns = torch.nonzero(positive.to(embeddings.device), as_tuple=True)
        if len(anchors) == 0:
            return zero
        # (pairs, M): every positive pair against every memory negative of its anchor.
        gaps = d_positive[anchors, columns][:, None] - d_memory[anchors] + self.margin
        violating = (gaps > 0) & negative[anchors]
        if not bool(violating.any()):
            return zero
        return gaps[violating].mean()

    def push(self, embeddings: Tensor, rows: NDArray[np.int64], flipped: bool) -> None:
        """Add a batch (detached) to its mirror state's queue, dropping the oldest items beyond ``size``."""
        vectors, rows = embeddings.detach().float(), np.asarray(rows, dtype=np.int64)
        if flipped in self._rows:
            vectors = torch.cat([self._vectors[flipped], vectors])
            rows = np.concatenate([self._rows[flipped], rows])
        self._vectors[flipped] = vectors[-self.size :]
        self._rows[flipped] = rows[-self.size :]
        self.pushed += 1
