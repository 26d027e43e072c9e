"""Nearest-neighbour index over L2-normalised embeddings (faiss), with filters and masked search.

Exact ``IndexFlatIP`` up to ``exact_threshold`` items; above it ``IVF<nlist>,SQ8`` with ``nprobe`` tuned at
build time so that recall@50 against exact search is at least ``target_recall`` on a sample of queries
(measured, reported in :attr:`RetrievalIndex.kind`). All distances returned are Euclidean:
for unit vectors ``‖a − b‖ = sqrt(2 − 2⟨a, b⟩)``.

Results are *row positions* into the embedding matrix (stable: row i is gallery item i); ``ids[rows]``
gives the gallery's stable item ids. Missing results (fewer allowed rows than k) are row -1, distance inf.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from numpy.typing import NDArray

from posebrowser.errors import IndexMismatchError

F32 = NDArray[np.float32]
I64 = NDArray[np.int64]

DEFAULT_EXACT_THRESHOLD = 200_000
NPROBE_CANDIDATES = (4, 8, 16, 32, 48, 64, 96, 128, 192, 256, 384, 512, 768, 1024)
# On an approximate index, a filter keeping fewer rows than this is answered by exact numpy search over
# those rows: an IVF scan with a selector loses recall when few listed items are allowed. Exact indexes
# always scan with a faiss bitmap selector (no row gathering).
SUBSET_EXACT_LIMIT = 50_000


def _as_queries(queries: NDArray[Any], dim: int) -> F32:
    q = np.ascontiguousarray(np.atleast_2d(queries), dtype=np.float32)
    if q.shape[1] != dim:
        raise IndexMismatchError(f"A query has {q.shape[1]} dimensions but the index holds {dim}-d vectors.")
    return q


def ip_to_euclidean(similarities: F32) -> F32:
    """Inner products of unit vectors → Euclidean distances ``sqrt(max(0, 2 − 2·ip))`` (float32)."""
    out = np.maximum(2.0 - 2.0 * similarities.astype(np.float32, copy=False), 0.0)
    result: F32 = np.sqrt(out, dtype=np.float32)
    return result


def top_k_smallest(values: F32, k: int) -> tuple[F32, I64]:
    """Per-row k smallest of (Q, M) ``values`` in ascending order → (values (Q,k), columns (Q,k) int64).

    Pads with inf / -1 when M < k.
    """
    q_count, m = values.shape
    kk = min(k, m)
    dist = np.full((q_count, k), np.inf, dtype=np.float32)
    cols = np.full((q_count, k), -1, dtype=np.int64)
    if kk == 0:
        return dist, cols
    part = np.argpartition(values, kk - 1, axis=1)[:, :kk] if kk < m else np.tile(np.arange(m), (q_count, 1))
    part_vals = np.take_along_axis(values, part, axis=1)
    order = np.argsort(part_vals, axis=1, kind="stable")
    dist[:, :kk] = np.take_along_axis(part_vals, order, axis=1)
    cols[:, :kk] = np.take_along_axis(part, order, axis=1)
    return dist, cols


class RetrievalIndex:
    """faiss index over ``embeddings`` (N, D) float32, L2-normalised rows; ``ids`` (N,) int64 stable ids."""

    def __init__(
        self,
        embeddings: NDArray[Any],
        ids: NDArray[Any] | None = None,
        exact_threshold: int = DEFAULT_EXACT_THRESHOLD,
        target_recall: float = 0.95,
        seed: int = 0,
    ) -> None:
        import faiss

        emb = np.ascontiguousarray(embeddings, dtype=np.float32)
        if emb.ndim != 2:
            raise IndexMismatchError(f"Embeddings must be a 2-d array, got shape {emb.shape}.")
        self.embeddings: F32 = emb
        self.count, self.dim = emb.shape
        self.ids: I64 = (
            np.arange(self.count, dtype=np.int64) if ids is None else np.asarray(ids, dtype=np.int64)
        )
        if len(self.ids) != self.count:
            raise IndexMismatchError(f"{len(self.ids)} ids were given for {self.count} embeddings.")
        self.query_threads = 1
        self.exact = self.count <= exact_threshold
        self.nprobe = 0
        self.recall_at_50: float | None = None
        self._squares: F32 | None = None
        self._mask_term: tuple[bytes, F32] | None = None  # (w² bytes, e²·w² over all rows)
        if self.exact:
            self._index: Any = faiss.IndexFlatIP(self.dim)
            self._index.add(emb)
            self.kind = "exact (IndexFlatIP)"
        else:
            self._build_ivf(target_recall, seed)

    # ------------------------------------------------------------------ build
    def _build_ivf(self, target_recall: float, seed: int) -> None:
        import faiss

        n = self.count
        # faiss wants >= 39 training points per centroid
        self.nlist = int(max(1, min(1024, round(4 * math.sqrt(n)), n // 39)))
        quantizer = faiss.IndexFlatIP(self.dim)
        index = faiss.IndexIVFScalarQuantizer(
            quantizer, self.dim, self.nlist, faiss.ScalarQuantizer.QT_8bit, faiss.METRIC_INNER_PRODUCT
        )
        rng = np.random.default_rng(seed)
        train_n = min(n, self.nlist * 64)
        train_rows = np.sort(rng.choice(n, size=train_n, replace=False))
        index.train(self.embeddings[train_rows])
        index.add(self.embeddings)
        self._index = index
        self._quantizer = quantizer  # keep the quantizer alive as long as the index
        self.nprobe, self.recall_at_50 = self._tune_nprobe(target_recall, rng)
        index.nprobe = self.nprobe
        self.kind = (
            f"approximate (IVF{self.nlist},SQ8, nprobe {self.nprobe}, recall@50 {self.recall_at_50:.2f})"
        )

    def _tune_nprobe(self, target_recall: float, rng: np.random.Generator) -> tuple[int, float]:
        """Smallest nprobe whose recall@50 vs exact search on 200 sampled queries reaches the target.

        Half the sample are gallery items (image queries), half normalised sums of two random items
        (arithmetic / composed queries, which fall between clusters and need more probes).
        """
        half = min(100, self.count)
        items = self.embeddings[rng.choice(self.count, size=half, replace=False)]
        pairs = self.embeddings[rng.choice(self.count, size=(half, 2))].sum(axis=1)
        pairs /= np.maximum(np.linalg.norm(pairs, axis=1, keepdims=True), 1e-12)
        sample = np.ascontiguousarray(np.concatenate([items, pairs]), dtype=np.float32)
        k = min(50, self.count)
        exact = np.argpartition(-(sample @ self.embeddings.T), k - 1, axis=1)[:, :k]
        best = (self.nlist, 0.0)
        for nprobe in NPROBE_CANDIDATES:
            nprobe = min(nprobe, self.nlist)
            self._index.nprobe = nprobe
            _, found = self._index.search(sample, k)
            hits = sum(len(np.intersect1d(a, b)) for a, b in zip(exact, found, strict=True))
            recall = hits / exact.size
            best = (nprobe, recall)
            if recall >= target_recall or nprobe == self.nlist:
                break
        return best

    # ----------------------------------------------------------------- search
    def search(
        self, queries: NDArray[Any], k: int, allowed: NDArray[np.bool_] | None = None
    ) -> tuple[F32, I64]:
        """k nearest rows to each query (Q, D) → (Euclidean distances (Q,k) float32 ascending, rows (Q,k)).

        ``allowed`` is an optional (N,) bool mask; only rows where it is True are returned.
        """
        q = _as_queries(queries, self.dim)
        self._use_query_threads()
        if allowed is None:
            sims, rows = self._index.search(q, k)
            return self._finish(sims, rows)
        mask = np.asarray(allowed, dtype=bool)
        if mask.shape != (self.count,):
            raise IndexMismatchError(
                f"The filter has shape {mask.shape} but the index holds {self.count} rows."
            )
        subset = np.flatnonzero(mask)
        if not self.exact and len(subset) <= SUBSET_EXACT_LIMIT:
            dist, cols = top_k_smallest(-(q @ self.embeddings[subset].T), k)
            rows = np.where(cols >= 0, subset[np.maximum(cols, 0)], -1)
            return self._finish(-dist, rows)
        import faiss

        packed = np.packbits(mask, bitorder="little")
        selector = faiss.IDSelectorBitmap(self.count, faiss.swig_ptr(packed))
        params: Any = faiss.SearchParameters() if self.exact else faiss.SearchParametersIVF()
        params.sel = selector  # the bitmap must outlive the search: ``packed`` is alive until we return
        if not self.exact:
            params.nprobe = self.nprobe
        sims, rows = self._index.search(q, k, params=params)
        return self._finish(sims, rows)

    def _use_query_threads(self) -> None:
        """One faiss thread for interactive queries, in *this* thread (OpenMP settings are per thread)."""
        import faiss

        if faiss.omp_get_max_threads() != self.query_threads:
            faiss.omp_set_num_threads(self.query_threads)

    @staticmethod
    def _finish(sims: NDArray[Any], rows: NDArray[Any]) -> tuple[F32, I64]:
        rows64 = np.asarray(rows, dtype=np.int64)
        # faiss marks missing results with row -1 and similarity -FLT_MAX: neutralise before converting
        dist = ip_to_euclidean(np.where(rows64 >= 0, sims, 0.0).astype(np.float32))
        dist[rows64 < 0] = np.inf
        return dist, rows64

    def _masked_norms(self, w2: F32) -> F32:
        key = w2.tobytes()
        if self._mask_term is None or self._mask_term[0] != key:
            if self._squares is None:
                self._squares = np.square(self.embeddings)
            self._mask_term = (key, np.asarray(self._squares @ w2, dtype=np.float32))
        return self._mask_term[1]

    def masked_search(
        self, queries: NDArray[Any], mask: NDArray[Any], k: int, allowed: NDArray[np.bool_] | None = None
    ) -> tuple[F32, I64]:
        """Rank rows by the weighted distance ``‖w ⊙ (e − q)‖`` (exact, numpy/BLAS over the allowed rows).

        ``queries`` (Q, D) (zeros = origin query), ``mask`` w (D,). Uses
        ``‖w⊙(e−q)‖² = (e²)·w² − 2 e·(w²⊙q) + ‖w⊙q‖²`` with e² cached: two matrix-vector products per query,
        no (N, D) temporary. Returns (distances (Q,k) float32 ascending, rows (Q,k) int64).
        """
        q = _as_queries(queries, self.dim)
        w2 = np.asarray(mask, dtype=np.float32).reshape(-1) ** 2
        if w2.shape != (self.dim,):
            raise IndexMismatchError(
                f"The mask has {w2.size} weights but the index holds {self.dim}-d vectors."
            )
        mask_term = self._masked_norms(w2)  # (N,) ‖w⊙e‖², cached per mask
        rows: I64 | None = None
        emb = self.embeddings
        if allowed is not None:
            rows = np.flatnonzero(np.asarray(allowed, dtype=bool)).astype(np.int64)
            mask_term = mask_term[rows]
        weighted_q = q * w2  # (Q, D)
        d2 = np.repeat(mask_term[None, :], len(q), axis=0)
        moving = np.any(weighted_q != 0, axis=1)  # origin queries need no cross term
        if moving.any():
            cross = weighted_q[moving] @ emb.T
            cross = cross if rows is None else cross[:, rows]
            d2[moving] += -2.0 * cross + np.sum(weighted_q[moving] * q[moving], axis=1)[:, None]
        dist2, cols = top_k_smallest(d2.astype(np.float32, copy=False), k)
        dist = np.sqrt(np.maximum(dist2, 0.0), dtype=np.float32)
        dist[cols < 0] = np.inf
        if rows is not None:
            cols = np.where(cols >= 0, rows[np.maximum(cols, 0)], -1)
        return dist, cols
