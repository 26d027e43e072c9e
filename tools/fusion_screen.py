"""The fused image model's reader weights, screened on validation data only (never the test split).

Scores the fused model of a models folder on a gallery's val halves (one family-disjoint half queries the
other, as ``tools/ablation.py --score``) for each weighting of its readers, without embedding anything
again: the CNN's rows come from its embedding cache (``--cache-dir``, the folder ``posebrowser embed
--image-model image_net`` or an engine filled), each joints net reads the estimator's cached estimate of
each val image (``--estimate-cache``), and the blend uses the fused model's fitted maps with the weights
of each ``--weights`` setting (one weight per reader, in the card's order; default: the card's own).

    python tools/fusion_screen.py --cache-dir models/embeddings --weights 0.3,0 0.2,0.15
    python tools/fusion_screen.py --gallery build/steep --cache-dir build/steep-cache \
        --estimate-cache build/steep-cache/estimates --weights 0.3,0 0.2,0.15

Prints a Markdown table: the seven acceptance figures of ``tools/ablation.py`` per setting and their mean.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]



def reader_rows(models: Path, rows: np.ndarray, gallery: Any, estimate_cache: Path | None) -> Any:
    """(the fused model, each reader's rows of ``rows`` — NaN without a person) through the estimate cache."""
    from posebrowser.core.fused_embedder import FusedEmbedder

    fused = FusedEmbedder.from_checkpoint(models / "fused_net", "cpu", estimate_cache)
    paths = [gallery.image_path(int(r)) for r in rows]
    return fused.fusion, [reader.embed_images(paths) for reader in fused.readers]


def blended(fusion: Any, cnn: np.ndarray, readings: list[np.ndarray], weights: list[float]) -> np.ndarray:
    """The fused rows with ``weights`` instead of the card's (the fitted maps unchanged)."""
    from posebrowser.nets.fusion import EstimatorFusion

    stems = fusion.joints_models
    screen = EstimatorFusion(
        fusion.embedding_dim, weights[0], joints_model=stems[0],
        more_joints_models=stems[1:], more_weights=tuple(weights[1:]),
    )
    for reader, rotation in enumerate(fusion.rotations()):
        screen.set_rotation(rotation.numpy(), reader)
    person = np.isfinite(readings[0]).all(axis=1)
    return screen.blend(cnn, readings, person)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--gallery", type=Path, default=None, help="validation gallery (default: built-in)")
    parser.add_argument("--models", type=Path, default=ROOT / "models")
    parser.add_argument("--cache-dir", type=Path, required=True, help="the CNN's embedding cache")
    parser.add_argument("--estimate-cache", type=Path, default=None, help="default: the user's cache")
    parser.add_argument("--weights", nargs="+", default=None, help="settings, e.g. 0.3,0 0.2,0.15")
    args = parser.parse_args()

    import ablation  # a sibling script: run as `python tools/...`, its folder is on sys.path

    from posebrowser.core.engine import RetrievalEngine

    engine = RetrievalEngine.open(args.gallery, args.models, "cpu", args.cache_dir, image_model="image_net")
    gallery = engine.gallery
    queries, database = ablation._halves(gallery)
    rows = np.concatenate([queries, database])
    fusion, readings = reader_rows(args.models, rows, gallery, args.estimate_cache)
    settings = [[float(w) for w in text.split(",")] for text in args.weights] if args.weights else [
        list(fusion.weights)
    ]
    print(ablation.screen_header(f"weights ({', '.join(fusion.joints_models)})"))
    cnn = np.asarray(engine.embeddings, np.float32)[rows]
    for weights in settings:
        vectors = np.zeros((len(gallery), cnn.shape[1]), np.float32)
        vectors[rows] = blended(fusion, cnn, readings, weights)
        scores = ablation._scores(vectors, queries, database, gallery)
        print(ablation.screen_row(" / ".join(f"{w:g}" for w in weights), scores))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
