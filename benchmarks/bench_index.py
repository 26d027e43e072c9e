"""Index benchmark: posebrowser's RetrievalIndex vs bare faiss, exact at 100k and approximate at 1M.

Prints ratios against baselines measured in the same run (absolute times drift on shared machines).
Goals: core query ≤ 1.5× bare IndexFlatIP at 100k; approximate 1M query ≤ 5 ms and ≥ 5× faster than exact.

    python benchmarks/bench_index.py [--size 1000000] [--exact-size 100000] [--repeats 50]
"""

from __future__ import annotations

import argparse
import time

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

    big = clustered(args.size + len(queries), seed=2)
    big, queries = big[: args.size], big[args.size :]
    start = time.perf_counter()
    approx = RetrievalIndex(big, exact_threshold=min(200_000, args.size - 1))
    build = time.perf_counter() - start
    exact = faiss.IndexFlatIP(128)
    exact.add(big)
    repeats = max(10, args.repeats // 2)
    t_exact = median_ms(lambda i: exact.search(queries[i : i + 1], k), repeats)
    t_approx = median_ms(lambda i: approx.search(queries[i : i + 1], k), repeats)
    _, truth = exact.search(queries, k)
    _, found = approx.search(queries, k)
    recall = np.mean([len(np.intersect1d(a, b)) / k for a, b in zip(truth, found, strict=True)])
    m = args.size
    print(f"[{m}] {approx.kind}; build {build:.1f} s")
    print(f"[{m}] exact IndexFlatIP            {t_exact:8.3f} ms")
    print(
        f"[{m}] approximate                  {t_approx:8.3f} ms   speed-up {t_exact / t_approx:.1f}x "
        f"(goal >= 5x, <= 5 ms); recall@{k} on fresh queries {recall:.3f}"
    )


if __name__ == "__main__":
    main()
