"""tools/flip_views.py: the both-views vectors rank by the mean of the two views' squared distances, the
mirror map recovers a known rotation, the per-query hits agree with ``retrieval_scores`` and the paired
test is the exact binomial one."""

from __future__ import annotations

import math
from types import ModuleType

import numpy as np
from script_loader import load_script

from posebrowser.evaluation.metrics import embedding_distances, retrieval_scores


def _tool() -> ModuleType:
    return load_script("tools/flip_views.py")


def _unit_rows(rng: np.random.Generator, count: int, dim: int = 16) -> np.ndarray:
    rows = rng.normal(size=(count, dim))
    return rows / np.linalg.norm(rows, axis=1, keepdims=True)


def test_both_views_rank_by_the_mean_squared_distance_of_the_two_views() -> None:
    tool, rng = _tool(), np.random.default_rng(1)
    plain, mirrored = _unit_rows(rng, 30), _unit_rows(rng, 30)
    both = tool.both_views(plain, mirrored)
    np.testing.assert_allclose(np.linalg.norm(both, axis=1), 1.0, atol=1e-12)
    expected = (embedding_distances(plain, plain) ** 2 + embedding_distances(mirrored, mirrored) ** 2) / 2
    np.testing.assert_allclose(embedding_distances(both, both) ** 2, expected, atol=1e-9)


def test_mirror_map_recovers_a_known_rotation() -> None:
    tool, rng = _tool(), np.random.default_rng(2)
    rotation, _ = np.linalg.qr(rng.normal(size=(16, 16)))
    plain = _unit_rows(rng, 200)
    np.testing.assert_allclose(tool.mirror_map(plain, plain @ rotation), rotation, atol=1e-9)
    back = tool.through_mirror_map(plain, plain @ rotation, rotation)
    np.testing.assert_allclose(back, plain, atol=1e-9)


def test_per_query_hits_average_to_retrieval_scores_hit_at_1() -> None:
    tool, rng = _tool(), np.random.default_rng(3)
    queries, database = _unit_rows(rng, 40), _unit_rows(rng, 120)
    truth = embedding_distances(queries + 0.6 * _unit_rows(rng, 40), database)
    for window in (1, 6, 30):
        hits = tool.per_query_hits(queries, database, truth, window)
        scores = retrieval_scores(queries, database, truth, (1,), window, False)
        assert hits.mean() == scores.hit[0]


def test_sign_test_is_the_exact_two_sided_binomial() -> None:
    tool = _tool()
    assert tool.sign_test(0, 0) == 1.0
    assert math.isclose(tool.sign_test(0, 5), 2 / 32)
    assert tool.sign_test(3, 9) == tool.sign_test(9, 3)
    assert math.isclose(tool.sign_test(3, 9), 2 * sum(math.comb(12, i) for i in range(4)) / 2**12)
    assert tool.sign_test(6, 6) == 1.0
