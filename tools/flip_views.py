"""Would a mirrored second view help? Flip test-time augmentation scored on the val halves with the
*plain* view of an image net (the screen that led to the shipped net's mirrored view,
``posebrowser train mirror-view``; run it on a net without one).

Training mirrors whole batches with their labels, and every ground-truth pose distance is mirror-symmetric,
so the embedding distance between two mirrored images is a second estimate of the distance between the two
plain ones. *Both views* ranks by the sum of the two squared distances: the plain and the mirrored
embeddings concatenated (256-d, each half divided by √2). *Through a mirror map* keeps 128-d: the mirrored
view is rotated back into the plain space by an orthogonal map fitted on the built-in gallery's train
split (never on val or test) and averaged with the plain view::

    python tools/flip_views.py --models models --cache-dir models/embeddings [--gallery build/steep]

Prints the val-half figures of ``tools/ablation.py`` for each and, for the test-like hit@1 figures, the
queries that only one of the plain and both-views rankings finds (a paired comparison of the same queries).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import ablation  # the val halves and their scores

FIT_ROWS = 2000


def mirrored_view(embedder: object, gallery: object, rows: np.ndarray) -> np.ndarray:
    """Embeddings (len(rows), D) of the gallery rows' images mirrored left to right after preparation."""
    return np.asarray(embedder.embed_images(gallery, indices=rows, mirror=True))  # type: ignore[attr-defined]


def both_views(plain: np.ndarray, mirrored: np.ndarray) -> np.ndarray:
    """Unit rows whose squared distances are the mean of the two views' squared distances."""
    return np.concatenate([plain, mirrored], axis=1) / np.sqrt(2.0)


def mirror_map(plain: np.ndarray, mirrored: np.ndarray) -> np.ndarray:
    """Orthogonal R minimising ‖plain R − mirrored‖ (the shipped net's fit, orthogonal Procrustes)."""
    from posebrowser.nets.mirror_view import fit_rotation

    return fit_rotation(plain, mirrored)


def through_mirror_map(plain: np.ndarray, mirrored: np.ndarray, rotation: np.ndarray) -> np.ndarray:
    average = plain + mirrored @ rotation.T
    norms = np.linalg.norm(average, axis=1, keepdims=True)
    return np.asarray(average / np.where(norms > 0, norms, 1.0))  # rows outside the halves stay zero


def per_query_hits(queries: np.ndarray, database: np.ndarray, truth: np.ndarray, window: int) -> np.ndarray:
    """Per query (hit@1): does its true nearest database item rank inside the embedding's top ``window``?"""
    from posebrowser.evaluation.metrics import ranking_distances

    distances = ranking_distances(queries, database)
    nearest = np.argsort(truth, axis=1, kind="stable")[:, 0]
    order = np.argsort(distances, axis=1, kind="stable")
    ranks = np.argmax(order == nearest[:, None], axis=1)
    return np.asarray(ranks < window)


def sign_test(only_first: int, only_second: int) -> float:
    """Two-sided exact binomial p-value of the discordant pairs (McNemar's exact test)."""
    from scipy.stats import binomtest

    total = only_first + only_second
    return 1.0 if total == 0 else float(binomtest(only_first, total, 0.5).pvalue)


def _print_questions(
    engine: object, candidates: dict[str, np.ndarray], queries: np.ndarray, database: np.ndarray
) -> None:
    """Mask / conditional P@10 with a 128-d candidate as the val rows' image embeddings (the posebit nets
    and masks stay as trained, against the plain view)."""
    if getattr(engine, "masks", None) is None or getattr(engine, "posebit_embedder", None) is None:
        return
    rows = np.concatenate([queries, database])
    shipped = engine.embeddings  # type: ignore[attr-defined]
    print("\n| val halves, P@10 | mask | conditional |\n|---|---|---|")
    for name in ("plain view (shipped)", "through a mirror map (128-d)"):
        vectors = shipped.copy()
        vectors[rows] = candidates[name][rows]
        engine.embeddings = vectors  # type: ignore[attr-defined]
        found = ablation._question_precisions(engine, queries, database)
        mask, conditional = found["mask (origin query)"], found["posebyte query (conditional)"]
        print(f"| {name} | {mask:.1f} | {conditional:.1f} |")
    engine.embeddings = shipped  # type: ignore[attr-defined]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--models", type=Path, default=Path("models"))
    parser.add_argument("--gallery", type=Path, default=None, help="validation gallery (default: built-in)")
    parser.add_argument("--cache-dir", type=Path, default=Path("build/flip-views-cache"))
    args = parser.parse_args()

    from posebrowser.core.engine import RetrievalEngine
    from posebrowser.data.loading import open_gallery
    from posebrowser.nets.mirror_view import MirrorViewNet
    from posebrowser.pose.similarity import pairwise_distances

    engine = RetrievalEngine.open(args.gallery, args.models, "cpu", args.cache_dir)
    if isinstance(getattr(engine.image_embedder, "module", None), MirrorViewNet):
        parser.error("this image net already reads a mirrored view; score a plain net (e.g. training/base)")
    gallery = engine.gallery
    queries, database = ablation._halves(gallery)
    rows = np.concatenate([queries, database])
    plain = np.zeros_like(engine.embeddings)
    mirrored = np.zeros_like(engine.embeddings)
    plain[rows] = engine.embeddings[rows]
    mirrored[rows] = mirrored_view(engine.image_embedder, gallery, rows)

    built_in = open_gallery(None)
    train = np.asarray(built_in.split_indices("train"))
    fit = np.sort(np.random.default_rng(0).choice(train, size=min(FIT_ROWS, len(train)), replace=False))
    # the built-in gallery's plain view is the engine's own (cached) when it is the gallery scored
    shipped = engine.embeddings[fit] if args.gallery is None else None
    fit_plain = shipped if shipped is not None else engine.image_embedder.embed_images(built_in, indices=fit)
    rotation = mirror_map(fit_plain, mirrored_view(engine.image_embedder, built_in, fit))

    candidates = {
        "plain view (shipped)": plain,
        "mirrored view only": mirrored,
        "both views (256-d)": both_views(plain, mirrored),
        "through a mirror map (128-d)": through_mirror_map(plain, mirrored, rotation),
    }
    print(f"{len(queries)} val queries → {len(database)} val items\n")
    print(
        "| val halves | hit@1 2D | 3D | Procrustes | Hamming | top-10 in true 50 "
        "| test-like 2D | 3D | Procrustes |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    for name, vectors in candidates.items():
        scores = ablation._scores(vectors, queries, database, gallery)
        print(f"| {name} | " + " | ".join(f"{v:.1f}" for v in scores) + " |")

    _print_questions(engine, candidates, queries, database)
    window = max(1, round(ablation.TEST_LIKE_SHARE * len(database)))
    print("\n| test-like hit@1 | plain only | both views only | exact two-sided p |")
    print("|---|---|---|---|")
    both = candidates["both views (256-d)"]
    for metric in ablation.METRICS[:3]:
        truth = pairwise_distances(metric, gallery, queries, database)
        first = per_query_hits(plain[queries], plain[database], truth, window)
        second = per_query_hits(both[queries], both[database], truth, window)
        only_first, only_second = int((first & ~second).sum()), int((second & ~first).sum())
        print(f"| {metric} | {only_first} | {only_second} | {sign_test(only_first, only_second):.2f} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
