"""End-to-end query latency of RetrievalEngine.search vs a bare faiss search, at 100k items.

Measures an image query, a split-filtered image query, a mask (origin) query and an arithmetic query,
each as a ratio to a bare ``IndexFlatIP.search`` measured in the same run (goal for the image query:
≤ 1.5×).

    python benchmarks/bench_query.py [--size 100000] [--repeats 50]
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
from timing import median_ms


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--size", type=int, default=100_000)
    parser.add_argument("--repeats", type=int, default=50)
    args = parser.parse_args()

    import faiss

    from posebrowser.core.device import configure_threads
    from posebrowser.core.engine import RetrievalEngine
    from posebrowser.core.query import ImageTerm, PosebitTerm, Query
    from posebrowser.data.gallery import Gallery
    from posebrowser.pose.posebits import get_vocabulary

    configure_threads()
    n, bits = args.size, 16
    rng = np.random.default_rng(0)
    posebits = (rng.random((n, bits)) < 0.4).astype(np.int8)
    onehot = np.concatenate([posebits, 1 - posebits], axis=1).astype(np.float32)
    emb = np.zeros((n, 128), np.float32)
    emb[:, : 2 * bits] = onehot
    emb += 0.3 * rng.standard_normal((n, 128)).astype(np.float32)
    emb /= np.linalg.norm(emb, axis=1, keepdims=True)
    names = get_vocabulary().names[:bits]
    split = np.where(np.arange(n) < n // 2, 0, 2).astype(np.uint8)
    gallery = Gallery(
        root=Path("."),
        name="bench",
        kind="folder",
        files=tuple(f"{i}.jpg" for i in range(n)),
        split=split,
        posebits=posebits,
        posebit_names=names,
    )
    engine = RetrievalEngine.from_arrays(gallery, emb, vocabulary=get_vocabulary())
    bare = faiss.IndexFlatIP(128)
    bare.add(emb)
    k = 50
    t_bare = median_ms(lambda i: bare.search(emb[i : i + 1], k), args.repeats)
    rows = {
        "image query": lambda i: engine.search(Query.image(i), k),
        "image query, test split": lambda i: engine.search(Query.image(i), k, split="test"),
        "mask query (2 bits, origin)": lambda i: engine.search(
            Query((PosebitTerm(((names[0], 1), (names[1], 0)), "mask"),)), k
        ),
        "arithmetic 2*img - 0.5*img": lambda i: engine.search(
            Query((ImageTerm(gallery_index=i, weight=2.0), ImageTerm(gallery_index=i + 1, weight=-0.5))), k
        ),
    }
    print(f"[{n}] bare faiss IndexFlatIP.search   {t_bare:8.3f} ms")
    for name, fn in rows.items():
        t = median_ms(fn, args.repeats)
        goal = " (goal <= 1.5x)" if name == "image query" else ""
        print(f"[{n}] {name:30s} {t:8.3f} ms   ratio {t / t_bare:.2f}x{goal}")


if __name__ == "__main__":
    main()
