"""RetrievalIndex against numpy brute force (exact, filtered, masked) and recall of the IVF index."""

from __future__ import annotations

import numpy as np
import pytest
from core_fakes import clustered

from posebrowser.core.index import RetrievalIndex
from posebrowser.errors import IndexMismatchError


def brute_force(emb: np.ndarray, q: np.ndarray, k: int, allowed: np.ndarray | None = None):  # type: ignore[no-untyped-def]
    d = np.sqrt(np.maximum(((q[:, None, :] - emb[None, :, :]) ** 2).sum(-1), 0))
    if allowed is not None:
        d[:, ~allowed] = np.inf
    order = np.argsort(d, axis=1, kind="stable")[:, :k]
    return np.take_along_axis(d, order, axis=1), order


def test_exact_search_matches_brute_force() -> None:
    emb = clustered(3000, seed=1)
    queries = clustered(5, seed=2)
    index = RetrievalIndex(emb)
    assert index.kind == "exact (IndexFlatIP)"
    dist, rows = index.search(queries, 25)
    ref_d, ref_rows = brute_force(emb, queries, 25)
    np.testing.assert_allclose(dist, ref_d, atol=2e-3)
    assert (rows == ref_rows).mean() > 0.98  # ties between float orders aside
    assert np.all(np.diff(dist, axis=1) >= 0)


@pytest.mark.parametrize("fraction", [0.002, 0.3])
def test_filtered_search_matches_brute_force(fraction: float) -> None:
    rng = np.random.default_rng(3)
    emb = clustered(60_000 if fraction > 0.1 else 3000, seed=3)
    allowed = rng.random(len(emb)) < fraction
    queries = clustered(3, seed=4)
    dist, rows = RetrievalIndex(emb).search(queries, 20, allowed)
    ref_d, _ = brute_force(emb, queries, 20, allowed)
    valid = rows >= 0
    assert np.all(allowed[rows[valid]])
    np.testing.assert_allclose(dist[valid], ref_d[valid], atol=2e-3)
    if allowed.sum() < 20:
        assert np.isinf(dist[~valid]).all()


def test_masked_search_matches_brute_force() -> None:
    rng = np.random.default_rng(5)
    emb = clustered(2000, seed=5)
    mask = rng.uniform(-1, 2, 128).astype(np.float32)
    q = clustered(2, seed=6)
    allowed = rng.random(2000) < 0.5
    index = RetrievalIndex(emb)
    for query in (q, np.zeros((1, 128), np.float32)):
        dist, rows = index.masked_search(query, mask, 10, allowed)
        ref = np.linalg.norm((emb[None, :, :] - query[:, None, :]) * mask, axis=2)
        ref[:, ~allowed] = np.inf
        order = np.argsort(ref, axis=1)[:, :10]
        np.testing.assert_allclose(dist, np.take_along_axis(ref, order, axis=1), rtol=1e-3, atol=1e-3)
        assert np.all(allowed[rows])


def test_ids_and_errors() -> None:
    emb = clustered(100, seed=7)
    index = RetrievalIndex(emb, ids=np.arange(1000, 1100))
    _, rows = index.search(emb[:1], 1)
    assert index.ids[rows[0, 0]] == 1000
    with pytest.raises(IndexMismatchError):
        index.search(np.zeros((1, 64), np.float32), 3)
    with pytest.raises(IndexMismatchError):
        index.search(emb[:1], 3, np.ones(5, bool))
    with pytest.raises(IndexMismatchError):
        RetrievalIndex(emb, ids=np.arange(3))


def test_approximate_index_recall_on_20k() -> None:
    emb = clustered(20_000, clusters=200, seed=8)
    index = RetrievalIndex(emb, exact_threshold=10_000)
    assert index.kind.startswith("approximate (IVF")
    assert index.recall_at_50 is not None and index.recall_at_50 >= 0.95
    queries = clustered(100, clusters=200, seed=8)[:50] + 0.01
    queries /= np.linalg.norm(queries, axis=1, keepdims=True)
    _, approx = index.search(queries, 50)
    _, exact = brute_force(emb, queries, 50)
    recall = np.mean([len(np.intersect1d(a, b)) / 50 for a, b in zip(approx, exact, strict=True)])
    assert recall >= 0.9
    allowed = np.zeros(len(emb), bool)
    allowed[::3] = True
    _, rows = index.search(queries[:2], 10, allowed)
    assert np.all(allowed[rows[rows >= 0]])


def test_search_restores_one_faiss_thread() -> None:
    """BLAS thread limits (threadpoolctl) also set faiss' OpenMP threads; a query must run on one."""
    import faiss

    index = RetrievalIndex(clustered(500, seed=9))
    faiss.omp_set_num_threads(2)
    index.search(clustered(1, seed=10), 5)
    assert faiss.omp_get_max_threads() == 1
