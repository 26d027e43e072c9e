"""Metric-learning losses: the thesis' triplet losses, Wang, Li & Lazebnik 2016's ranking loss and Kim et al.
2019's log-ratio loss.

All losses take float tensors on any device and return a 0-dim tensor. Embeddings are ``(B, D)``;
triplets are three ``(T,)`` int64 index tensors ``(anchor, positive, negative)`` into the same batch
(the output of a miner, see :mod:`posebrowser.training.miners`). Reductions are plain means over all
given triplets / pairs, including those with zero loss (the thesis' ``mean over 525 pairs``). An empty
triplet set gives a zero loss that is still connected to the graph (so ``backward`` works).
"""

from __future__ import annotations

import math

import torch
from torch import Tensor, nn

Triplets = tuple[Tensor, Tensor, Tensor]

THESIS_MARGIN = 0.2
THESIS_EPS = 1e-6


def pair_distance(x: Tensor, y: Tensor, eps: float = THESIS_EPS) -> Tensor:
    """Row-wise ``‖x − y + eps‖₂`` for ``(T, D)`` inputs → ``(T,)`` (``pairwise_distance`` semantics)."""
    distance: Tensor = torch.linalg.vector_norm(x - y + eps, dim=-1)
    return distance


def _zero_like_graph(embeddings: Tensor) -> Tensor:
    return embeddings.sum() * 0.0


class TripletMarginLoss(nn.Module):
    """``mean_t max(0, ‖a−p+ε‖ − ‖a−n+ε‖ + margin)`` over the given triplets (thesis: margin 0.2, ε 1e-6)."""

    def __init__(self, margin: float = THESIS_MARGIN, eps: float = THESIS_EPS) -> None:
        super().__init__()
        self.margin = margin
        self.eps = eps

    def forward(self, embeddings: Tensor, triplets: Triplets) -> Tensor:
        anchor, positive, negative = triplets
        if anchor.numel() == 0:
            return _zero_like_graph(embeddings)
        d_ap = pair_distance(embeddings[anchor], embeddings[positive], self.eps)
        d_an = pair_distance(embeddings[anchor], embeddings[negative], self.eps)
        return torch.relu(d_ap - d_an + self.margin).mean()


class ContrastiveLoss(nn.Module):
    """Pair loss ``relu(d − pos_margin)`` for positive pairs and ``relu(neg_margin − d)`` for negative pairs.

    The positive pairs are the unique ``(a, p)`` and the negative pairs the unique ``(a, n)`` of the
    triplets. The result is ``mean(positive terms) + mean(negative terms)`` (each mean over all unique
    pairs, zero when there are none). ``d`` is the Euclidean distance ``‖x−y+ε‖``.
    """

    def __init__(self, pos_margin: float = 0.0, neg_margin: float = 0.5, eps: float = THESIS_EPS) -> None:
        super().__init__()
        self.pos_margin = pos_margin
        self.neg_margin = neg_margin
        self.eps = eps

    def forward(self, embeddings: Tensor, triplets: Triplets) -> Tensor:
        anchor, positive, negative = triplets
        if anchor.numel() == 0:
            return _zero_like_graph(embeddings)
        pos_pairs = torch.unique(torch.stack([anchor, positive], dim=1), dim=0)
        neg_pairs = torch.unique(torch.stack([anchor, negative], dim=1), dim=0)
        d_pos = pair_distance(embeddings[pos_pairs[:, 0]], embeddings[pos_pairs[:, 1]], self.eps)
        d_neg = pair_distance(embeddings[neg_pairs[:, 0]], embeddings[neg_pairs[:, 1]], self.eps)
        return torch.relu(d_pos - self.pos_margin).mean() + torch.relu(self.neg_margin - d_neg).mean()


class OriginTripletLoss(nn.Module):
    """Origin-anchored triplet loss of a mask (the thesis' mask loss).

    ``mean_{i,j} max(0, ‖0 − m⊙p_i + ε‖ − ‖0 − m⊙n_j + ε‖ + margin)`` over all (positive, negative)
    pairs: positives ``(P, D)`` are pulled to the origin of the warped space, negatives ``(Q, D)`` pushed out.
    ``mask`` is ``(D,)`` (or ``(1, D)``) and unconstrained.
    """

    def __init__(self, margin: float = THESIS_MARGIN, eps: float = THESIS_EPS) -> None:
        super().__init__()
        self.margin = margin
        self.eps = eps

    def forward(self, mask: Tensor, positives: Tensor, negatives: Tensor) -> Tensor:
        weights = mask.reshape(1, -1)
        pos_norm = torch.linalg.vector_norm(self.eps - weights * positives, dim=1)  # (P,)
        neg_norm = torch.linalg.vector_norm(self.eps - weights * negatives, dim=1)  # (Q,)
        return torch.relu(pos_norm[:, None] - neg_norm[None, :] + self.margin).mean()


class CosineAlignmentLoss(nn.Module):
    """``mean_i |1 − ⟨ẑ_i, y_i⟩|`` with ẑ = L2-normalised ``outputs`` (B, D) and unit ``targets`` (B, D)."""

    def forward(self, outputs: Tensor, targets: Tensor) -> Tensor:
        unit = outputs / torch.linalg.vector_norm(outputs, dim=1, keepdim=True).clamp_min(1e-12)
        return torch.abs(1.0 - (unit * targets).sum(dim=1)).mean()


class LogRatioLoss(nn.Module):
    """Log-ratio loss with dense triplets (Kim, Kim, Cho & Kwak, "Deep Metric Learning Beyond Binary
    Supervision", CVPR 2019): embedding distance ratios match ground-truth distance ratios.

    ``forward(embeddings (B, D), truth (B, B))``: for each anchor a, its ``neighbours`` nearest batch items i
    under ``truth`` (a excluded) and every other item j ∉ {a, i}, the term
    ``(log d(a,i) − log d(a,j) − log g(a,i) + log g(a,j))²``, averaged over all such (a, i, j). ``d`` is the
    Euclidean embedding distance, ``g`` the ground truth. Graded, not binary: a nearer pose must be
    proportionally nearer, which is what a top-1 retrieval needs. Both distances are floored before the
    log: ``d`` at ``eps``, ``g`` at ``truth_floor`` × the median off-diagonal ground truth of the batch
    (identical poses would otherwise ask for an infinite ratio).
    """

    def __init__(self, neighbours: int = 5, eps: float = 1e-4, truth_floor: float = 0.02) -> None:
        super().__init__()
        self.neighbours = neighbours
        self.eps = eps
        self.truth_floor = truth_floor

    def forward(self, embeddings: Tensor, truth: Tensor) -> Tensor:
        count = embeddings.shape[0]
        k = min(self.neighbours, count - 2)
        if k < 1:
            return _zero_like_graph(embeddings)
        eye = torch.eye(count, dtype=torch.bool, device=embeddings.device)
        squared = (embeddings[:, None, :] - embeddings[None, :, :]).pow(2).sum(-1)
        log_d = 0.5 * torch.log(squared.masked_fill(eye, 1.0) + self.eps**2)
        truth = truth.to(embeddings)
        floor = self.truth_floor * truth[~eye].median().clamp_min(1e-12)
        log_g = torch.log(truth.clamp_min(floor))
        near = truth.masked_fill(eye, float("inf")).topk(k, dim=1, largest=False).indices  # (B, k)
        gap_d = log_d.gather(1, near)[:, :, None] - log_d[:, None, :]  # (B, k, B)
        gap_g = log_g.gather(1, near)[:, :, None] - log_g[:, None, :]
        valid = ~eye[:, None, :] & (near[:, :, None] != torch.arange(count, device=near.device))
        return ((gap_d - gap_g).pow(2) * valid).sum() / valid.sum()


def _all_pairs_distance(x: Tensor, y: Tensor) -> Tensor:
    """Euclidean distances (B, M) between rows of ``x`` (B, D) and ``y`` (M, D); zero-safe gradients."""
    distances: Tensor = torch.linalg.vector_norm(x[:, None, :] - y[None, :, :], dim=-1)
    return distances


def _masked_ranking_term(distances: Tensor, positive: Tensor, negative: Tensor, margin: float) -> Tensor:
    """Mean of ``relu(margin + d[i,j] − d[i,k])`` over all i, j∈positive[i], k∈negative[i].

    ``distances`` (B, M) float; ``positive`` / ``negative`` (B, M) bool. Zero when no triplet exists.
    Only the P positive pairs (i, j) are expanded against the row's negatives, a (P, M) block instead of
    (B, M, M): the posebit net's positives are sparse (P ≈ B), so the loss of a batch of 128 takes ~9 ms
    instead of ~57 on 2 CPU cores and the whole training step 18 instead of 63 (measured,
    ``benchmarks/bench_posebit_training.py``); same triplets, same mean.
    """
    rows, cols = positive.nonzero(as_tuple=True)
    valid = negative[rows]  # (P, M)
    count = valid.sum()
    if int(count) == 0:
        return distances.sum() * 0.0
    violation = torch.relu(margin + distances[rows, cols][:, None] - distances[rows])  # (P, M)
    return (violation * valid).sum() / count


class BidirectionalRankingLoss(nn.Module):
    """Bidirectional cross-modal ranking + structure-preserving loss (Wang, Li & Lazebnik, CVPR 2016).

    ``forward(x, y, cross_positive, x_neighbours=None, y_neighbours=None)``:

    * ``x`` (B, D) embeddings of modality X (e.g. posebit-net outputs), ``y`` (M, D) of modality Y (e.g.
      frozen image embeddings); both expected unit-norm. ``d`` is the Euclidean distance.
    * ``cross_positive`` (B, M) bool: y_j matches x_i. Everything else is a negative.
    * X→Y term: ``relu(m + d(x_i, y_j) − d(x_i, y_k))`` for j positive, k negative of i.
    * Y→X term: the same with the roles swapped, using ``cross_positive.T``.
    * Structure terms (within modality): ``relu(m + d(x_i, x_j) − d(x_i, x_k))`` for j in the
      neighbourhood of i (``x_neighbours`` (B, B) bool, diagonal ignored) and k outside it; likewise for Y.

    Loss = ``λ_xy·T_xy + λ_yx·T_yx + λ_sx·S_x + λ_sy·S_y``; each term is a mean over its valid triplets
    (the paper sums top-K violators; averaging all triplets is smoother for small batches).
    """

    def __init__(
        self,
        margin: float = 0.1,
        weight_x_to_y: float = 1.0,
        weight_y_to_x: float = 1.0,
        weight_structure_x: float = 0.1,
        weight_structure_y: float = 0.1,
    ) -> None:
        super().__init__()
        self.margin = margin
        self.weights = (weight_x_to_y, weight_y_to_x, weight_structure_x, weight_structure_y)

    def forward(
        self,
        x: Tensor,
        y: Tensor,
        cross_positive: Tensor,
        x_neighbours: Tensor | None = None,
        y_neighbours: Tensor | None = None,
    ) -> Tensor:
        w_xy, w_yx, w_sx, w_sy = self.weights
        cross = _all_pairs_distance(x, y)  # (B, M)
        loss = w_xy * _masked_ranking_term(cross, cross_positive, ~cross_positive, self.margin)
        loss = loss + w_yx * _masked_ranking_term(cross.T, cross_positive.T, ~cross_positive.T, self.margin)
        for weight, emb, neighbours in ((w_sx, x, x_neighbours), (w_sy, y, y_neighbours)):
            if neighbours is None or weight == 0.0:
                continue
            eye = torch.eye(len(emb), dtype=torch.bool, device=emb.device)
            within = _all_pairs_distance(emb, emb)
            loss = loss + weight * _masked_ranking_term(
                within, neighbours & ~eye, ~neighbours & ~eye, self.margin
            )
        return loss


def uniformity_loss(embeddings: torch.Tensor, t: float = 2.0) -> torch.Tensor:
    """Wang & Isola (2020) uniformity: ``log mean_{i<j} exp(−t‖e_i − e_j‖²)`` over a batch of unit vectors.

    Lower is more spread over the sphere; added to a ranking loss it keeps the embedding from settling in
    a narrow cone. 0-d tensor; a batch of fewer than two rows gives 0.
    """
    if embeddings.shape[0] < 2:
        return embeddings.sum() * 0.0
    squared = torch.pdist(embeddings.float(), p=2).pow(2)
    return torch.logsumexp(-t * squared, dim=0) - math.log(squared.numel())
