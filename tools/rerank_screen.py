"""Re-ranking after the embedding, screened on validation data only (never the test split).

Two classic retrieval steps that need no training, applied to the shipped image model's embeddings of
a gallery's val halves (one half queries the other, as ``tools/ablation.py --score``):

* **database-side augmentation** (DBA): each database row replaced by the weighted mean of its ``k``
  nearest database rows (itself included), weights ``similarity ** alpha``;
* **alpha query expansion** (αQE): the query plus its ``k`` nearest database rows, weighted the same way.

    python tools/rerank_screen.py --cache-dir build/score-Fu/cache
    python tools/rerank_screen.py --gallery build/steep --cache-dir build/score-Fu-steep/cache

Prints a Markdown table: the seven acceptance figures of ``tools/ablation.py`` per variant and their mean.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]



def _normalise(rows: np.ndarray) -> np.ndarray:
    return rows / np.linalg.norm(rows, axis=1, keepdims=True)


def _neighbour_mean(anchors: np.ndarray, database: np.ndarray, k: int, alpha: float) -> np.ndarray:
    """Σ over each anchor's k most similar database rows of ``max(sim, 0) ** alpha · row``."""
    similarity = anchors @ database.T
    nearest = np.argsort(-similarity, axis=1)[:, :k]
    weights = np.take_along_axis(similarity, nearest, 1).clip(0) ** alpha
    return np.einsum("nk,nkd->nd", weights, database[nearest])


def database_augmentation(database: np.ndarray, k: int, alpha: float) -> np.ndarray:
    return _normalise(_neighbour_mean(database, database, k, alpha))


def query_expansion(queries: np.ndarray, database: np.ndarray, k: int, alpha: float) -> np.ndarray:
    return _normalise(queries + _neighbour_mean(queries, database, k, alpha))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--gallery", type=Path, default=None, help="validation gallery (default: built-in)")
    parser.add_argument("--models", type=Path, default=ROOT / "models")
    parser.add_argument("--cache-dir", type=Path, default=ROOT / "build" / "rerank-cache")
    args = parser.parse_args()

    import ablation  # a sibling script: run as `python tools/...`, its folder is on sys.path

    from posebrowser.core.engine import RetrievalEngine

    engine = RetrievalEngine.open(args.gallery, args.models, "cpu", args.cache_dir)
    gallery = engine.gallery
    queries, database = ablation._halves(gallery)  # type: ignore[attr-defined]
    vectors = np.asarray(engine.embeddings, np.float64)
    print(ablation.screen_header("variant"))  # type: ignore[attr-defined]
    variants = [("none", 0, 0.0, False)] + [
        (f"{name} k={k} α={alpha:g}", k, alpha, name == "αQE")
        for name in ("DBA", "αQE") for k in (3, 5, 10) for alpha in (1.0, 3.0)
    ]
    for label, k, alpha, expand in variants:
        query_rows, database_rows = vectors[queries], vectors[database]
        if k and expand:
            query_rows = query_expansion(query_rows, database_rows, k, alpha)
        elif k:
            database_rows = database_augmentation(database_rows, k, alpha)
        scored = np.zeros_like(vectors)
        scored[queries], scored[database] = query_rows, database_rows
        row = ablation._scores(scored, queries, database, gallery)  # type: ignore[attr-defined]
        print(ablation.screen_row(label, row))  # type: ignore[attr-defined]
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
