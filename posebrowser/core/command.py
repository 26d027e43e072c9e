"""Headless retrieval commands: ``embed``, ``query``, ``project``, ``export``.

Examples::

    posebrowser embed --gallery DIR                       # embed through the cache (resumable)
    torchrun --nproc_per_node 2 -m posebrowser embed --gallery DIR   # sharded over processes / GPUs
    posebrowser query --id 17 --k 10 --json
    posebrowser query --posebits "left knee is bent=1, right knee is bent=0" --mode mask --split test
    posebrowser query --expr "2*[img 17] + [right wrist is above the neck] - 0.5*[img 3]"
    posebrowser project --method tsne --out map.csv
    posebrowser export --what results --id 3 --out results.json
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import sys
from pathlib import Path
from typing import Any

from posebrowser.core.locations import DEFAULT_IMAGE_MODEL
from posebrowser.data.gallery_format import SPLITS
from posebrowser.errors import QueryError


def _engine_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--gallery", type=Path, default=None, help="gallery folder (default: built-in)")
    parser.add_argument("--models", type=Path, default=None, help="models folder (default: shipped models)")
    parser.add_argument("--device", default="auto", choices=("auto", "cuda", "cpu"))
    parser.add_argument("--cache-dir", type=Path, default=None, help="embedding cache folder")
    parser.add_argument(
        "--image-model",
        default=DEFAULT_IMAGE_MODEL,
        help="image model in the models folder: fused_net (the CNN blended with the pose estimator's "
        "reading; default, the CNN where the folder has none), image_net (the CNN alone) or joints_net "
        "(estimator + joints net)",
    )


def _query_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--image", type=Path, help="query with an image file")
    parser.add_argument("--id", type=int, help="query with the gallery item of this id")
    parser.add_argument("--posebits", help='posebit conditions, e.g. "left knee is bent=1, feet are apart=0"')
    parser.add_argument("--mode", default="conditional", choices=("full", "conditional", "mask"))
    parser.add_argument(
        "--contrast",
        type=float,
        default=None,
        help="asked-bit contrast of a conditional query (default: the shipped 4; 0 = the thesis' query)",
    )
    parser.add_argument("--expr", help="a query expression, e.g. '2*[img 17] - 0.5*[img 3]'")
    parser.add_argument("--k", type=int, default=50, help="number of results")
    parser.add_argument("--split", choices=SPLITS, help="search this split only")


def register(subparsers: Any) -> None:
    embed = subparsers.add_parser("embed", help="embed a gallery into the cache (resumable, torchrun-aware)")
    _engine_args(embed)
    embed.add_argument(
        "--chunk-rows", type=int, default=4096, help="images per cache chunk (resume/shard unit)"
    )
    embed.add_argument("--json", action="store_true", help="machine-readable output")
    embed.set_defaults(func=run_embed)

    query = subparsers.add_parser(
        "query", help="rank gallery items for an image / posebit / expression query"
    )
    _engine_args(query)
    _query_args(query)
    query.add_argument("--json", action="store_true", help="machine-readable output")
    query.set_defaults(func=run_query)

    project = subparsers.add_parser("project", help="2-D projection of the gallery embeddings")
    _engine_args(project)
    project.add_argument("--method", default="pca", choices=("pca", "tsne", "umap"))
    project.add_argument("--perplexity", type=float, default=30.0)
    project.add_argument("--iterations", type=int, default=500)
    project.add_argument("--subspace", help="posebit conditions whose mask is applied before projecting")
    project.add_argument("--out", type=Path, required=True, help="output .csv (id,x,y) or .npy (N,2)")
    project.set_defaults(func=run_project)

    export = subparsers.add_parser("export", help="export embeddings or query results as CSV / JSON / npy")
    _engine_args(export)
    _query_args(export)
    export.add_argument("--what", default="results", choices=("results", "embeddings"))
    export.add_argument("--out", type=Path, required=True, help="output file (.csv, .json or .npy)")
    export.set_defaults(func=run_export)


def progress_bar(description: str, disable: bool = False) -> Any:
    """A ``progress(done, total)`` callback drawing a tqdm bar on stderr (none when ``disable``)."""
    from tqdm import tqdm

    bars: list[Any] = []  # created on the first report: a cache hit prints nothing

    def update(done: int, total: int) -> None:
        if not bars:
            bars.append(
                tqdm(desc=description, unit="img", file=sys.stderr, leave=False, total=total, disable=disable)
            )
        bar = bars[0]
        bar.total = total
        bar.n = done
        bar.refresh()

    return update


def open_engine(args: argparse.Namespace, estimate_poses: bool = True) -> Any:
    """The engine of ``args``; a photo folder without annotations gets estimated poses first unless
    ``estimate_poses`` is False (``embed`` needs none)."""
    from posebrowser.core.engine import RetrievalEngine

    engine = RetrievalEngine.open(
        args.gallery,
        args.models,
        args.device,
        args.cache_dir,
        progress=progress_bar("embedding"),
        chunk_rows=getattr(args, "chunk_rows", 4096),
        estimate_poses=estimate_poses,
        annotation_progress=progress_bar("estimating poses"),  # a photo folder without annotations
        image_model=getattr(args, "image_model", DEFAULT_IMAGE_MODEL),
    )
    for warning in engine.warnings:  # e.g. unreadable images left out: once, on stderr
        print(f"warning: {warning}", file=sys.stderr)
    return engine


def build_query(args: argparse.Namespace, engine: Any) -> Any:
    """A :class:`Query` from ``--expr`` or ``--image`` / ``--id`` / ``--posebits`` (summed)."""
    from posebrowser.core.query import ImageTerm, Query
    from posebrowser.core.query_parser import parse_query

    if args.expr:
        return parse_query(args.expr, engine.vocabulary)
    terms: list[Any] = []
    if args.image is not None:
        terms.append(ImageTerm(path=str(args.image)))
    if args.id is not None:
        try:
            terms.append(ImageTerm(gallery_index=engine.gallery.row_of_id(args.id)))
        except KeyError:
            raise QueryError(f"The gallery has no item with id {args.id}.") from None
    if args.posebits:
        terms.extend(parse_query(f"[{args.posebits}]{{{args.mode}}}", engine.vocabulary).terms)
    if not terms:
        raise QueryError("Give a query: --image, --id, --posebits or --expr.")
    return Query(tuple(terms))


def result_rows(engine: Any, result: Any) -> list[dict[str, Any]]:
    """One dict per result: rank, row, id, file, distance, correct, ground-truth distances."""
    rows = []
    for rank, (row, item_id, dist) in enumerate(
        zip(result.indices, result.ids, result.distances, strict=True)
    ):
        entry: dict[str, Any] = {
            "rank": rank + 1,
            "row": int(row),
            "id": int(item_id),
            "file": engine.gallery.files[int(row)],
            "distance": round(float(dist), 6),
        }
        if result.correct is not None:
            entry["correct"] = bool(result.correct[rank])
        for metric, values in result.gt_distances.items():
            entry[f"gt_{metric}"] = round(float(values[rank]), 6)
        rows.append(entry)
    return rows


def run_embed(args: argparse.Namespace) -> int:
    from posebrowser.core.distributed import is_distributed_launch

    if is_distributed_launch():
        return _run_embed_distributed(args)
    engine = open_engine(args, estimate_poses=False)  # embeddings do not depend on annotations
    summary = {
        "count": len(engine.gallery),
        "device": engine.device.reason,
        "index": engine.index.kind,
        "failures": len(getattr(engine.image_embedder, "failures", [])),
    }
    print(
        json.dumps(summary)
        if args.json
        else f"embedded {summary['count']} images on {summary['device']}; index: {summary['index']}"
    )
    return 0


def _run_embed_distributed(args: argparse.Namespace) -> int:
    from posebrowser.core.cache import CacheKey
    from posebrowser.core.device import resolve_device
    from posebrowser.core.distributed import embed_sharded, init_distributed
    from posebrowser.core.image_models import image_embedder_from_checkpoint
    from posebrowser.core.locations import default_cache_dir, default_models_dir, resolve_image_model
    from posebrowser.data.loading import open_gallery
    from posebrowser.pose.posebits import get_vocabulary

    choice = resolve_device(args.device)
    if choice.name == "cuda":  # one GPU per process: "cuda" then means this rank's local GPU
        import os

        import torch

        torch.cuda.set_device(int(os.environ.get("LOCAL_RANK", "0")) % torch.cuda.device_count())
    context = init_distributed(choice.name)
    gallery = open_gallery(args.gallery)
    models = args.models or default_models_dir()
    name = resolve_image_model(Path(models), getattr(args, "image_model", DEFAULT_IMAGE_MODEL))
    embedder = image_embedder_from_checkpoint(Path(models) / name, choice.name)
    key = CacheKey(embedder.model_sha256, gallery.content_hash, get_vocabulary().version)

    def compute(start: int, stop: int) -> Any:
        return embedder.embed_images(gallery, indices=range(start, stop))

    dim = int(compute(0, 1).shape[1])
    root = str(args.cache_dir or default_cache_dir())
    merged = embed_sharded(root, key, len(gallery), dim, compute, context, chunk_rows=args.chunk_rows)
    if merged is not None:
        print(
            json.dumps({"count": len(merged), "ranks": context.world_size})
            if args.json
            else f"embedded {len(merged)} images on {context.world_size} processes"
        )
    return 0


def run_query(args: argparse.Namespace) -> int:
    from posebrowser.data.image_folder import annotations_estimated

    engine = open_engine(args)
    query = build_query(args, engine)
    result = engine.search(query, k=args.k, split=args.split, contrast=getattr(args, "contrast", None))
    rows = result_rows(engine, result)
    if args.json:
        payload = {
            "query": query.to_expr(),
            "index": result.index_kind,
            "asked": result.asked,
            "annotations": "estimated" if annotations_estimated(engine.gallery) else "annotated",
            "results": rows,
        }
        if result.correct is not None and len(result.correct):
            payload["precision"] = float(result.correct.mean())
        print(json.dumps(payload, indent=2))
        return 0
    estimated = "   [✓/✗ from estimated annotations]" if annotations_estimated(engine.gallery) else ""
    print(f"query: {query.to_expr()}   ({result.index_kind}){estimated}")
    for entry in rows:
        correct = entry.get("correct")
        mark = "" if correct is None else ("  ✓" if correct else "  ✗")
        print(f"{entry['rank']:4d}  id {entry['id']:>8d}  {entry['distance']:.4f}{mark}  {entry['file']}")
    return 0


def _subspace_mask(engine: Any, conditions: str | None) -> Any:
    if not conditions:
        return None
    from posebrowser.core.query import PosebitTerm
    from posebrowser.core.query_parser import parse_query

    term = parse_query(f"[{conditions}]", engine.vocabulary).terms[0]
    if not isinstance(term, PosebitTerm):
        raise QueryError("--subspace takes posebit conditions, e.g. 'left knee is bent=1'.")
    return engine.mask_for(term.conditions)


def run_project(args: argparse.Namespace) -> int:

    engine = open_engine(args)
    params = {} if args.method != "tsne" else {"perplexity": args.perplexity, "n_iter": args.iterations}
    coords = engine.project(
        args.method, params, _subspace_mask(engine, args.subspace), progress=progress_bar(args.method)
    )
    if args.out.suffix == ".npy":
        _write_npy(args.out, coords)
    else:
        _write_table(
            args.out,
            [
                {"id": int(i), "x": float(x), "y": float(y)}
                for i, (x, y) in zip(engine.gallery.ids, coords, strict=True)
            ],
        )
    print(f"wrote {len(coords)} points to {args.out}")
    return 0


def _write_npy(path: Path, array: Any) -> None:
    import numpy as np

    from posebrowser.fileio import atomic_write_bytes

    buffer = io.BytesIO()
    np.save(buffer, np.asarray(array), allow_pickle=False)
    atomic_write_bytes(path, buffer.getvalue())


def _write_table(path: Path, rows: list[dict[str, Any]]) -> None:
    from posebrowser.fileio import atomic_write_bytes

    if path.suffix == ".json":
        text = json.dumps(rows, indent=2)
    else:
        buffer = io.StringIO()
        fields = list(dict.fromkeys(key for row in rows for key in row))
        writer = csv.DictWriter(buffer, fieldnames=fields)
        writer.writeheader()
        writer.writerows(rows)
        text = buffer.getvalue()
    atomic_write_bytes(path, text.encode())


def run_export(args: argparse.Namespace) -> int:
    import numpy as np

    engine = open_engine(args)
    if args.what == "embeddings":
        if args.out.suffix == ".npy":
            _write_npy(args.out, np.asarray(engine.embeddings))
        else:
            _write_table(
                args.out,
                [
                    {"id": int(i), "file": f, "embedding": [round(float(v), 7) for v in e]}
                    if args.out.suffix == ".json"
                    else {"id": int(i), "file": f, **{f"e{j}": float(v) for j, v in enumerate(e)}}
                    for i, f, e in zip(
                        engine.gallery.ids, engine.gallery.files, engine.embeddings, strict=True
                    )
                ],
            )
        print(f"wrote {len(engine.embeddings)} embeddings to {args.out}")
        return 0
    result = engine.search(build_query(args, engine), k=args.k, split=args.split)
    _write_table(args.out, result_rows(engine, result))
    print(f"wrote {len(result)} results to {args.out}")
    return 0
