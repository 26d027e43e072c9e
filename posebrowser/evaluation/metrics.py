"""The thesis' retrieval metrics (hit@k, mean distance@k, posebit precision@k), vectorised with numpy.

Notation (per query q over a database T of M items): ``π_q`` = T sorted by embedding distance to q,
``rank_q(t)`` = 0-based position of t in ``π_q`` (the inverse permutation of ``π_q``), ``γ_q`` = T
sorted by the ground-truth distance ``D(q, ·)``. Sorting is stable (ties keep database order); embedding
distances are rounded to :data:`RANK_DECIMALS` decimals first, so that items at the same distance tie on
every CPU.
Queries are processed in chunks so memory stays ~O(chunk · M); no Python loop runs over k or M.

All metric functions return fractions in [0, 1] (or distances in the units of ``D``), one value per
entry of ``ks``; reports multiply by 100 for percentages.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray

DEFAULT_KS: tuple[int, ...] = tuple(range(1, 11))
THESIS_RANK_THRESHOLD = 50
ChanceMethod = Literal["analytic", "monte_carlo"]
DistanceVariant = Literal["standard", "thesis"]
_CHUNK_ELEMENTS = 1 << 21

FloatArray = NDArray[np.float64]


@dataclass(frozen=True)
class RetrievalScores:
    """Per-k scores of one (query set, database, ground truth) triple; arrays have shape (len(ks),).

    ``hit``: hit@k fraction; ``distance_standard``: mean over q of ``D(q, π_q[k−1])`` (the ground-truth
    distance of the k-th retrieved item); ``distance_thesis``: mean over q of ``D(q, γ_q[rank_q(γ_q[k−1])])``
    (the thesis' variant); ``best_rank``: mean over q of ``min_{j<k} rank_q(γ_q[j])``.
    """

    ks: tuple[int, ...]
    hit: FloatArray
    distance_standard: FloatArray
    distance_thesis: FloatArray
    best_rank: FloatArray


def _check_ks(ks: Sequence[int], num_db: int) -> tuple[int, ...]:
    values = tuple(int(k) for k in ks)
    if not values or min(values) < 1 or max(values) > num_db:
        raise ValueError(f"every k must lie in 1..{num_db} (database size), got {values}")
    return values


def _window(threshold: int, thesis_off_by_one: bool) -> int:
    """Number of top ranks that count as a hit: ``threshold + 1`` (thesis ``rank ≤ 50``) or ``threshold``."""
    return threshold + 1 if thesis_off_by_one else threshold


def embedding_distances(queries: ArrayLike, database: ArrayLike) -> FloatArray:
    """Euclidean distances (Q, M) float64 between rows of queries (Q, D) and database (M, D)."""
    q = np.asarray(queries, dtype=np.float64)
    d = np.asarray(database, dtype=np.float64)
    squared = (q * q).sum(1)[:, None] + (d * d).sum(1)[None, :] - 2.0 * (q @ d.T)
    result: FloatArray = np.sqrt(np.maximum(squared, 0.0))
    return result


#: Decimals embedding distances keep before they are ranked. Items at the same distance (the posebyte
#: oracle ranks by Hamming distance: many exact ties) then keep database order on every CPU; unrounded, the
#: last-bit rounding of the matrix product, which differs between CPUs, broke those ties (the oracle's
#: top-10 share moved by 0.1 point between two hosts). Distinct float32 embeddings lie ≥ ~1e-8 apart.
RANK_DECIMALS = 9


def ranking_distances(queries: ArrayLike, database: ArrayLike) -> FloatArray:
    """:func:`embedding_distances` rounded to :data:`RANK_DECIMALS` decimals: what the metrics rank by."""
    result: FloatArray = np.round(embedding_distances(queries, database), RANK_DECIMALS)
    return result


def _query_chunks(num_queries: int, num_db: int) -> Iterator[slice]:
    step = max(1, _CHUNK_ELEMENTS // max(num_db, 1))
    for start in range(0, num_queries, step):
        yield slice(start, min(start + step, num_queries))


def inverse_permutation(order: NDArray[np.int64]) -> NDArray[np.int64]:
    """Rows of permutations (Q, M) → rank arrays (Q, M) with ``rank[q, order[q, i]] = i``."""
    ranks = np.empty_like(order)
    positions = np.broadcast_to(np.arange(order.shape[1], dtype=order.dtype), order.shape)
    np.put_along_axis(ranks, order, positions, axis=1)
    return ranks


def retrieval_scores(
    query_emb: ArrayLike,
    db_emb: ArrayLike,
    gt_dist: ArrayLike,
    ks: Sequence[int] = DEFAULT_KS,
    threshold: int = THESIS_RANK_THRESHOLD,
    thesis_off_by_one: bool = True,
) -> RetrievalScores:
    """hit@k, both mean distance@k variants and mean best rank in one pass.

    query_emb (Q, D), db_emb (M, D) float embeddings; gt_dist (Q, M) ground-truth distances D(q, t).
    A query hits at k if one of its k ground-truth nearest items has ``rank ≤ threshold``
    (``thesis_off_by_one=True``, the thesis' top 51) or ``rank < threshold`` (top ``threshold``).
    """
    queries = np.asarray(query_emb, dtype=np.float64)
    database = np.asarray(db_emb, dtype=np.float64)
    truth = np.asarray(gt_dist, dtype=np.float64)
    num_queries, num_db = queries.shape[0], database.shape[0]
    if truth.shape != (num_queries, num_db):
        raise ValueError(f"gt_dist must be ({num_queries}, {num_db}), got {truth.shape}")
    if num_queries == 0:
        raise ValueError("at least one query is needed")
    ks = _check_ks(ks, num_db)
    k_max = max(ks)
    columns = np.asarray(ks) - 1
    window = _window(threshold, thesis_off_by_one)
    hits = np.zeros(k_max)
    standard = np.zeros(k_max)
    thesis = np.zeros(k_max)
    best_sum = np.zeros(k_max)
    for rows in _query_chunks(num_queries, num_db):
        order = np.argsort(ranking_distances(queries[rows], database), axis=1, kind="stable")
        ranks = inverse_permutation(order)
        gt_order = np.argsort(truth[rows], axis=1, kind="stable")
        gt_sorted = np.take_along_axis(truth[rows], gt_order, axis=1)
        true_ranks = np.take_along_axis(ranks, gt_order[:, :k_max], axis=1)
        best = np.minimum.accumulate(true_ranks, axis=1)
        hits += (best < window).sum(axis=0)
        best_sum += best.sum(axis=0)
        standard += np.take_along_axis(truth[rows], order[:, :k_max], axis=1).sum(axis=0)
        thesis += np.take_along_axis(gt_sorted, true_ranks, axis=1).sum(axis=0)
    return RetrievalScores(
        ks=ks,
        hit=hits[columns] / num_queries,
        distance_standard=standard[columns] / num_queries,
        distance_thesis=thesis[columns] / num_queries,
        best_rank=best_sum[columns] / num_queries,
    )


def hit_at_k(
    query_emb: ArrayLike,
    db_emb: ArrayLike,
    gt_dist: ArrayLike,
    ks: Sequence[int] = DEFAULT_KS,
    threshold: int = THESIS_RANK_THRESHOLD,
    thesis_off_by_one: bool = True,
) -> FloatArray:
    """hit@k fractions (len(ks),): share of queries with a true k-NN within the retrieval window."""
    return retrieval_scores(query_emb, db_emb, gt_dist, ks, threshold, thesis_off_by_one).hit


def mean_distance_at_k(
    query_emb: ArrayLike,
    db_emb: ArrayLike,
    gt_dist: ArrayLike,
    ks: Sequence[int] = DEFAULT_KS,
    variant: DistanceVariant = "standard",
) -> FloatArray:
    """Mean ground-truth distance at k (len(ks),), not cumulative.

    ``"standard"``: ``mean_q D(q, π_q[k−1])``. ``"thesis"``: ``mean_q D(q, γ_q[rank_q(γ_q[k−1])])``.
    """
    scores = retrieval_scores(query_emb, db_emb, gt_dist, ks)
    return scores.distance_standard if variant == "standard" else scores.distance_thesis


def chance_hit_at_k(
    num_db: int,
    ks: Sequence[int] = DEFAULT_KS,
    threshold: int = THESIS_RANK_THRESHOLD,
    thesis_off_by_one: bool = True,
    method: ChanceMethod = "analytic",
    num_queries: int = 10_000,
    seed: int = 0,
) -> FloatArray:
    """hit@k of random retrieval (len(ks),).

    The thesis draws k items uniformly with replacement; their ranks are then uniform on 0..M−1, so
    the exact value is ``1 − (1 − w/M)^k`` with w the window (51 for the thesis). ``"monte_carlo"``
    simulates the thesis' draw with a seeded generator and ``num_queries`` queries.
    """
    ks = _check_ks(ks, num_db)
    window = min(_window(threshold, thesis_off_by_one), num_db)
    k_array = np.asarray(ks, dtype=np.float64)
    if method == "analytic":
        result: FloatArray = 1.0 - (1.0 - window / num_db) ** k_array
        return result
    rng = np.random.default_rng(seed)
    drawn_ranks = rng.integers(0, num_db, size=(num_queries, max(ks)))
    best = np.minimum.accumulate(drawn_ranks, axis=1)
    fractions: FloatArray = (best < window).mean(axis=0)[np.asarray(ks) - 1]
    return fractions


def chance_mean_distance_at_k(
    gt_dist: ArrayLike,
    ks: Sequence[int] = DEFAULT_KS,
    method: ChanceMethod = "analytic",
    seed: int = 0,
) -> FloatArray:
    """Mean distance@k of random retrieval (len(ks),), valid for both variants.

    A random ranking puts a uniform item at every position, and the thesis' ``γ_q[rank_q(u)]`` with
    uniform u is uniform too, so the expectation is the mean of ``D`` for every k. ``"monte_carlo"``
    draws one uniform item per (q, k) with a seeded generator, as the thesis.
    """
    truth = np.asarray(gt_dist, dtype=np.float64)
    ks = _check_ks(ks, truth.shape[1])
    if method == "analytic":
        return np.full(len(ks), truth.mean())
    rng = np.random.default_rng(seed)
    drawn = rng.integers(0, truth.shape[1], size=(truth.shape[0], max(ks)))
    means: FloatArray = np.take_along_axis(truth, drawn, axis=1).mean(axis=0)[np.asarray(ks) - 1]
    return means


def precision_at_k(
    rankings: ArrayLike,
    db_values: ArrayLike,
    wanted: int | ArrayLike,
    ks: Sequence[int] = DEFAULT_KS,
) -> FloatArray:
    """Mean over queries of the share of the top-k items whose value equals the wanted one (len(ks),).

    rankings (Q, K) or (K,) int indices into ``db_values`` (M,), best first; entries < 0 (missing
    results) count as misses, as do unknown values (−1) in ``db_values``. ``wanted``: one value for all
    queries or (Q,) values. This is the thesis' "recall@k" for posebit questions.
    """
    ranked = np.atleast_2d(np.asarray(rankings, dtype=np.int64))
    values = np.asarray(db_values)
    targets = np.broadcast_to(np.asarray(wanted), (ranked.shape[0],))
    ks = _check_ks(ks, ranked.shape[1])
    valid = ranked >= 0
    matches = valid & (values[np.where(valid, ranked, 0)] == targets[:, None])
    cumulative = np.cumsum(matches[:, : max(ks)], axis=1)
    k_array = np.asarray(ks)
    result: FloatArray = (cumulative[:, k_array - 1] / k_array).mean(axis=0)
    return result


def chance_precision(db_values: ArrayLike, wanted: int | ArrayLike) -> float:
    """Expected precision of a random ranking: mean over queries of the database's positive rate."""
    values = np.asarray(db_values)
    targets = np.atleast_1d(np.asarray(wanted))
    rates = (values[None, :] == targets[:, None]).mean(axis=1)
    return float(rates.mean())


def top_k_indices(query_emb: ArrayLike, db_emb: ArrayLike, k: int) -> NDArray[np.int64]:
    """(Q, k) int64 database rows nearest (Euclidean) to each query, best first (stable on ties)."""
    queries = np.asarray(query_emb, dtype=np.float64)
    database = np.asarray(db_emb, dtype=np.float64)
    k = min(int(k), database.shape[0])
    out = np.empty((queries.shape[0], k), dtype=np.int64)
    for rows in _query_chunks(queries.shape[0], database.shape[0]):
        distances = ranking_distances(queries[rows], database)
        out[rows] = np.argsort(distances, axis=1, kind="stable")[:, :k]
    return out


def true_neighbour_share(
    query_emb: ArrayLike, db_emb: ArrayLike, gt_dist: ArrayLike, k: int = 10, true_k: int = 50
) -> float:
    """Share (0–1) of each query's top-``k`` retrieved items that are among its ``true_k`` ground-truth
    nearest database items, averaged over queries (ground-truth ties broken by row order)."""
    truth = np.asarray(gt_dist, dtype=np.float64)
    retrieved = top_k_indices(query_emb, db_emb, k)
    true_k = min(int(true_k), truth.shape[1])
    nearest = np.argsort(np.where(np.isfinite(truth), truth, np.inf), axis=1, kind="stable")[:, :true_k]
    shares = [np.isin(found, near).mean() for found, near in zip(retrieved, nearest, strict=True)]
    return float(np.mean(shares)) if shares else float("nan")
