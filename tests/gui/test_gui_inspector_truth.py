"""The fast true-nearest set and ranks behind the frames and the inspector, against the brute-force
float64 reference (``pairwise_distances`` + a stable argsort over the whole gallery)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pytest

from posebrowser.gui import ground_truth
from posebrowser.pose.similarity import pairwise_distances


@dataclass
class Poses:
    joints_2d: Any = None
    joints_3d: Any = None
    posebits: Any = None

    def __len__(self) -> int:
        for array in (self.joints_3d, self.joints_2d, self.posebits):
            if array is not None:
                return len(array)
        return 0


def _gallery(count: int, seed: int, missing: float = 0.0, duplicates: int = 0) -> Poses:
    """Random poses with exact duplicates (ties) and NaN joints (some poses with none at all)."""
    rng = np.random.default_rng(seed)
    joints_3d = rng.normal(scale=0.3, size=(count, 16, 3)).astype(np.float32)
    for copy in range(duplicates):  # the same pose at other indices, turned about the vertical (a tie)
        source, target = rng.integers(0, count, 2)
        angle = rng.uniform(0, 2 * np.pi)
        turn = np.array([[np.cos(angle), -np.sin(angle), 0], [np.sin(angle), np.cos(angle), 0], [0, 0, 1]])
        joints_3d[target] = joints_3d[source] if copy % 2 else (joints_3d[source] @ turn.T).astype(np.float32)
    joints_3d[rng.random((count, 16)) < missing] = np.nan
    if missing:
        joints_3d[rng.integers(0, count, 3)] = np.nan  # poses with no joint at all
    joints_2d = 300 * joints_3d[..., :2] + 200
    posebits = rng.integers(-1, 2, size=(count, 20)).astype(np.int8)
    return Poses(joints_2d=joints_2d, joints_3d=joints_3d, posebits=posebits)


def _reference_order(gallery: Poses, anchor: int, metric: str) -> np.ndarray:
    distance = pairwise_distances(metric, gallery, [anchor], np.arange(len(gallery)))[0]
    return np.argsort(distance, kind="stable")


@pytest.fixture(autouse=True)
def _fresh_cache() -> None:
    ground_truth.clear()


@pytest.mark.parametrize("metric", ["3d", "2d", "procrustes", "hamming"])
@pytest.mark.parametrize(("missing", "duplicates"), [(0.0, 0), (0.0, 40), (0.1, 40)])
def test_true_nearest_and_ranks_equal_the_float64_reference(
    metric: str, missing: float, duplicates: int
) -> None:
    gallery = _gallery(600, seed=11, missing=missing, duplicates=duplicates)
    rng = np.random.default_rng(5)
    for anchor in rng.integers(0, len(gallery), 4):
        order = _reference_order(gallery, int(anchor), metric)
        for k in (1, 5, 50, 599, 600):
            found = ground_truth.true_nearest(gallery, int(anchor), k, metric)
            assert np.array_equal(found, np.sort(order[:k])), (metric, anchor, k)
        ranks = np.empty(len(order), dtype=np.int64)
        ranks[order] = np.arange(len(order))
        for index in list(rng.integers(0, len(gallery), 30)) + list(order[:3]) + list(order[-3:]):
            assert ground_truth.nearest_rank(gallery, int(anchor), int(index), metric) == ranks[index]


def test_exact_ties_are_broken_by_gallery_index_like_a_stable_sort() -> None:
    gallery = _gallery(300, seed=2)
    gallery.joints_3d[100:300] = gallery.joints_3d[7]  # 200 identical poses at distance 0 to item 7
    found = ground_truth.true_nearest(gallery, 7, 50, "3d")
    assert np.array_equal(found, np.sort(_reference_order(gallery, 7, "3d")[:50]))
    assert 7 in found and 101 in found and 299 not in found
    assert ground_truth.nearest_rank(gallery, 7, 299, "3d") == int(
        np.flatnonzero(_reference_order(gallery, 7, "3d") == 299)[0]
    )


def test_an_anchor_without_joints_ranks_everything_last_in_index_order() -> None:
    gallery = _gallery(200, seed=4)
    gallery.joints_3d[9] = np.nan
    assert np.array_equal(ground_truth.true_nearest(gallery, 9, 5, "3d"), np.arange(5))
    assert ground_truth.nearest_rank(gallery, 9, 150, "3d") == 150


def test_a_replaced_annotation_is_not_answered_from_the_old_one() -> None:
    gallery = _gallery(300, seed=6)
    before = ground_truth.true_nearest(gallery, 3, 20, "3d")
    gallery.joints_3d = _gallery(300, seed=7).joints_3d
    after = ground_truth.true_nearest(gallery, 3, 20, "3d")
    assert np.array_equal(after, np.sort(_reference_order(gallery, 3, "3d")[:20]))
    assert not np.array_equal(before, after)


def test_the_nearest_metric_is_the_first_annotation_the_gallery_has() -> None:
    gallery = _gallery(50, seed=8)
    assert ground_truth.nearest_metric(gallery) == "3d"
    assert ground_truth.prepare(gallery) == "3d"
    gallery.joints_3d = None
    assert ground_truth.nearest_metric(gallery) == "2d"
    gallery.joints_2d = None
    assert ground_truth.nearest_metric(gallery) == "hamming"
    assert ground_truth.nearest_metric(Poses()) is None


@pytest.mark.parametrize("metric", ["3d", "procrustes"])
@pytest.mark.parametrize("missing", [0.0, 0.1])
def test_truth_among_the_searched_items_equals_the_reference_on_those_items(
    metric: str, missing: float
) -> None:
    """A search of one split can only reach that split: its true k nearest and every rank count only the
    searched items (the frames once compared test-split results with the nearest of the whole gallery)."""
    gallery = _gallery(500, seed=13, missing=missing, duplicates=20)
    rng = np.random.default_rng(8)
    among = rng.random(len(gallery)) < 0.3
    searched = np.flatnonzero(among)
    for anchor in rng.integers(0, len(gallery), 4):
        distance = pairwise_distances(metric, gallery, [int(anchor)], searched)[0]
        order = searched[np.argsort(distance, kind="stable")]
        for k in (1, 10, 50):
            found = ground_truth.true_nearest(gallery, int(anchor), k, metric, among)
            assert np.array_equal(found, np.sort(order[:k])), (metric, anchor, k)
        for position, index in enumerate(order[:40]):
            assert ground_truth.nearest_rank(gallery, int(anchor), int(index), metric, among) == position
