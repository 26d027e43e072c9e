"""Metrics: hand-worked cases, a literal transcription of the thesis' loops, chance formulas."""

from __future__ import annotations

import numpy as np
import pytest
from numpy.typing import NDArray

from posebrowser.evaluation import metrics
from posebrowser.evaluation.metrics import (
    chance_hit_at_k,
    chance_mean_distance_at_k,
    chance_precision,
    hit_at_k,
    mean_distance_at_k,
    precision_at_k,
    retrieval_scores,
)


def thesis_double_loop(
    query_emb: NDArray[np.float64],
    db_emb: NDArray[np.float64],
    gt: NDArray[np.float64],
    chances: int = 10,
    threshold: int = 50,
) -> tuple[list[float], list[float], list[float]]:
    """Literal transcription of the thesis evaluation scripts (per-query argsort + argwhere)."""
    num_q = query_emb.shape[0]
    ranks = np.zeros((num_q, chances), dtype=np.int64)
    dist = np.zeros((num_q, chances))
    standard = np.zeros((num_q, chances))
    for q in range(num_q):
        emb_dist = np.sqrt(((db_emb - query_emb[q]) ** 2).sum(axis=1))
        order = np.argsort(emb_dist, kind="stable")
        gt_order = np.argsort(gt[q], kind="stable")
        for j in range(chances):
            r = np.argwhere(order == gt_order[j])[0][0]
            ranks[q, j] = r
            dist[q, j] = gt[q, gt_order[r]]
            standard[q, j] = gt[q, order[j]]
    hits = []
    for k in range(1, chances + 1):
        count = 0
        for q in range(num_q):
            if np.min(ranks[q, :k]) <= threshold:
                count += 1
        hits.append(count / num_q)
    return hits, [float(v) for v in dist.mean(axis=0)], [float(v) for v in standard.mean(axis=0)]


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_matches_literal_thesis_loop_on_random_data(seed: int) -> None:
    rng = np.random.default_rng(seed)
    queries, database = rng.normal(size=(37, 8)), rng.normal(size=(300, 8))
    gt = rng.random((37, 300)) * 100
    gt = gt + 1.0 * np.sqrt(((queries[:, None] - database[None]) ** 2).sum(-1))  # correlated
    hits, dist_thesis, dist_standard = thesis_double_loop(queries, database, gt)
    scores = retrieval_scores(queries, database, gt)
    np.testing.assert_allclose(scores.hit, hits)
    np.testing.assert_allclose(scores.distance_thesis, dist_thesis)
    np.testing.assert_allclose(scores.distance_standard, dist_standard)
    assert 0 < scores.hit[0] < scores.hit[-1] <= 1


def test_chunking_does_not_change_results(monkeypatch: pytest.MonkeyPatch) -> None:
    rng = np.random.default_rng(5)
    q, d, gt = rng.normal(size=(20, 4)), rng.normal(size=(60, 4)), rng.random((20, 60))
    whole = retrieval_scores(q, d, gt, threshold=5)
    monkeypatch.setattr(metrics, "_CHUNK_ELEMENTS", 130)  # 2 queries per chunk
    chunked = retrieval_scores(q, d, gt, threshold=5)
    for name in ("hit", "distance_standard", "distance_thesis", "best_rank"):
        np.testing.assert_allclose(getattr(whole, name), getattr(chunked, name), rtol=1e-12)


def test_hand_worked_tiny_case() -> None:
    # 1-D embeddings: db items at 0, 1, 2, 3; query at 0 → retrieval order 0,1,2,3.
    database = np.array([[0.0], [1.0], [2.0], [3.0]])
    query = np.array([[0.0]])
    # ground truth order: item 3 (d=1), item 2 (d=2), item 0 (d=5), item 1 (d=9)
    gt = np.array([[5.0, 9.0, 2.0, 1.0]])
    # ranks of true neighbours: rank(3)=3, rank(2)=2, rank(0)=0, rank(1)=1; best: 3, 2, 0, 0
    np.testing.assert_allclose(hit_at_k(query, database, gt, ks=(1, 2, 3), threshold=2), [0, 1, 1])
    np.testing.assert_allclose(
        hit_at_k(query, database, gt, ks=(1, 2, 3), threshold=2, thesis_off_by_one=False), [0, 0, 1]
    )
    np.testing.assert_allclose(hit_at_k(query, database, gt, ks=(1, 2), threshold=3), [1, 1])
    # standard distance@k = D(q, π[k−1]) = 5, 9, 2, 1
    np.testing.assert_allclose(mean_distance_at_k(query, database, gt, ks=(1, 2, 3, 4)), [5, 9, 2, 1])
    # thesis: D(q, γ[rank(γ[k−1])]) → γ = 3,2,0,1 sorted D = 1,2,5,9; ranks 3,2,0,1 → 9, 5, 1, 2
    np.testing.assert_allclose(
        mean_distance_at_k(query, database, gt, ks=(1, 2, 3, 4), variant="thesis"), [9, 5, 1, 2]
    )
    assert retrieval_scores(query, database, gt, ks=(1, 2, 3)).best_rank.tolist() == [3, 2, 0]


def test_perfect_embedding_hits_everything() -> None:
    rng = np.random.default_rng(3)
    q, d = rng.normal(size=(10, 3)), rng.normal(size=(80, 3))
    gt = metrics.embedding_distances(q, d)
    np.testing.assert_allclose(hit_at_k(q, d, gt, threshold=0, thesis_off_by_one=True), 1.0)
    np.testing.assert_allclose(mean_distance_at_k(q, d, gt, ks=(1,)), np.sort(gt, axis=1)[:, 0].mean())


def test_invalid_inputs() -> None:
    with pytest.raises(ValueError, match="gt_dist"):
        hit_at_k(np.zeros((2, 3)), np.zeros((4, 3)), np.zeros((2, 5)))
    with pytest.raises(ValueError, match="every k"):
        hit_at_k(np.zeros((2, 3)), np.zeros((4, 3)), np.zeros((2, 4)), ks=(5,))


def test_chance_hit_formula_matches_thesis_numbers_and_monte_carlo() -> None:
    analytic = chance_hit_at_k(2000)
    assert analytic[0] == pytest.approx(51 / 2000)
    assert analytic[-1] == pytest.approx(0.228, abs=5e-4)
    simulated = chance_hit_at_k(2000, method="monte_carlo", num_queries=40_000, seed=1)
    np.testing.assert_allclose(simulated, analytic, atol=0.006)
    top50 = chance_hit_at_k(2000, ks=(1,), thesis_off_by_one=False)
    assert top50[0] == pytest.approx(50 / 2000)


def test_chance_hit_equals_random_embeddings_on_average() -> None:
    rng = np.random.default_rng(11)
    num_q, num_db = 400, 120
    gt = rng.random((num_q, num_db))
    observed = hit_at_k(rng.normal(size=(num_q, 6)), rng.normal(size=(num_db, 6)), gt, ks=(1, 3), threshold=9)
    np.testing.assert_allclose(observed, chance_hit_at_k(num_db, ks=(1, 3), threshold=9), atol=0.06)


def test_chance_distance_analytic_vs_monte_carlo() -> None:
    gt = np.random.default_rng(2).random((300, 50)) * 10
    analytic = chance_mean_distance_at_k(gt, ks=(1, 5, 10))
    assert np.all(analytic == gt.mean())
    simulated = chance_mean_distance_at_k(gt, ks=(1, 5, 10), method="monte_carlo", seed=4)
    np.testing.assert_allclose(simulated, analytic, atol=0.5)


def test_precision_hand_cases() -> None:
    truth = np.array([1, 0, 1, 1, 0, -1])
    rankings = np.array([[0, 1, 2, 3], [4, 5, 1, 0]])
    np.testing.assert_allclose(
        precision_at_k(rankings, truth, 1, ks=(1, 2, 3, 4)),
        [(1 + 0) / 2, (0.5 + 0) / 2, (2 / 3 + 0) / 2, (3 / 4 + 1 / 4) / 2],
    )
    np.testing.assert_allclose(
        precision_at_k(rankings, truth, np.array([1, 0]), ks=(1, 2)), [(1 + 1) / 2, (0.5 + 0.5) / 2]
    )
    np.testing.assert_allclose(precision_at_k(np.array([2, -1, 3]), truth, 1, ks=(1, 2, 3)), [1, 0.5, 2 / 3])
    assert chance_precision(truth, 1) == pytest.approx(3 / 6)
    assert chance_precision(truth, np.array([1, 0])) == pytest.approx((3 / 6 + 2 / 6) / 2)


def test_precision_of_random_rankings_is_chance() -> None:
    rng = np.random.default_rng(8)
    truth = (rng.random(500) < 0.3).astype(np.int8)
    rankings = np.stack([rng.permutation(500)[:10] for _ in range(2000)])
    np.testing.assert_allclose(precision_at_k(rankings, truth, 1), chance_precision(truth, 1), atol=0.02)


def test_true_neighbour_share_matches_a_brute_force_count() -> None:
    from posebrowser.evaluation.metrics import true_neighbour_share

    rng = np.random.default_rng(3)
    queries, database = rng.normal(size=(7, 5)), rng.normal(size=(40, 5))
    truth = rng.random((7, 40))
    expected = []
    for q in range(7):
        found = np.argsort(np.linalg.norm(database - queries[q], axis=1), kind="stable")[:4]
        near = set(np.argsort(truth[q], kind="stable")[:10].tolist())
        expected.append(np.mean([f in near for f in found]))
    assert true_neighbour_share(queries, database, truth, k=4, true_k=10) == pytest.approx(np.mean(expected))
    # queries that are the database items whose truth is the embedding distance: perfect overlap
    exact = np.linalg.norm(database[:7, None] - database[None], axis=-1)
    assert true_neighbour_share(database[:7], database, exact, k=4, true_k=4) == 1.0


def test_items_at_the_same_distance_up_to_the_last_bits_keep_database_order() -> None:
    """Two database items at the same distance from the query, one of them nearer by a rounding error
    (as the matrix product's last bits differ between CPUs): the ranking keeps database order. Before,
    the rounding error decided, so the posebyte oracle's figures moved between hosts."""
    query = np.array([[1.0, 0.0]])
    tied = np.array([0.6, 0.8])
    database = np.stack([tied + np.array([0.0, 2e-13]), tied, np.array([0.0, 1.0])])  # row 1: nearer by 1e-13
    assert metrics.top_k_indices(query, database, 3).tolist() == [[0, 1, 2]]
    truth = np.array([[0.0, 1.0, 2.0]])  # row 0 is the true nearest: a hit at k = 1 only if it ranks first
    assert metrics.hit_at_k(query, database, truth, ks=(1,), threshold=1, thesis_off_by_one=False)[0] == 1.0
    assert metrics.true_neighbour_share(query, database, truth, k=1, true_k=1) == 1.0
