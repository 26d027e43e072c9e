"""``posebrowser evaluate``: the thesis' retrieval metrics of the shipped models on a gallery.

The engine is used only to load the gallery, models and embeddings; every number is computed by the
array functions in :mod:`posebrowser.evaluation.report` and :mod:`posebrowser.evaluation.metrics`.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from posebrowser.data.gallery_format import SPLITS
from posebrowser.data.image_folder import annotations_estimated
from posebrowser.errors import DataError, QueryError
from posebrowser.evaluation.metrics import THESIS_RANK_THRESHOLD, top_k_indices
from posebrowser.evaluation.report import (
    Condition,
    MetricTable,
    build_report,
    evaluate_posebit_questions,
    evaluate_retrieval,
    evaluate_true_neighbours,
    format_report_markdown,
    format_report_text,
    write_report,
)
from posebrowser.evaluation.rows import evaluation_rows, incomparable_as_farthest

Progress = Callable[[int, int], None]


def register(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Add the ``evaluate`` sub-command."""
    parser = subparsers.add_parser(
        "evaluate", help="hit@k, mean distance@k and posebit-question precision@k (the thesis' metrics)"
    )
    parser.add_argument("--gallery", type=Path, default=None, help="gallery folder (default: built-in)")
    parser.add_argument("--models", type=Path, default=None, help="models folder (default: shipped models)")
    parser.add_argument("--cache-dir", type=Path, default=None, help="embedding cache folder")
    parser.add_argument("--split", choices=SPLITS, default="test", help="database split (default test)")
    parser.add_argument("--queries", choices=SPLITS, default="val", help="query split (default val)")
    parser.add_argument("--k-max", type=int, default=10, help="evaluate k = 1..K (default 10)")
    parser.add_argument("--threshold", type=int, default=THESIS_RANK_THRESHOLD, help="hit rank threshold")
    parser.add_argument(
        "--top50",
        action="store_true",
        help="count a hit within the top THRESHOLD results (the thesis counts rank ≤ THRESHOLD)",
    )
    parser.add_argument(
        "--min-count",
        type=int,
        default=5,
        help="ask posebit questions only for values held by at least this many items",
    )
    parser.add_argument(
        "--fit-masks", action="store_true", help="also fit masks for posebits without a shipped mask (slow)"
    )
    parser.add_argument(
        "--no-untrained",
        action="store_true",
        help="skip the untrained-network baseline (same architecture, fresh initialisation)",
    )
    parser.add_argument(
        "--joints-model",
        type=Path,
        default=None,
        help="joints model (pose estimator + joints net) to compare; default MODELS/joints_net when present",
    )
    parser.add_argument("--no-joints", action="store_true", help="skip the joints-model rows")
    parser.add_argument("--device", default="auto", choices=("auto", "cpu", "cuda"))
    parser.add_argument("--seed", type=int, default=0, help="seed of the Monte Carlo chance estimate")
    parser.add_argument("--out", type=Path, default=None, help="write report.json and report.png here")
    parser.add_argument("--json", action="store_true", help="print the report as JSON")
    parser.add_argument("--markdown", action="store_true", help="print Markdown tables at k = 1, 5, 10")
    parser.set_defaults(func=run_evaluate)
    _register_leakage(subparsers)


def _register_leakage(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    from posebrowser.evaluation.leakage import NEAR_DUPLICATE_PROCRUSTES

    parser = subparsers.add_parser(
        "leakage",
        help="share of val/test poses with a near-duplicate training pose (Procrustes)",
        description="For each held-out split of --gallery: the share of its poses whose nearest pose in the "
        "train split of --gallery (and of each --train-gallery) lies within --threshold (Procrustes).",
    )
    parser.add_argument("--gallery", type=Path, default=None, help="gallery folder (default: built-in)")
    parser.add_argument(
        "--train-gallery",
        type=Path,
        action="append",
        default=[],
        help="another gallery whose train split "
        "the held-out poses are compared with too (e.g. the training set); may repeat",
    )
    parser.add_argument("--threshold", type=float, default=NEAR_DUPLICATE_PROCRUSTES)
    parser.add_argument("--json", action="store_true", help="print JSON")
    parser.set_defaults(func=run_leakage)


def run_leakage(args: argparse.Namespace) -> int:
    """Print the near-duplicate share of every held-out split against every train split."""
    from posebrowser.data.loading import open_gallery
    from posebrowser.evaluation.leakage import near_duplicate_share

    gallery = open_gallery(str(args.gallery) if args.gallery else None)
    references = [("own train split", gallery)] + [
        (str(path), open_gallery(str(path))) for path in args.train_gallery
    ]
    rows: list[dict[str, Any]] = []
    for held_out in ("val", "test"):
        queries = _split_joints(gallery, held_out)
        if len(queries) == 0:
            continue
        for name, reference in references:
            result = near_duplicate_share(queries, _split_joints(reference, "train"), args.threshold)
            rows.append({"split": held_out, "against": name, **result.to_dict()})
    if args.json:
        print(json.dumps(rows, indent=2))
    else:
        for row in rows:
            print(
                f"{row['split']:>4} vs {row['against']}: {row['near_duplicates']}/{row['queries']} "
                f"({100 * row['share']:.2f} %) within {row['threshold']}, "
                f"median nearest {row['median_nearest']:.3f}"
            )
    return 0


def _split_joints(gallery: Any, split: str) -> NDArray[np.float32]:
    if gallery.joints_3d is None:
        raise DataError("The gallery has no 3-D joints.", path=gallery.root)
    return np.asarray(gallery.joints_3d[gallery.split_indices(split)], dtype=np.float32)


def run_evaluate(args: argparse.Namespace) -> int:
    """Open the engine, evaluate, print (text or JSON) and optionally write the report files."""
    from tqdm import tqdm

    from posebrowser.core.engine import RetrievalEngine

    bars: list[Any] = []

    def reporter(what: str) -> Progress:
        own: list[Any] = []  # created on the first report: a fully cached stage prints nothing

        def progress(done: int, total: int) -> None:
            if not own:
                own.append(tqdm(desc=what, unit="img", file=sys.stderr, disable=args.json, leave=False))
                bars.append(own[0])
            own[0].total = total
            own[0].n = done
            own[0].refresh()

        return progress

    try:
        engine = RetrievalEngine.open(
            args.gallery,
            args.models,
            device=args.device,
            cache_dir=args.cache_dir,
            progress=reporter("embedding gallery"),
            annotation_progress=reporter("estimating poses"),
        )
    finally:
        for bar in bars:
            bar.close()
    for warning in getattr(engine, "warnings", ()):  # e.g. estimated annotations, images without a pose
        print(f"warning: {warning}", file=sys.stderr)
    report = evaluate_engine(
        engine,
        split=args.split,
        query_split=args.queries,
        ks=tuple(range(1, args.k_max + 1)),
        threshold=args.threshold,
        thesis_off_by_one=not args.top50,
        min_count=args.min_count,
        fit_masks=args.fit_masks,
        seed=args.seed,
        untrained_baseline=not args.no_untrained,
        joints_model=None if args.no_joints else _joints_model_path(args),
    )
    if args.out is not None:
        json_path, png_path = write_report(report, args.out)
        if not args.json:
            print(f"wrote {json_path} and {png_path}", file=sys.stderr)
    if args.json:
        print(json.dumps(report, indent=2))
    else:
        for note in report["meta"].get("notes", []):  # e.g. the annotations are estimated
            print(f"Note: {note}\n")
        print(format_report_markdown(report) if args.markdown else format_report_text(report))
    return 0


def evaluate_engine(
    engine: Any,
    split: str = "test",
    query_split: str = "val",
    ks: tuple[int, ...] = tuple(range(1, 11)),
    threshold: int = THESIS_RANK_THRESHOLD,
    thesis_off_by_one: bool = True,
    min_count: int = 5,
    fit_masks: bool = False,
    seed: int = 0,
    untrained_baseline: bool = False,
    joints_model: Path | None = None,
) -> dict[str, Any]:
    """Report dict for a RetrievalEngine-like object (``gallery``, ``embeddings``, ``posebit_embedder``,
    ``masks``, ``mask_for``, ``term_vector``): ``query_split`` items query the ``split`` items."""
    from posebrowser.pose.similarity import METRICS, pairwise_distances

    gallery = engine.gallery
    if split == query_split:
        raise DataError(
            f"The queries and the database are both the '{split}' split: every query would find itself. "
            "Choose different splits (default: val queries, test database).",
            path=getattr(gallery, "root", None),
        )
    rows_used = evaluation_rows(gallery, split, query_split, seed)
    db_rows, query_rows = rows_used.database, rows_used.queries
    for name, rows in ((split, db_rows), (query_split, query_rows)):
        if len(rows) == 0:
            raise DataError(
                f"The gallery has no images in the '{name}' split, so it cannot be evaluated.",
                path=getattr(gallery, "root", None),
            )
    if len(db_rows) < max(ks):
        raise DataError(
            f"The '{split}' split has {len(db_rows)} images; at least {max(ks)} are needed.",
            path=getattr(gallery, "root", None),
        )
    embeddings = np.asarray(engine.embeddings, dtype=np.float32)
    gt_tables = {
        metric.name: pairwise_distances(metric.name, gallery, query_rows, db_rows)
        for metric in METRICS
        if gallery.has_ground_truth(metric.name)
    }
    incomparable = incomparable_as_farthest(gt_tables)
    units = {metric.name: metric.unit for metric in METRICS}
    query_sets: dict[str, NDArray[np.float32]] = {"image query": embeddings[query_rows]}
    posebyte_queries = _ground_truth_posebyte_queries(engine, query_rows)
    if posebyte_queries is not None:
        query_sets["posebyte query (ground-truth posebyte)"] = posebyte_queries
    tables: list[MetricTable] = evaluate_retrieval(
        query_sets, embeddings[db_rows], gt_tables, ks, threshold, thesis_off_by_one, units, seed
    )
    both = np.concatenate([query_rows, db_rows])
    untrained = untrained_embeddings(engine, both, seed) if untrained_baseline else None
    baselines = {PIXELS: pixel_embeddings(gallery, both)}
    oracle = posebyte_oracle_vectors(gallery, both)
    if oracle is not None:
        baselines[ORACLE] = oracle
    if untrained is not None:
        baselines[UNTRAINED] = untrained
    baselines.update(fused_part_vectors(engine, both))
    joints_rows, joints_meta = joints_model_vectors(
        gallery, both, len(query_rows), joints_model, _engine_estimate_root(engine)
    )
    baselines.update(joints_rows)
    for label, vectors in baselines.items():
        baseline = evaluate_retrieval(
            {label: vectors[: len(query_rows)]},
            vectors[len(query_rows) :],
            gt_tables,
            ks,
            threshold,
            thesis_off_by_one,
            units,
            seed,
        )
        _merge_series(tables, baseline)
    overlap_sets = dict(query_sets)
    overlap_db = {label: embeddings[db_rows] for label in query_sets}
    for label, vectors in baselines.items():
        overlap_sets[label], overlap_db[label] = vectors[: len(query_rows)], vectors[len(query_rows) :]
    tables.append(_true_neighbour_table(overlap_sets, overlap_db, gt_tables))
    if gallery.posebits is not None:
        methods = posebit_question_rankings(
            engine, db_rows, query_rows, max(ks), min_count, fit_masks, posebyte_queries
        )
        if methods:
            tables.append(
                evaluate_posebit_questions(
                    methods, gallery.posebits, gallery.posebit_names, chance_rows=db_rows, ks=ks
                )
            )
    meta = {
        "gallery": str(getattr(gallery, "name", "")),
        "gallery_root": str(getattr(gallery, "root", "")),
        "database_split": rows_used.database_split,
        "query_split": rows_used.query_split,
        "database_size": len(db_rows),
        "query_count": len(query_rows),
        "ks": list(ks),
        "threshold": threshold,
        "thesis_off_by_one": thesis_off_by_one,
        "image_model_sha256": getattr(engine.image_embedder, "model_sha256", None),
        "posebit_model_sha256": getattr(engine.posebit_embedder, "model_sha256", None),
        "ground_truth_metrics": sorted(gt_tables),
        **joints_meta,
        "annotations": "estimated" if annotations_estimated(gallery) else "annotated",
        "notes": [*rows_used.notes, *incomparable],
    }
    return build_report(tables, meta)


UNTRAINED = "image query (untrained net)"
PIXELS = "raw pixels (24×24 RGB, cosine)"
ORACLE = "posebyte oracle (ground-truth bits, no net)"
THESIS_CONDITIONAL_ROW = "posebyte query (conditional, thesis: completion only)"
PIXEL_SIDE = 24


def _true_neighbour_table(
    query_sets: dict[str, NDArray[np.float32]],
    databases: dict[str, NDArray[np.float32]],
    gt_tables: dict[str, NDArray[np.float32]],
) -> MetricTable:
    """The top-10-among-true-50 table, each query set against its own database embedding."""
    tables = [
        evaluate_true_neighbours({label: q}, databases[label], gt_tables) for label, q in query_sets.items()
    ]
    merged = tables[0]
    for extra in tables[1:]:
        merged.series.update({k: v for k, v in extra.series.items() if k != "chance"})
    return merged


def pixel_embeddings(gallery: Any, rows: NDArray[np.int64]) -> NDArray[np.float32]:
    """The raw-pixel baseline: each image resized to 24×24 RGB, centred on its mean and L2-normalised."""
    from PIL import Image

    vectors = np.zeros((len(rows), PIXEL_SIDE * PIXEL_SIDE * 3), dtype=np.float32)
    for i, row in enumerate(rows):
        image = (
            gallery.load_image(int(row)).convert("RGB").resize((PIXEL_SIDE, PIXEL_SIDE), Image.Resampling.BOX)
        )
        values = np.asarray(image, dtype=np.float32).reshape(-1)
        values -= values.mean()
        vectors[i] = values / max(float(np.linalg.norm(values)), 1e-6)
    return vectors


def posebyte_oracle_vectors(gallery: Any, rows: NDArray[np.int64]) -> NDArray[np.float32] | None:
    """The ground-truth-posebyte oracle: known bits as ±1 (unknown 0), L2-normalised, so the embedding
    distance ranks by posebit Hamming distance (no network involved); None without posebits."""
    if gallery.posebits is None:
        return None
    bits = np.asarray(gallery.posebits[rows], dtype=np.float32)
    signed = np.where(bits == 1, 1.0, np.where(bits == 0, -1.0, 0.0)).astype(np.float32)
    norms = np.maximum(np.linalg.norm(signed, axis=1, keepdims=True), 1e-6)
    return np.asarray(signed / norms, dtype=np.float32)


#: Images per float64 forward of the untrained baseline.
UNTRAINED_BATCH = 32


def untrained_embeddings(engine: Any, rows: NDArray[np.int64], seed: int) -> NDArray[np.float32] | None:
    """Vectors for gallery ``rows`` from a freshly initialised copy of the engine's image net (the same
    architecture and preprocessing, no training): the baseline that shows what training added.

    Random weights map every image to almost the same unit vector: two images' outputs differ by ~4e-8
    relative, below float32's resolution, so a float32 forward ranked rounding noise and the row changed
    from one CPU to another. The copy therefore runs in float64 on the CPU, and the unit outputs are
    centred on their mean and scaled by one constant: the rows' Euclidean distances are the unit outputs'
    distances times that constant (the same ranking), held in float32 without the cancellation.
    """
    import copy

    import torch

    embedder = getattr(engine, "image_embedder", None)
    if embedder is None or not hasattr(embedder, "preprocessing"):  # no CNN (e.g. the joints model)
        return None
    from posebrowser.nets.mirror_view import unwrap

    # the plain architecture: a mirrored view of random weights would add nothing but twice the time
    module = copy.deepcopy(unwrap(embedder.module)).to("cpu").double().eval()
    # contiguous (NCHW) float64: the built-in baseline took 120 s instead of 274 s in channels_last
    module = module.to(memory_format=torch.contiguous_format)
    torch.manual_seed(seed)
    for layer in module.modules():
        reset = getattr(layer, "reset_parameters", None)
        if callable(reset):
            reset()
    items = [engine.gallery.image_path(int(row)) for row in rows]
    parts, failed = [], []
    with torch.inference_mode():
        for start in range(0, len(items), UNTRAINED_BATCH):
            nhwc, failures = embedder.prepare_batch(items[start : start + UNTRAINED_BATCH], start)
            inputs = torch.from_numpy(nhwc).permute(0, 3, 1, 2).double().contiguous()
            parts.append(torch.nn.functional.normalize(module(inputs), dim=1).numpy())
            failed += [row for row, _ in failures]
    unit = np.concatenate(parts)
    unit[failed] = np.nan  # an unreadable image is never a result, as in Embedder.embed_images
    centred = unit - np.nanmean(unit, axis=0)
    scale = float(np.sqrt(np.nanmean((centred**2).sum(axis=1))))
    return np.asarray(centred / (scale if scale > 0 else 1.0), dtype=np.float32)


CNN_ALONE = "image query, CNN alone (the fused model without its pose readers)"
#: The fused model's image readers, each alone (the app's *Image model* menu offers them on their own).
READER_ALONE = {"keypoint_reader": "image query, keypoint reader alone (keypoint net + lifter, no estimator)"}


def fused_part_vectors(engine: Any, rows: NDArray[np.int64]) -> dict[str, NDArray[np.float32]]:
    """With the fused image model: its CNN's own rows for gallery ``rows`` (what the readers add is the
    difference to the image query's row; read from the CNN's embedding cache of the gallery when the
    engine has a complete one, which embedding with the fused model fills) and each image reader's own
    rows (in its own space: a reader that needs no pose estimate, such as the keypoint reader, answers
    every image); nothing for any other image model. The joints model's rows come from
    :func:`joints_model_vectors`."""
    from posebrowser.core.embedder import Embedder

    embedder: Any = getattr(engine, "image_embedder", None)
    cnn = getattr(embedder, "image", None)
    if cnn is None or not hasattr(embedder, "fusion"):
        return {}
    cached = getattr(engine, "cached_embeddings", lambda model_sha256: None)(cnn.model_sha256)
    cnn_rows = cached[rows] if cached is not None else cnn.embed_images(engine.gallery, indices=rows)
    parts = {CNN_ALONE: np.asarray(cnn_rows, dtype=np.float32)}
    for stem, reader in zip(embedder.fusion.joints_models, embedder.readers, strict=True):
        if isinstance(reader, Embedder):
            label = READER_ALONE.get(stem, f"image query, {stem} alone")
            parts[label] = np.asarray(reader.embed_images(engine.gallery, indices=rows), dtype=np.float32)
    return parts


JOINTS_ESTIMATED = "joints model (BlazePose 3-D joints → joints net)"
JOINTS_ORACLE = "joints net on ground-truth joints (upper bound)"


def _joints_model_path(args: argparse.Namespace) -> Path | None:
    """``--joints-model``, else ``joints_net`` in the models folder when it is there."""
    from posebrowser.core.locations import default_models_dir

    if args.joints_model is not None:
        return Path(args.joints_model)
    stem = Path(args.models or default_models_dir()) / "joints_net"
    return stem if stem.with_suffix(".json").is_file() else None


def _engine_estimate_root(engine: Any) -> Path | None:
    """Where the engine's image model keeps its pose estimates (the fused model's), so the joints model's
    rows read them back instead of estimating the same images again; None for a model without any."""
    cache = getattr(getattr(getattr(engine, "image_embedder", None), "joints", None), "cache", None)
    return None if cache is None else cache.root


def joints_model_vectors(
    gallery: Any,
    rows: NDArray[np.int64],
    query_count: int,
    model: Path | None,
    estimate_root: Path | None = None,
) -> tuple[dict[str, NDArray[np.float32]], dict[str, Any]]:
    """The joints model's rows: gallery ``rows`` (queries first, ``query_count`` of them) embedded by the
    pose estimator + joints net, and — with 3-D ground truth — the joints net fed the true joints (an upper
    bound: a perfect estimator). An image where the estimator finds nobody (or that cannot be read) gets
    the net's zero-information row (its mean training pose, embedded), so every method is scored on the
    same queries and database; how many is in the returned meta. Estimates go through ``estimate_root``
    (default: the user's estimate cache). Nothing without ``model``."""
    if model is None:
        return {}, {}
    from posebrowser.core.joints_embedder import JointsEmbedder

    embedder = JointsEmbedder.from_checkpoint(model, "cpu", estimate_root)
    embedder.no_person = "neutral"
    vectors = {JOINTS_ESTIMATED: embedder.embed_images(gallery, indices=rows)}
    missing = sorted({*embedder.no_person_rows, *(row for row, _ in embedder.failures)})
    vectors[JOINTS_ESTIMATED][missing] = embedder.neutral_row()
    if getattr(gallery, "joints_3d", None) is not None:
        vectors[JOINTS_ORACLE] = embedder.embed_joints(gallery.joints_3d[rows])
    flagged = np.asarray(missing, dtype=np.int64)
    meta = {
        "joints_model_sha256": embedder.model_sha256,
        "joints_model_no_person": {
            "queries": int((flagged < query_count).sum()),
            "database": int((flagged >= query_count).sum()),
        },
    }
    return vectors, meta


def _merge_series(tables: list[MetricTable], extra: list[MetricTable]) -> None:
    """Add the non-chance series of ``extra`` tables to the tables with the same key."""
    by_key = {table.key: table for table in tables}
    for table in extra:
        if table.key in by_key:
            by_key[table.key].series.update(
                {label: values for label, values in table.series.items() if not label.startswith("chance")}
            )


def _ground_truth_posebyte_queries(engine: Any, query_rows: NDArray[np.int64]) -> NDArray[np.float32] | None:
    """Posebit-net embeddings (Q, D) of the queries' full annotated posebytes (the thesis language mode)."""
    gallery = engine.gallery
    embedder = engine.posebit_embedder
    if embedder is None or gallery.posebits is None:
        return None
    names = embedder.posebit_names or tuple(engine.vocabulary.names)
    column = {name: j for j, name in enumerate(gallery.posebit_names)}
    known = [(i, column[name]) for i, name in enumerate(names) if name in column]
    if not known:
        return None
    posebytes = np.zeros((len(query_rows), len(names)), dtype=np.float32)
    net_columns, gallery_columns = (np.asarray(v) for v in zip(*known, strict=True))
    posebytes[:, net_columns] = np.clip(gallery.posebits[np.ix_(query_rows, gallery_columns)], 0, 1)
    vectors: NDArray[np.float32] = np.asarray(embedder.embed(posebytes), dtype=np.float32)
    return vectors


def posebit_question_rankings(
    engine: Any,
    db_rows: NDArray[np.int64],
    query_rows: NDArray[np.int64],
    k: int,
    min_count: int = 5,
    fit_masks: bool = False,
    posebyte_queries: NDArray[np.float32] | None = None,
) -> dict[str, dict[Condition, NDArray[np.int64]]]:
    """Rankings (gallery rows, best first) per method and single-condition question (bit name, value).

    Methods: "mask (origin query)" ranks by ``‖mask ⊙ e_t‖`` (shipped masks, or fitted with
    ``fit_masks``); "posebyte query (conditional)" is the app's conditional query (the completed posebyte
    through the posebit net, contrasted against the completion with the asked bit flipped), and
    :data:`THESIS_CONDITIONAL_ROW` the thesis' (the completed posebyte alone, contrast 0);
    "example image query" uses each query-split image holding the value as a query (baseline);
    "mean query (full posebyte)" uses the posebit-net embedding of each such image's whole ground-truth
    posebyte (``posebyte_queries``, the thesis' mean-query baseline).
    """
    gallery = engine.gallery
    embeddings = np.asarray(engine.embeddings, dtype=np.float64)
    database = embeddings[db_rows]
    example_top = db_rows[top_k_indices(embeddings[query_rows], database, k)]
    posebyte_top = None if posebyte_queries is None else db_rows[top_k_indices(posebyte_queries, database, k)]
    full_posebytes: dict[Condition, NDArray[np.int64]] = {}
    masks: dict[Condition, NDArray[np.int64]] = {}
    conditional: dict[Condition, NDArray[np.int64]] = {}
    thesis_conditional: dict[Condition, NDArray[np.int64]] = {}
    completion_oracle: dict[Condition, NDArray[np.int64]] = {}
    examples: dict[Condition, NDArray[np.int64]] = {}
    conditional_model = getattr(engine, "conditional", None)
    db_bits = np.asarray(gallery.posebits[db_rows])
    for column, name in enumerate(gallery.posebit_names):
        values = gallery.posebits[:, column]
        for value in (0, 1):
            if int((values[db_rows] == value).sum()) < min_count:
                continue
            condition = (str(name), value)
            holders = values[query_rows] == value
            if holders.any():
                examples[condition] = example_top[holders]
                if posebyte_top is not None:
                    full_posebytes[condition] = posebyte_top[holders]
            mask = _mask_or_none(engine, condition, fit_masks)
            if mask is not None:
                norms = np.linalg.norm(database * mask[None, :], axis=1)
                masks[condition] = db_rows[np.argsort(norms, kind="stable")[:k]]
            if conditional_model is not None:
                completed = conditional_model.complete({column: value}).posebyte
                completion_oracle[condition] = db_rows[_nearest_by_hamming(completed, db_bits, k)]
            if engine.posebit_embedder is not None and conditional_model is not None:
                try:
                    vectors = _conditional_vectors(engine, condition)
                except QueryError:
                    continue
                top = db_rows[top_k_indices(vectors, database, k)]
                conditional[condition], thesis_conditional[condition] = top[0], top[1]
    methods = {
        "mask (origin query)": masks,
        "posebyte query (conditional)": conditional,
        THESIS_CONDITIONAL_ROW: thesis_conditional,
        "completed posebyte, ground-truth bits (oracle)": completion_oracle,
        "example image query": examples,
        "mean query (full posebyte)": full_posebytes,
    }
    return {label: rankings for label, rankings in methods.items() if rankings}


def _conditional_vectors(engine: Any, condition: Condition) -> NDArray[np.float32]:
    """(2, D): the engine's conditional query for one condition, then the thesis' (no contrast)."""
    from posebrowser.core.query import PosebitTerm

    term = PosebitTerm((condition,), mode="conditional")
    return np.stack([engine.term_vector(term), engine.term_vector(term, contrast=0.0)])


def _nearest_by_hamming(
    posebyte: NDArray[np.integer], bits: NDArray[np.integer], k: int
) -> NDArray[np.int64]:
    """Positions (k,) of the rows of ``bits`` (M, B) annotated posebits (−1 unknown) that differ least from
    ``posebyte`` (B,) in the same column order, counting only known bits; ties in row order."""
    differing = ((bits != np.asarray(posebyte)[None, :]) & (bits >= 0)).sum(axis=1)
    return np.argsort(differing, kind="stable")[:k]


def _mask_or_none(engine: Any, condition: Condition, fit: bool) -> NDArray[np.float64] | None:
    bank = getattr(engine, "masks", None)
    shipped = bank.shipped(*condition) if bank is not None else None
    if shipped is not None:
        return np.asarray(shipped, dtype=np.float64)
    if not fit:
        return None
    try:
        return np.asarray(engine.mask_for((condition,)), dtype=np.float64)
    except QueryError:
        return None
