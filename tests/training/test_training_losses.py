"""Losses against per-triplet Python loops (random data, atol 1e-6)."""

from __future__ import annotations

import math

import torch

from posebrowser.training.losses import (
    BidirectionalRankingLoss,
    ContrastiveLoss,
    CosineAlignmentLoss,
    OriginTripletLoss,
    TripletMarginLoss,
)


def _unit(rows: int, dim: int, seed: int) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(rows, dim, generator=g, dtype=torch.float64)
    return x / x.norm(dim=1, keepdim=True)


def _dist(u: torch.Tensor, v: torch.Tensor, eps: float = 0.0) -> float:
    return math.sqrt(sum((float(a) - float(b) + eps) ** 2 for a, b in zip(u, v, strict=True)))


def _random_triplets(batch: int, count: int, seed: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    return tuple(torch.randint(0, batch, (count,), generator=g) for _ in range(3))  # type: ignore[return-value]


def test_triplet_margin_loss_matches_loop() -> None:
    emb = _unit(12, 8, 0)
    a, p, n = _random_triplets(12, 40, 1)
    expected = (
        sum(
            max(0.0, _dist(emb[i], emb[j], 1e-6) - _dist(emb[i], emb[k], 1e-6) + 0.2)
            for i, j, k in zip(a.tolist(), p.tolist(), n.tolist(), strict=True)
        )
        / 40
    )
    got = TripletMarginLoss(margin=0.2, eps=1e-6)(emb, (a, p, n))
    assert abs(float(got) - expected) < 1e-6
    # also equals torch's reference implementation
    ref = torch.nn.functional.triplet_margin_loss(emb[a], emb[p], emb[n], margin=0.2, eps=1e-6)
    assert abs(float(got) - float(ref)) < 1e-6


def test_triplet_loss_empty_set_is_zero_and_differentiable() -> None:
    emb = _unit(4, 3, 2).requires_grad_(True)
    empty = torch.zeros(0, dtype=torch.int64)
    loss = TripletMarginLoss()(emb, (empty, empty, empty))
    loss.backward()
    assert float(loss.detach()) == 0.0 and emb.grad is not None


def test_contrastive_loss_matches_loop() -> None:
    emb = _unit(10, 6, 3)
    a, p, n = _random_triplets(10, 30, 4)
    pos_pairs = sorted({(i, j) for i, j in zip(a.tolist(), p.tolist(), strict=True)})
    neg_pairs = sorted({(i, k) for i, k in zip(a.tolist(), n.tolist(), strict=True)})
    pos = sum(max(0.0, _dist(emb[i], emb[j], 1e-6) - 0.05) for i, j in pos_pairs) / len(pos_pairs)
    neg = sum(max(0.0, 0.9 - _dist(emb[i], emb[k], 1e-6)) for i, k in neg_pairs) / len(neg_pairs)
    got = ContrastiveLoss(pos_margin=0.05, neg_margin=0.9)(emb, (a, p, n))
    assert abs(float(got) - (pos + neg)) < 1e-6


def test_origin_triplet_loss_matches_loop() -> None:
    pos, neg = _unit(7, 5, 5), _unit(9, 5, 6)
    mask = torch.randn(5, generator=torch.Generator().manual_seed(7), dtype=torch.float64)
    zero = torch.zeros(5, dtype=torch.float64)
    total = 0.0
    for pi in pos:
        for nj in neg:
            total += max(0.0, _dist(zero, mask * pi, 1e-6) - _dist(zero, mask * nj, 1e-6) + 0.2)
    got = OriginTripletLoss(margin=0.2)(mask, pos, neg)
    assert abs(float(got) - total / (7 * 9)) < 1e-6


def test_cosine_alignment_loss_matches_loop() -> None:
    raw = torch.randn(6, 4, generator=torch.Generator().manual_seed(8), dtype=torch.float64) * 3
    target = _unit(6, 4, 9)
    expected = 0.0
    for z, y in zip(raw, target, strict=True):
        unit = z / math.sqrt(float((z * z).sum()))
        expected += abs(1.0 - float((unit * y).sum()))
    assert abs(float(CosineAlignmentLoss()(raw, target)) - expected / 6) < 1e-6


def test_bidirectional_ranking_loss_matches_loop() -> None:
    x, y = _unit(6, 4, 10), _unit(6, 4, 11)
    g = torch.Generator().manual_seed(12)
    cross = torch.rand(6, 6, generator=g) < 0.4
    cross |= torch.eye(6, dtype=torch.bool)
    neigh = torch.rand(6, 6, generator=g) < 0.5
    neigh = neigh | neigh.T
    m, w = 0.1, (1.0, 0.7, 0.3, 0.2)

    def term(dist: object, pos: torch.Tensor, neg: torch.Tensor) -> float:
        values = [
            max(0.0, m + dist(i, j) - dist(i, k))  # type: ignore[operator]
            for i in range(pos.shape[0])
            for j in range(pos.shape[1])
            for k in range(pos.shape[1])
            if pos[i, j] and neg[i, k]
        ]
        return sum(values) / len(values) if values else 0.0

    eye = torch.eye(6, dtype=torch.bool)
    expected = (
        w[0] * term(lambda i, j: _dist(x[i], y[j]), cross, ~cross)
        + w[1] * term(lambda i, j: _dist(y[i], x[j]), cross.T, ~cross.T)
        + w[2] * term(lambda i, j: _dist(x[i], x[j]), neigh & ~eye, ~neigh & ~eye)
        + w[3] * term(lambda i, j: _dist(y[i], y[j]), neigh & ~eye, ~neigh & ~eye)
    )
    loss = BidirectionalRankingLoss(m, *w)(x, y, cross, neigh, neigh)
    assert abs(float(loss) - expected) < 1e-6


def test_ranking_term_matches_triplet_loop_for_rectangular_blocks_and_empty_masks() -> None:
    from posebrowser.training.losses import _masked_ranking_term

    g = torch.Generator().manual_seed(14)
    distances = torch.rand(5, 8, generator=g, dtype=torch.float64) * 2
    positive = torch.rand(5, 8, generator=g) < 0.3
    negative = ~positive & (torch.rand(5, 8, generator=g) < 0.8)
    values = [
        max(0.0, 0.2 + float(distances[i, j] - distances[i, k]))
        for i in range(5)
        for j in range(8)
        for k in range(8)
        if positive[i, j] and negative[i, k]
    ]
    assert values
    expected = sum(values) / len(values)
    assert abs(float(_masked_ranking_term(distances, positive, negative, 0.2)) - expected) < 1e-12
    nothing = torch.zeros(5, 8, dtype=torch.bool)
    assert float(_masked_ranking_term(distances, nothing, negative, 0.2)) == 0.0
    assert float(_masked_ranking_term(distances, positive, nothing, 0.2)) == 0.0


def test_bidirectional_ranking_gradient_is_finite_with_identical_rows() -> None:
    x = _unit(4, 3, 13).float().requires_grad_(True)
    y = x.detach().clone()
    cross = torch.eye(4, dtype=torch.bool)
    loss = BidirectionalRankingLoss()(x, y, cross, cross, cross)
    loss.backward()
    assert x.grad is not None and bool(torch.isfinite(x.grad).all())


def test_uniformity_loss_matches_pair_loop_and_prefers_spread() -> None:

    from posebrowser.training.losses import uniformity_loss

    torch.manual_seed(0)
    x = torch.nn.functional.normalize(torch.randn(7, 5), dim=1)
    pairs = [(i, j) for i in range(7) for j in range(i + 1, 7)]
    total = sum(math.exp(-2.0 * float((x[i] - x[j]).pow(2).sum())) for i, j in pairs)
    expected = math.log(total / len(pairs))
    assert abs(float(uniformity_loss(x)) - expected) < 1e-5
    cone = torch.nn.functional.normalize(torch.randn(7, 5) * 0.05 + torch.tensor([1.0, 0, 0, 0, 0]), dim=1)
    assert float(uniformity_loss(cone)) > float(uniformity_loss(x))  # a narrow cone is penalised
    assert float(uniformity_loss(x[:1])) == 0.0


def _log_ratio_by_loops(e: torch.Tensor, g: torch.Tensor, k: int, floor_share: float = 0.02) -> float:
    count = len(e)
    off = g[~torch.eye(count, dtype=torch.bool)]
    floor = floor_share * float(off.median())

    def d(x: int, y: int) -> float:
        return math.sqrt(float((e[x] - e[y]).pow(2).sum()) + 1e-8)

    def truth(x: int, y: int) -> float:
        return max(float(g[x, y]), floor)

    terms = []
    for a in range(count):
        nearest = sorted((j for j in range(count) if j != a), key=lambda j: float(g[a, j]))[:k]
        for i in nearest:
            for j in range(count):
                if j not in (a, i):
                    gap = math.log(d(a, i) / d(a, j)) - math.log(truth(a, i) / truth(a, j))
                    terms.append(gap**2)
    return sum(terms) / len(terms)


def test_log_ratio_loss_matches_a_loop_over_dense_triplets() -> None:
    from posebrowser.training.losses import LogRatioLoss

    torch.manual_seed(0)
    e = torch.nn.functional.normalize(torch.randn(9, 4), dim=1)
    g = torch.rand(9, 9)
    g = (g + g.T) / 2
    g.fill_diagonal_(0)
    g[2, 5] = g[5, 2] = 0.0  # identical poses: floored, not an infinite ratio
    for k in (1, 3):
        assert abs(float(LogRatioLoss(neighbours=k)(e, g)) - _log_ratio_by_loops(e, g, k)) < 1e-4


def test_log_ratio_loss_is_zero_for_proportional_distances_and_pulls_a_too_far_neighbour() -> None:
    from posebrowser.training.losses import LogRatioLoss

    torch.manual_seed(1)
    points = torch.randn(8, 5)
    truth = 3.0 * torch.cdist(points, points)  # any scale: only ratios count
    assert float(LogRatioLoss(neighbours=3)(points, truth)) < 1e-6
    moved = points.clone()
    nearest = int(truth[0, 1:].argmin()) + 1
    moved[nearest] = moved[0] + 4.0 * (moved[nearest] - moved[0])  # the nearest pose now sits far away
    moved.requires_grad_(True)
    loss = LogRatioLoss(neighbours=3)(moved, truth)
    loss.backward()
    assert moved.grad is not None and bool(torch.isfinite(moved.grad).all())
    step = moved.detach() - 0.01 * moved.grad
    before = float((moved.detach()[nearest] - moved.detach()[0]).norm())
    assert float((step[nearest] - step[0]).norm()) < before  # a gradient step pulls it back in


def test_log_ratio_loss_of_a_tiny_batch_is_a_connected_zero() -> None:
    from posebrowser.training.losses import LogRatioLoss

    e = torch.nn.functional.normalize(torch.randn(2, 3), dim=1).requires_grad_(True)
    loss = LogRatioLoss()(e, torch.ones(2, 2))
    loss.backward()
    assert float(loss.detach()) == 0.0
