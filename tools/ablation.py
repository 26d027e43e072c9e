"""Ablation of the image-net recipe on validation data only (never the test split).

Each variant trains the image net with one part of the recipe removed, on the first ``--images`` train
images of the training set for ``--epochs`` epochs (a short, equal budget for every variant), embeds the
built-in gallery and scores image queries on its **val split only**: the val items are cut into two
halves by a fixed permutation, one half queries the other (window 51, as ``posebrowser evaluate``).

    python tools/ablation.py --train-gallery build/train-data --images 4000 --epochs 1 \
        --out build/ablation > models/ablation.md

Prints a Markdown table (hit@1 per ground-truth metric, the share of the top 10 among the true 50
nearest 3D poses, and hit@1 with a window as fine as the test protocol's: top 4.6 % of the database)
with chance, raw pixels and the posebyte oracle on the same halves; for model folders
that hold masks and a posebit net (``--score``), a second table of single-bit posebit questions
(precision@10 of masks and of conditional posebyte queries, the first half's images as the example
queries, the second half as the database).
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

# Each variant pins the 3-D joint head and the input size explicitly: the tables in models/README.md were
# measured when the recipe had the 3-D head (weight 5) and when the default input was 112 px (C's recipe)
# or 128 px (D's); the train command's defaults moved on after each (no 3-D head; 160 px, E's recipe).
WITH_3D = ["--aux-joints-3d", "5", "--input-size", "112"]
C_RECIPE = ["--aux-joints-3d", "0", "--input-size", "112"]
D_RECIPE = ["--aux-joints-3d", "0", "--input-size", "128"]
E_RECIPE = ["--aux-joints-3d", "0", "--input-size", "160"]
VARIANTS: dict[str, list[str]] = {
    "full recipe (Lite0 ImageNet init, triplets, posebit + 3D + 2D heads)": WITH_3D,
    "− 3D joint head (C's recipe)": C_RECIPE,
    "− 2D joint head": [*WITH_3D, "--aux-joints-2d", "0"],
    "− 3D and 2D joint heads": [*C_RECIPE, "--aux-joints-2d", "0"],
    "− posebit head": [*WITH_3D, "--aux-posebits", "0"],
    "− ImageNet init (Lite0 from scratch)": [*WITH_3D, "--no-pretrained", "--frozen-blocks", "0"],
    "compact ResNet from scratch (previous default)": [*WITH_3D, "--net", "compact_resnet"],
    "C's recipe + log-ratio loss (weight 1)": [*C_RECIPE, "--log-ratio", "1"],
    "C's recipe, log-ratio loss instead of triplets": [*C_RECIPE, "--loss", "log-ratio"],
    "C's recipe + near-band anchors (share 0.5)": [*C_RECIPE, "--near-share", "0.5"],
    "C's recipe, 128 px input (D's recipe)": D_RECIPE,
    "C's recipe, only stem + 2 stages frozen": [*C_RECIPE, "--frozen-blocks", "2"],
    "D's recipe + cross-batch memory (2,048 per mirror state, after 52 batches)": [
        *D_RECIPE, "--memory-size", "2048", "--memory-start", "52",
    ],
    "D's recipe + cross-batch memory (8,192 per mirror state, after 100 batches)": [
        *D_RECIPE, "--memory-size", "8192", "--memory-start", "100",
    ],
    "D's recipe, positives = the 150 nearest poses (instead of 30)": [*D_RECIPE, "--pos-rank-max", "150"],
    "D's recipe, spatial head (64 channels × 4 × 4) instead of the global pool": [
        *D_RECIPE, "--spatial-channels", "64",
    ],
    "D's recipe, 160 px input (the 128 px renders upsampled; E's recipe)": E_RECIPE,
    **{
        f"E's recipe + a 3-D joint head on the trunk features (weight {weight}{note})": [
            *E_RECIPE, "--aux-trunk-joints-3d", weight,
        ]
        for weight, note in (("2", ""), ("5", "; J's recipe before its fine-tune"), ("10", ""))
    },
    "J's recipe before its fine-tune, 192 px input": [
        *E_RECIPE[:-1], "192", "--aux-trunk-joints-3d", "5",
    ],
    **{
        f"J's recipe before its fine-tune + the joints net's embedding of the true pose as a target "
        f"(weight {weight})": [*E_RECIPE, "--aux-trunk-joints-3d", "5", "--aux-teacher", weight]
        for weight in ("1", "5")
    },
    "G's recipe before its fine-tune (J's + 10 % grey images)": [
        *E_RECIPE, "--aux-trunk-joints-3d", "5", "--grey-share", "0.1",
    ],
    **{
        f"G's recipe before its fine-tune + a landmark head on the trunk's maps (weight {weight})": [
            *E_RECIPE, "--aux-trunk-joints-3d", "5", "--grey-share", "0.1", "--aux-landmarks", weight,
        ]
        for weight in ("1", "0.3")
    },
}
METRICS = ("2d", "3d", "procrustes", "hamming")
#: The seven acceptance figures among the eight of :func:`_scores` (every one but Hamming hit@1).
ACCEPTANCE_FIGURES = (0, 1, 2, 4, 5, 6, 7)
SCORE_COLUMNS = "hit@1 2D | 3D | Procrustes | Hamming | top-10 in true 50 | test-like 2D | 3D | Procrustes"
#: The test protocol's hit window as a share of its database (top 51 of 1,118 = 4.6 %): the val halves
#: (385 items) are also scored with a window of this share, as fine-grained as the test figures.
TEST_LIKE_SHARE = 51 / 1118


def _train(name: str, extra: list[str], args: argparse.Namespace) -> tuple[Path, float]:
    out = args.out / f"v{list(VARIANTS).index(name)}"
    command = [
        sys.executable,
        "-m",
        "posebrowser",
        "train",
        "image",
        "--gallery",
        str(args.train_gallery),
        "--out",
        str(out),
        "--epochs",
        str(args.epochs),
        "--max-train-images",
        str(args.images),
        "--seed",
        "0",
        "--quiet",
        *extra,
    ]
    began = time.perf_counter()
    if not (out / "image_net.safetensors").exists():
        subprocess.run(command, check=True)
    return out, time.perf_counter() - began


def _family(source: str, row: int) -> str:
    """The split family of a synthetic item: its motion clip's family, or the item itself."""
    from posebrowser.synth.poses import clip_family

    parts = source.split(":")
    if parts[0] in ("clip", "perturb") and len(parts) > 1:
        return f"clip:{clip_family(parts[1])}"
    return f"item:{row}"


def _halves(gallery: object) -> tuple[np.ndarray, np.ndarray]:
    """Two halves of the val split with no motion-clip family in both (frames of one clip are near-
    duplicates, so a random cut would let a query find its own clip's neighbouring frames)."""
    rows = np.asarray(gallery.split_indices("val"))  # type: ignore[attr-defined]
    sources = getattr(gallery, "source", None)
    families = [_family(str(sources[r]) if sources is not None else "", int(r)) for r in rows]
    names = sorted(set(families))
    order = np.random.default_rng(0).permutation(len(names))
    first: set[str] = set()
    count = 0
    for index in order:
        if count >= len(rows) // 2:
            break
        first.add(names[index])
        count += families.count(names[index])
    mask = np.array([family in first for family in families])
    return rows[mask], rows[~mask]


def _scores(vectors: np.ndarray, queries: np.ndarray, database: np.ndarray, gallery: object) -> list[float]:
    from posebrowser.evaluation.metrics import retrieval_scores, true_neighbour_share
    from posebrowser.pose.similarity import pairwise_distances

    truths = {metric: pairwise_distances(metric, gallery, queries, database) for metric in METRICS}
    window = max(1, round(TEST_LIKE_SHARE * len(database)))

    def hit_at_1(metric: str, threshold: int, off_by_one: bool) -> float:
        truth = truths[metric]
        scores = retrieval_scores(vectors[queries], vectors[database], truth, (1,), threshold, off_by_one)
        return 100 * float(scores.hit[0])

    row = [hit_at_1(metric, 50, True) for metric in METRICS]
    row.append(100 * true_neighbour_share(vectors[queries], vectors[database], truths["3d"]))
    row += [hit_at_1(metric, window, False) for metric in METRICS[:3]]
    return row


def screen_header(first_column: str) -> str:
    """The two header lines of a screen's Markdown table: ``first_column``, the eight scores of
    :func:`_scores` and the mean of the seven acceptance figures."""
    return f"| {first_column} | {SCORE_COLUMNS} | mean of seven |\n|---|" + "---|" * 9


def screen_row(label: str, scores: list[float]) -> str:
    """One row of a screen's table: the eight scores and the mean of :data:`ACCEPTANCE_FIGURES`."""
    mean = np.mean([scores[i] for i in ACCEPTANCE_FIGURES])
    return f"| {label} | " + " | ".join(f"{v:.1f}" for v in scores) + f" | {mean:.1f} |"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--train-gallery", type=Path, default=Path("build/train-data"))
    parser.add_argument("--gallery", type=Path, default=None, help="validation gallery (default: built-in)")
    parser.add_argument("--images", type=int, default=4000)
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--out", type=Path, default=Path("build/ablation"))
    parser.add_argument(
        "--score",
        type=Path,
        action="append",
        default=[],
        help="only score these already trained model folders (no training); may repeat",
    )
    parser.add_argument(
        "--only",
        type=int,
        nargs="+",
        default=None,
        help="run only the variants with these positions in the list (0 = the full recipe)",
    )
    args = parser.parse_args()

    from posebrowser.core.engine import RetrievalEngine
    from posebrowser.evaluation.command import pixel_embeddings, posebyte_oracle_vectors
    from posebrowser.evaluation.metrics import chance_hit_at_k

    rows: list[tuple[str, list[float], float]] = []
    questions: list[tuple[str, dict[str, float]]] = []
    gallery = None
    positions = range(len(VARIANTS)) if args.only is None else args.only
    chosen = {name: extra for i, (name, extra) in enumerate(VARIANTS.items()) if i in positions}
    variants = {str(path): None for path in args.score} or chosen
    for name, extra in variants.items():
        models, seconds = (Path(name), 0.0) if extra is None else _train(name, extra, args)
        engine = RetrievalEngine.open(args.gallery, models, "cpu", args.out / "cache")
        gallery = engine.gallery
        queries, database = _halves(gallery)
        rows.append((name, _scores(engine.embeddings, queries, database, gallery), seconds))
        if getattr(engine, "masks", None) is not None and engine.posebit_embedder is not None:
            questions.append((name, _question_precisions(engine, queries, database)))
    assert gallery is not None
    queries, database = _halves(gallery)
    everything = np.arange(len(gallery))
    pixels = np.zeros((len(gallery), 24 * 24 * 3), np.float32)
    pixels[np.concatenate([queries, database])] = pixel_embeddings(
        gallery, np.concatenate([queries, database])
    )
    oracle = posebyte_oracle_vectors(gallery, everything)
    chance = 100 * float(chance_hit_at_k(len(database), (1,), 50, True)[0])
    print(
        f"Validation only: {len(queries)} val queries → the other {len(database)} val items; "
        f"{args.images} training images, {args.epochs} epoch(s) per variant.\n"
    )
    window = max(1, round(TEST_LIKE_SHARE * len(database)))
    print(
        "| variant | hit@1 2D | hit@1 3D | hit@1 Procrustes | hit@1 Hamming "
        f"| top-10 in true 50 (3D) | top-{window} hit@1 2D | 3D | Procrustes | train s |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|")
    for name, values, seconds in rows:
        print(f"| {name} | " + " | ".join(f"{v:.1f}" for v in values) + f" | {seconds:.0f} |")
    for name, vectors in (("raw pixels", pixels), ("posebyte oracle", oracle)):
        if vectors is not None:
            values = _scores(vectors, queries, database, gallery)
            print(f"| {name} | " + " | ".join(f"{v:.1f}" for v in values) + " | – |")
    share = 100 * min(50, len(database)) / len(database)
    fine = 100 * window / len(database)
    print(
        f"| chance | {chance:.1f} | {chance:.1f} | {chance:.1f} | {chance:.1f} | {share:.1f} "
        f"| {fine:.1f} | {fine:.1f} | {fine:.1f} | – |"
    )
    if questions:
        labels = list(questions[0][1])
        print("\n| single-bit posebit questions, P@10 (val halves) | " + " | ".join(labels) + " |")
        print("|---|" + "---|" * len(labels))
        for name, precisions in questions:
            print(f"| {name} | " + " | ".join(f"{precisions[label]:.1f}" for label in labels) + " |")
    return 0


def _question_precisions(engine: object, queries: np.ndarray, database: np.ndarray) -> dict[str, float]:
    """precision@10 per method of the single-bit questions, the second half as the database."""
    from posebrowser.evaluation.command import posebit_question_rankings
    from posebrowser.evaluation.report import evaluate_posebit_questions

    gallery = engine.gallery  # type: ignore[attr-defined]
    methods = posebit_question_rankings(engine, database, queries, 10)
    table = evaluate_posebit_questions(
        methods, gallery.posebits, gallery.posebit_names, chance_rows=database, ks=(10,)
    )
    return {label: float(values[0]) for label, values in table.series.items()}


if __name__ == "__main__":
    raise SystemExit(main())
