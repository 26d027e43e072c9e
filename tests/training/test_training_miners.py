"""Miners and samplers on hand-built cases."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from posebrowser.training.miners import (
    BatchAllMiner,
    BatchHardMiner,
    DistanceWeightedMiner,
    ThinSlicingMiner,
    masks_from_distances,
)
from posebrowser.training.sampling import (
    FarSchedule,
    NeighbourGroupSampler,
    ThinSlicingSampler,
    positive_pool_size,
    ranked_neighbours,
)


def _line_embeddings(xs: list[float]) -> torch.Tensor:
    """Points on a 2-D line (x, 0): Euclidean distances are |x_i − x_j|."""
    return torch.tensor([[x, 0.0] for x in xs])


def test_masks_from_distances_ties_are_positive_and_diagonal_excluded() -> None:
    gt = torch.tensor([[0.0, 1.0, 2.0], [1.0, 0.0, 1.0], [2.0, 1.0, 0.0]])
    pos, neg = masks_from_distances(gt, torch.tensor([1.0, 0.5, 1.0]))
    assert pos.tolist() == [[False, True, False], [False, False, False], [False, True, False]]
    assert neg.tolist() == [[False, False, True], [True, False, True], [True, False, False]]


def test_batch_hard_picks_farthest_positive_and_nearest_negative() -> None:
    emb = _line_embeddings([0.0, 0.1, 0.5, 0.3, 0.9])
    pos = torch.zeros(5, 5, dtype=torch.bool)
    neg = torch.zeros(5, 5, dtype=torch.bool)
    pos[0, [1, 2]] = True
    neg[0, [3, 4]] = True
    pos[4, [3]] = True  # anchor 4 has no negative → skipped
    a, p, n = BatchHardMiner().mine(emb, pos, neg)
    assert a.tolist() == [0] and p.tolist() == [2] and n.tolist() == [3]


def test_batch_all_keeps_only_violating_triplets() -> None:
    emb = _line_embeddings([0.0, 0.1, 0.6, 0.25, 2.0])
    pos = torch.zeros(5, 5, dtype=torch.bool)
    neg = torch.zeros(5, 5, dtype=torch.bool)
    pos[0, [1, 2]] = True
    neg[0, [3, 4]] = True
    a, p, n = BatchAllMiner(margin=0.2).mine(emb, pos, neg)
    got = sorted(zip(a.tolist(), p.tolist(), n.tolist(), strict=True))
    # d(0,1)=.1, d(0,2)=.6, d(0,3)=.25, d(0,4)=2: violating iff d_ap − d_an + .2 > 0
    assert got == [(0, 1, 3), (0, 2, 3)]


def test_thin_slicing_miner_gives_all_pairs_of_anchor() -> None:
    pos = torch.zeros(6, 6, dtype=torch.bool)
    neg = torch.zeros(6, 6, dtype=torch.bool)
    pos[0, [1, 2]] = True
    neg[0, [3, 4, 5]] = True
    pos[1, 2] = True
    neg[1, 3] = True
    a, _, _ = ThinSlicingMiner().mine(torch.zeros(6, 2), pos, neg)
    assert set(a.tolist()) == {0} and len(a) == 6


def test_distance_weighted_only_samples_negatives_below_cutoff() -> None:
    g = torch.Generator().manual_seed(0)
    emb = torch.nn.functional.normalize(torch.randn(16, 8, generator=g), dim=1)
    gt = torch.cdist(emb, emb)
    pos, neg = masks_from_distances(gt, torch.full((16,), 0.9))
    miner = DistanceWeightedMiner(cutoff=0.5, nonzero_loss_cutoff=1.4, generator=g)
    a, p, n = miner.mine(emb, pos, neg)
    assert len(a) == int((pos & neg.any(dim=1)[:, None]).sum())
    assert bool(neg[a, n].all()) and bool(pos[a, p].all())
    weights = miner.negative_weights(emb, neg)
    assert bool((weights[~neg] == 0).all())
    has_close = (neg & (gt < 1.4)).any(dim=1)
    assert bool((gt[a, n][has_close[a]] < 1.4).all())


def test_positive_pool_size_never_splits_ties() -> None:
    d = np.array([0.0, 0.1, 0.1, 0.1, 0.2, 0.3], dtype=np.float32)
    assert positive_pool_size(d, pos_rank_max=3, n_pos=1) == 1  # moves down to before the tie group
    assert positive_pool_size(d, pos_rank_max=3, n_pos=2) == 4  # would leave < 2 → moves up past the tie
    assert positive_pool_size(d, pos_rank_max=4, n_pos=2) == 4  # boundary already between groups


def test_thin_slicing_hamming_ties_no_anchor_duplicate_and_rank_ranges() -> None:
    rng = np.random.default_rng(0)
    bits = rng.integers(0, 2, size=(300, 6))  # only 7 distinct distances → massive ties
    gt = (bits[:, None, :] != bits[None, :, :]).mean(axis=2).astype(np.float32)
    sampler = ThinSlicingSampler(gt, n_pos=5, n_neg=40, pos_rank_max=30)
    for anchor in range(0, 300, 7):
        batch = sampler.sample(anchor, epoch=2, rng=rng)
        assert batch.indices[0] == anchor and anchor not in batch.indices[1:]
        assert len(set(batch.indices.tolist())) == len(batch.indices)
        pos_idx = batch.indices[batch.positive[0]]
        neg_idx = batch.indices[batch.negative[0]]
        assert len(pos_idx) == 5 and len(neg_idx) == 40
        assert gt[anchor, pos_idx].max() < gt[anchor, neg_idx].min()
        order, _ = ranked_neighbours(gt[anchor], anchor)
        far_max = FarSchedule().far_max(300, 2, sampler.pos_rank_max, 40)
        ranks = {int(item): r + 1 for r, item in enumerate(order)}
        assert max(ranks[int(i)] for i in neg_idx) <= max(far_max - 1, 40 + 30 + 30)


def test_thin_slicing_continuous_metric_rank_ranges() -> None:
    rng = np.random.default_rng(1)
    points = rng.normal(size=(500, 3))
    gt = np.linalg.norm(points[:, None] - points[None], axis=2).astype(np.float32)
    sampler = ThinSlicingSampler(gt, n_pos=5, n_neg=105, pos_rank_max=30)
    far_max = FarSchedule().far_max(500, 3, 30, 105)
    batch = sampler.sample(11, epoch=3, rng=rng)
    order, _ = ranked_neighbours(gt[11], 11)
    ranks = {int(item): r + 1 for r, item in enumerate(order)}
    pos_ranks = [ranks[int(i)] for i in batch.indices[batch.positive[0]]]
    neg_ranks = [ranks[int(i)] for i in batch.indices[batch.negative[0]]]
    assert all(1 <= r <= 30 for r in pos_ranks)
    assert all(31 <= r <= far_max - 1 for r in neg_ranks)


def test_far_schedule_anneals_to_floor() -> None:
    schedule = FarSchedule(step_fraction=0.15, floor_fraction=0.05)
    values = [schedule.far_max(20000, e, 30, 105) for e in range(8)]
    assert values[:3] == [20000, 17000, 14000] and values[-1] == 31 + 1000


def test_neighbour_group_sampler_layout_matches_ground_truth() -> None:
    rng = np.random.default_rng(2)
    points = rng.normal(size=(120, 2))
    gt = np.linalg.norm(points[:, None] - points[None], axis=2).astype(np.float32)
    sampler = NeighbourGroupSampler(gt, batch_size=32, group_size=4)
    batch = next(iter(sampler.epoch(0, rng)))
    assert len(set(batch.indices.tolist())) == len(batch.indices)
    block = gt[np.ix_(batch.indices, batch.indices)]
    radii = sampler.radii[batch.indices][:, None]
    assert np.array_equal(
        batch.positive | np.eye(len(block), dtype=bool), (block <= radii) | np.eye(len(block), dtype=bool)
    )
    assert batch.positive.any(axis=1).sum() >= 4


def test_near_share_draws_anchors_from_a_seed_anchors_near_band() -> None:
    rng = np.random.default_rng(3)
    points = rng.normal(size=(400, 3))
    gt = np.linalg.norm(points[:, None] - points[None], axis=2).astype(np.float32)
    plain = NeighbourGroupSampler(gt, batch_size=32, group_size=4)
    hard = NeighbourGroupSampler(gt, batch_size=32, group_size=4, near_share=0.5)
    band_end = max(hard.pos_rank_max + 2, round(0.05 * 400))
    drawn: list[np.ndarray] = []
    sample = hard.sample
    hard.sample = lambda anchors, rng: drawn.append(anchors) or sample(anchors, rng)  # type: ignore[method-assign]
    batches = list(hard.epoch(0, np.random.default_rng(5)))
    assert len(batches) == hard.batches_per_epoch() and all(len(a) == hard.groups for a in drawn)
    for anchors in drawn[:5]:
        seeds, near = anchors[:4], anchors[4:]
        for slot, anchor in enumerate(near):
            seed = int(seeds[slot % len(seeds)])
            rank = int((gt[seed] < gt[seed, anchor]).sum())  # the seed itself is rank 0
            assert gt[seed, anchor] > hard.radii[seed] and rank <= band_end
    # the near band is closer to its seed than the random anchors of an ordinary batch
    near_gap = np.mean([gt[a[0], a[4]] for a in drawn])
    random_gap = np.mean(gt[np.triu_indices(400, 1)])
    assert near_gap < 0.6 * random_gap
    assert plain.batches_per_epoch() == hard.batches_per_epoch()
    with pytest.raises(ValueError, match="near_share"):
        NeighbourGroupSampler(gt, near_share=1.0)
