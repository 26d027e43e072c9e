"""Projection benchmark: PCA at 100k (goal ≤ 0.2 s) and t-SNE at 20k vs bare openTSNE (goal ≤ 1.3×).

The t-SNE comparison runs the same openTSNE settings twice: bare ``openTSNE.TSNE.fit`` and posebrowser's
``project("tsne")`` with live layouts every 25 iterations and progress/cancel callbacks.

    python benchmarks/bench_projection.py [--pca-size 100000] [--tsne-size 20000]
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np


def clustered(n: int, dim: int = 128, clusters: int = 50, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    centres = rng.standard_normal((clusters, dim)).astype(np.float32)
    x = centres[rng.integers(0, clusters, n)] + rng.standard_normal((n, dim)).astype(np.float32)
    return x / np.linalg.norm(x, axis=1, keepdims=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--pca-size", type=int, default=100_000)
    parser.add_argument("--tsne-size", type=int, default=20_000)
    parser.add_argument("--tsne-jobs", type=int, default=1)
    parser.add_argument("--tsne-repeats", type=int, default=2)
    args = parser.parse_args()

    from openTSNE import TSNE

    from posebrowser.core.device import configure_threads
    from posebrowser.core.projection import project

    configure_threads()
    x = clustered(args.pca_size)
    project(x[:1000], "pca")  # warm-up (LAPACK initialisation)
    times = []
    for _ in range(5):
        start = time.perf_counter()
        project(x, "pca")
        times.append(time.perf_counter() - start)
    pca_s = statistics.median(times)
    print(f"[{args.pca_size}] PCA                  {pca_s * 1000:8.1f} ms (goal <= 200 ms)")

    data = clustered(args.tsne_size, seed=1)
    params = {
        "perplexity": 30.0,
        "n_iter": 500,
        "early_exaggeration_iter": 250,
        "seed": 0,
        "n_jobs": args.tsne_jobs,
    }
    layouts: list[np.ndarray] = []

    def bare_run() -> None:
        TSNE(**{k: v for k, v in params.items() if k not in ("seed", "every")}, random_state=0).fit(
            data.astype(np.float64)
        )

    def our_run() -> None:
        layouts.clear()
        project(
            data, "tsne", params, progress=lambda d, t: None, cancel=lambda: False, on_layout=layouts.append
        )

    # interleaved runs, best of each: the load on a shared machine drifts by more than the difference
    best = {"bare": float("inf"), "ours": float("inf")}
    for _ in range(args.tsne_repeats):
        for name, fn in (("bare", bare_run), ("ours", our_run)):
            start = time.perf_counter()
            fn()
            best[name] = min(best[name], time.perf_counter() - start)
    bare, ours = best["bare"], best["ours"]
    print(f"[{args.tsne_size}] t-SNE bare openTSNE  {bare:8.1f} s")
    print(
        f"[{args.tsne_size}] t-SNE posebrowser    {ours:8.1f} s   ratio {ours / bare:.2f}x (goal <= 1.3x), "
        f"{len(layouts)} live layouts"
    )


if __name__ == "__main__":
    main()
