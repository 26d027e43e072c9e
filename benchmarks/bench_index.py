"""Index benchmark: posebrowser's RetrievalIndex vs bare faiss, exact at 100k and approximate at 1M.

Prints ratios against baselines measured in the same run (absolute times drift on shared machines).
Goals: core query ≤ 1.5× bare IndexFlatIP at 100k; approximate 1M query ≤ 5 ms and ≥ 5× faster than exact.

The approximate index is measured on two kinds of data: synthetic clusters (as many clusters as the
index has lists, which flatters an IVF index) and the built-in gallery's embeddings of real renders
(``models/embeddings/*/embeddings.npy``), tiled to the size with Gaussian noise of half the median
nearest-neighbour distance; its queries are held-out gallery rows with the same noise.

    python benchmarks/bench_index.py [--size 1000000] [--exact-size 100000] [--repeats 50]
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
from timing import median_ms


def clustered(n: int, dim: int = 128, clusters: int = 1000, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    centres = rng.standard_normal((clusters, dim)).astype(np.float32)
    out = np.empty((n, dim), dtype=np.float32)
    step = 100_000
    for start in range(0, n, step):  # chunked to bound temporaries at 1M
        stop = min(n, start + step)
        block = centres[rng.integers(0, clusters, stop - start)] + 0.6 * rng.standard_normal(
            (stop - start, dim)
        )
        out[start:stop] = block / np.linalg.norm(block, axis=1, keepdims=True)
    return out


REPO = Path(__file__).resolve().parents[1]


def shipped_embeddings() -> np.ndarray | None:
    """The built-in gallery's cached embeddings (finite rows only), or None when there are none."""
    found = sorted((REPO / "models" / "embeddings").glob("*/embeddings.npy"))
    if not found:
        return None
    rows = np.load(found[0]).astype(np.float32)
    return rows[np.isfinite(rows).all(axis=1)]


def tiled_with_noise(real: np.ndarray, n: int, held_out: int, seed: int = 3) -> tuple[np.ndarray, np.ndarray]:
    """(n, D) database + (held_out, D) queries made from real embeddings: random rows (the last
    ``held_out`` rows only for queries) plus noise of half their median nearest-neighbour distance."""
    rng = np.random.default_rng(seed)
    source, query_source = real[:-held_out], real[-held_out:]
    sample = source[rng.choice(len(source), min(2000, len(source)), replace=False)]
    distances = np.sqrt(np.maximum(2.0 - 2.0 * sample @ source.T, 0.0))
    distances[distances < 1e-6] = np.inf  # the row itself
    sigma = 0.5 * float(np.median(distances.min(axis=1))) / np.sqrt(real.shape[1])

    def noisy(rows: np.ndarray) -> np.ndarray:
        out = rows + sigma * rng.standard_normal(rows.shape).astype(np.float32)
        return np.asarray(out / np.linalg.norm(out, axis=1, keepdims=True), dtype=np.float32)

    out = np.empty((n, real.shape[1]), dtype=np.float32)
    for start in range(0, n, 100_000):  # chunked to bound temporaries at 1M
        stop = min(n, start + 100_000)
        out[start:stop] = noisy(source[rng.integers(0, len(source), stop - start)])
    return out, noisy(query_source)


def bench_approximate(label: str, big: np.ndarray, queries: np.ndarray, k: int, repeats: int) -> None:
    import faiss

    from posebrowser.core.index import RetrievalIndex

    start = time.perf_counter()
    approx = RetrievalIndex(big, exact_threshold=min(200_000, len(big) - 1))
    build = time.perf_counter() - start
    exact = faiss.IndexFlatIP(big.shape[1])
    exact.add(big)
    t_exact = median_ms(lambda i: exact.search(queries[i : i + 1], k), repeats)
    t_approx = median_ms(lambda i: approx.search(queries[i : i + 1], k), repeats)
    _, truth = exact.search(queries, k)
    _, found = approx.search(queries, k)
    recall = np.mean([len(np.intersect1d(a, b)) / k for a, b in zip(truth, found, strict=True)])
    m = f"{len(big)}, {label}"
    print(f"[{m}] {approx.kind}; build {build:.1f} s")
    print(f"[{m}] exact IndexFlatIP            {t_exact:8.3f} ms")
    print(
        f"[{m}] approximate                  {t_approx:8.3f} ms   speed-up {t_exact / t_approx:.1f}x "
        f"(goal >= 5x, <= 5 ms); recall@{k} on fresh queries {recall:.3f}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--size", type=int, default=1_000_000, help="gallery size for the approximate test")
    parser.add_argument("--exact-size", type=int, default=100_000)
    parser.add_argument("--repeats", type=int, default=50)
    parser.add_argument("--k", type=int, default=50)
    args = parser.parse_args()

    import faiss

    from posebrowser.core.device import configure_threads
    from posebrowser.core.index import RetrievalIndex

    print("threads:", configure_threads())
    k = args.k
    # queries come from the same distribution as the gallery (same cluster centres), not from it
    emb = clustered(args.exact_size + args.repeats + 1)
    emb, queries = emb[: args.exact_size], emb[args.exact_size :]
    bare = faiss.IndexFlatIP(128)
    bare.add(emb)
    core = RetrievalIndex(emb)
    t_bare = median_ms(lambda i: bare.search(queries[i : i + 1], k), args.repeats)
    t_core = median_ms(lambda i: core.search(queries[i : i + 1], k), args.repeats)
    allowed = np.zeros(len(emb), bool)
    allowed[::3] = True
    t_filtered = median_ms(lambda i: core.search(queries[i : i + 1], k, allowed), args.repeats)
    mask = np.random.default_rng(0).uniform(0, 1, 128).astype(np.float32)
    t_masked = median_ms(lambda i: core.masked_search(queries[i : i + 1], mask, k), args.repeats)
    n = args.exact_size
    print(f"[{n}] bare faiss IndexFlatIP      {t_bare:8.3f} ms")
    print(
        f"[{n}] RetrievalIndex.search        {t_core:8.3f} ms   ratio {t_core / t_bare:.2f}x (goal <= 1.5x)"
    )
    print(f"[{n}] filtered (1/3 allowed)       {t_filtered:8.3f} ms   ratio {t_filtered / t_bare:.2f}x")
    print(f"[{n}] masked (numpy, weighted L2)  {t_masked:8.3f} ms   ratio {t_masked / t_bare:.2f}x")

    repeats = max(10, args.repeats // 2)
    big = clustered(args.size + len(queries), seed=2)
    bench_approximate("synthetic clusters", big[: args.size], big[args.size :], k, repeats)
    del big
    real = shipped_embeddings()
    if real is None:
        print("no models/embeddings/*/embeddings.npy: the real-render run is skipped")
        return
    big, queries = tiled_with_noise(real, args.size, held_out=max(repeats, 200))
    bench_approximate(f"{len(real)} real renders tiled with noise", big, queries, k, repeats)

if __name__ == "__main__":
    main()
