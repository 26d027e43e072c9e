"""Writing a synthetic gallery in the posebrowser gallery format v1 (``data/gallery_format.py``).

Work is split into chunks of consecutive image indices. A chunk writes its JPEGs atomically and then one
annotation shard ``DIR/.parts/part_<start>_<stop>.npz``; an interrupted run resumes by skipping every chunk
whose shard exists. At the end the shards are merged into ``annotations.npz``, posebits are computed from
the 3D joints (when the posebit vocabulary is available) and ``manifest.json`` is written. Every image is a
pure function of (seed, index, size), so the result does not depend on the number of workers.
"""

from __future__ import annotations

import io
import json
import os
import shutil
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from multiprocessing import get_context
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray
from PIL import Image

from posebrowser.data import gallery_format as fmt
from posebrowser.errors import DataError, JobCancelledError
from posebrowser.fileio import atomic_write_bytes, remove_stale_temporaries
from posebrowser.synth.options import DEFAULT_OPTIONS, SynthOptions

PARTS_DIR = ".parts"
CONFIG_NAME = "config.json"
GENERATOR_VERSION = 2
JPEG_QUALITY = 90
ROW_FIELDS = (
    "files",
    "split",
    "joints_3d",
    "joints_2d",
    "visibility",
    "camera_rotation",
    "camera_translation",
    "camera_focal",
    "body_id",
    "source",
)


def chunk_size(count: int) -> int:
    """Images per chunk: small for small galleries (so several workers share them), 16 otherwise."""
    return 4 if count < 256 else 16


def chunks(count: int) -> list[tuple[int, int]]:
    """``[(start, stop), ...]`` covering ``0..count``."""
    step = chunk_size(count)
    return [(start, min(start + step, count)) for start in range(0, count, step)]


def image_name(index: int) -> str:
    """Relative path of image ``index``: ``images/000042.jpg``."""
    return f"{fmt.IMAGES_DIR}/{index:06d}.jpg"


def _shard_path(out: Path, start: int, stop: int) -> Path:
    return out / PARTS_DIR / f"part_{start:07d}_{stop:07d}.npz"


def render_chunk(
    out: str, seed: int, start: int, stop: int, size: int, supersample: int, options: dict[str, Any]
) -> int:
    """Render images ``start..stop-1`` into ``out`` and write their shard; returns the number rendered.
    Top-level so that spawned worker processes can run it (``options``: :meth:`SynthOptions.to_dict`)."""
    from posebrowser.synth.sample import render_sample

    root = Path(out)
    synth_options = SynthOptions.from_dict(options)
    rows: dict[str, list[Any]] = {field: [] for field in ROW_FIELDS}
    for index in range(start, stop):
        item = render_sample(seed, index, size=size, supersample=supersample, options=synth_options)
        buffer = io.BytesIO()
        Image.fromarray(item.image).save(buffer, format="JPEG", quality=JPEG_QUALITY)
        atomic_write_bytes(root / image_name(index), buffer.getvalue())
        rows["files"].append(image_name(index))
        rows["split"].append(item.split)
        rows["joints_3d"].append(item.joints_3d)
        rows["joints_2d"].append(item.joints_2d)
        rows["visibility"].append(item.visibility)
        rows["camera_rotation"].append(item.camera.rotation.astype(np.float32))
        rows["camera_translation"].append(item.camera.translation.astype(np.float32))
        rows["camera_focal"].append(np.float32(item.camera.focal))
        rows["body_id"].append(item.body_id)
        rows["source"].append(item.source)
    arrays = _stack_rows(rows)
    buffer = io.BytesIO()
    np.savez(buffer, allow_pickle=False, **arrays)
    atomic_write_bytes(_shard_path(root, start, stop), buffer.getvalue())
    return stop - start


def _stack_rows(rows: dict[str, list[Any]]) -> dict[str, NDArray[Any]]:
    return {
        "files": np.asarray(rows["files"], dtype=str),
        "split": np.asarray(rows["split"], np.uint8),
        "joints_3d": np.asarray(rows["joints_3d"], np.float32).reshape(-1, 16, 3),
        "joints_2d": np.asarray(rows["joints_2d"], np.float32).reshape(-1, 16, 2),
        "visibility": np.asarray(rows["visibility"], bool).reshape(-1, 16),
        "camera_rotation": np.asarray(rows["camera_rotation"], np.float32).reshape(-1, 3, 3),
        "camera_translation": np.asarray(rows["camera_translation"], np.float32).reshape(-1, 3),
        "camera_focal": np.asarray(rows["camera_focal"], np.float32),
        "body_id": np.asarray(rows["body_id"], np.int16),
        "source": np.asarray(rows["source"], dtype=str),
    }


def _check_config(out: Path, config: dict[str, Any]) -> None:
    """Refuse to mix runs: an unfinished run in ``out`` must have the same settings."""
    path = out / PARTS_DIR / CONFIG_NAME
    if path.exists():
        try:
            previous = json.loads(path.read_text())
        except (OSError, ValueError):
            previous = None
        if previous != config:
            raise DataError(
                f"This folder holds an unfinished synthetic gallery made with other settings ({previous}); "
                "use another output folder or delete it first.",
                path=out,
            )
        return
    atomic_write_bytes(path, json.dumps(config, sort_keys=True).encode())


def _check_folder(out: Path) -> None:
    """The output folder must be new, empty or hold only what this generator writes."""
    ours = {fmt.IMAGES_DIR, PARTS_DIR, fmt.MANIFEST_NAME, fmt.ANNOTATIONS_NAME}
    if out.exists() and not out.is_dir():
        raise DataError("The output path is a file, not a folder.", path=out)
    if out.is_dir():  # a kill during a merge leaves temporaries of our own writers: they are garbage
        for folder in (out, out / fmt.IMAGES_DIR, out / PARTS_DIR):
            remove_stale_temporaries(folder)
    if out.exists() and any(entry.name not in ours for entry in out.iterdir()):
        raise DataError("The output folder holds other files; choose an empty or new folder.", path=out)


def _finished_manifest(
    out: Path, seed: int, size: int, count: int, options: SynthOptions
) -> dict[str, Any] | None:
    """The manifest of a finished gallery with these settings, None when there is no finished gallery."""
    path = out / fmt.MANIFEST_NAME
    if not path.exists() or (out / PARTS_DIR).exists() or not (out / fmt.ANNOTATIONS_NAME).exists():
        return None
    try:
        manifest = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    key = (
        manifest.get("source"),
        manifest.get("seed"),
        manifest.get("image_size"),
        manifest.get("count"),
        manifest.get("synth_options"),
    )
    if key != ("synth", int(seed), int(size), int(count), options.to_dict()):
        raise DataError(
            "The output folder already holds a different gallery; choose another folder.", path=out
        )
    return dict(manifest)


def render_missing_images(
    out: str, seed: int, indices: list[int], size: int, supersample: int, options: dict[str, Any]
) -> int:
    """Re-render only the image files of ``indices`` (rendering is deterministic: annotations hold)."""
    from posebrowser.synth.sample import render_sample

    synth_options = SynthOptions.from_dict(options)
    for index in indices:
        item = render_sample(seed, index, size=size, supersample=supersample, options=synth_options)
        buffer = io.BytesIO()
        Image.fromarray(item.image).save(buffer, format="JPEG", quality=JPEG_QUALITY)
        atomic_write_bytes(Path(out) / image_name(index), buffer.getvalue())
    return len(indices)


def _posebit_fields(joints_3d: NDArray[np.float32]) -> tuple[dict[str, NDArray[Any]], str | None]:
    """Posebits and their names when the vocabulary module is available, else nothing."""
    try:
        from posebrowser.pose.posebits import get_vocabulary
    except ImportError:
        return {}, None
    vocabulary = get_vocabulary()
    bits = vocabulary.compute(joints_3d.astype(np.float64), up=(0.0, 0.0, 1.0))
    return {
        "posebits": np.asarray(bits, np.int8),
        "posebit_names": np.asarray(vocabulary.names, dtype=str),
    }, str(vocabulary.version)


def merge_parts(
    out: Path, count: int, seed: int, size: int, name: str, options: SynthOptions = DEFAULT_OPTIONS
) -> dict[str, Any]:
    """Merge a finished run's shards into ``annotations.npz`` + ``manifest.json``; returns the manifest."""
    parts: list[dict[str, NDArray[Any]]] = []
    for start, stop in chunks(count):
        path = _shard_path(out, start, stop)
        with np.load(path, allow_pickle=False) as shard:
            parts.append({key: shard[key] for key in shard.files})
    arrays = {key: np.concatenate([part[key] for part in parts]) for key in ROW_FIELDS}
    arrays["ids"] = np.arange(count, dtype=np.int64)
    posebits, version = _posebit_fields(arrays["joints_3d"])
    arrays.update(posebits)
    fmt.save_annotations(out / fmt.ANNOTATIONS_NAME, arrays)
    manifest = fmt.write_manifest(
        out,
        name=name,
        source="synth",
        seed=int(seed),
        image_size=int(size),
        posebit_version=version,
        synth_options=options.to_dict(),
        created_by="posebrowser synth",
    )
    shutil.rmtree(out / PARTS_DIR, ignore_errors=True)
    return manifest


def generate_gallery(
    out: Path,
    count: int,
    seed: int = 0,
    size: int = 128,
    workers: int | None = None,
    supersample: int = 2,
    name: str | None = None,
    progress: Callable[[int, int], None] | None = None,
    cancel: Callable[[], bool] | None = None,
    options: SynthOptions = DEFAULT_OPTIONS,
) -> dict[str, Any]:
    """Generate (or resume) a synthetic gallery of ``count`` images in ``out`` drawn from ``options``;
    returns the manifest.

    workers: processes (default: all cores; 1 renders in this process). progress(done, total) is called
    after every chunk; cancel() returning True stops the run (finished chunks are kept for a resume) and
    raises :class:`JobCancelledError`.
    """
    if count < 1:
        raise DataError("The number of images must be at least 1.")
    if not 32 <= size <= 1024:
        raise DataError(f"The image size must be between 32 and 1024 pixels, not {size}.")
    out = Path(out)
    _check_folder(out)
    name = name or out.name
    finished = _finished_manifest(out, seed, size, count, options)
    as_dict = options.to_dict()
    if finished is not None:
        missing = [i for i in range(count) if not (out / image_name(i)).exists()]
        if not missing:
            if progress is not None:
                progress(count, count)
            return finished
        tasks: list[tuple[Callable[..., int], tuple[Any, ...]]] = [
            (render_missing_images, (str(out), seed, missing[i : i + 4], size, supersample, as_dict))
            for i in range(0, len(missing), 4)
        ]
        _run_tasks(tasks, workers, count - len(missing), count, progress, cancel)
        return fmt.write_manifest(
            out,
            name=finished.get("name", name),
            source="synth",
            seed=int(seed),
            image_size=int(size),
            posebit_version=finished.get("posebit_version"),
            synth_options=as_dict,
            created_by="posebrowser synth",
        )
    config = {
        "version": GENERATOR_VERSION,
        "count": int(count),
        "seed": int(seed),
        "size": int(size),
        "supersample": int(supersample),
        "options": as_dict,
    }
    _check_config(out, config)
    for stale in (fmt.MANIFEST_NAME, fmt.ANNOTATIONS_NAME):
        (out / stale).unlink(missing_ok=True)
    (out / fmt.IMAGES_DIR).mkdir(parents=True, exist_ok=True)
    todo = [(a, b) for a, b in chunks(count) if not _shard_path(out, a, b).exists()]
    tasks = [(render_chunk, (str(out), seed, a, b, size, supersample, as_dict)) for a, b in todo]
    _run_tasks(tasks, workers, count - sum(b - a for a, b in todo), count, progress, cancel)
    return merge_parts(out, count, seed, size, name, options)


def _run_tasks(
    tasks: list[tuple[Callable[..., int], tuple[Any, ...]]],
    workers: int | None,
    done: int,
    total: int,
    progress: Callable[[int, int], None] | None,
    cancel: Callable[[], bool] | None,
) -> None:
    """Run ``(function, args)`` tasks (each returns images done) in this process or a spawned pool."""
    if progress is not None:
        progress(done, total)
    workers = max(1, min(workers or os.cpu_count() or 1, len(tasks) or 1))
    if workers > 1:
        _run_pool(tasks, workers, done, total, progress, cancel)
        return
    for function, args in tasks:
        if cancel is not None and cancel():
            raise JobCancelledError("Synthetic gallery generation was cancelled; run it again to resume.")
        done += function(*args)
        if progress is not None:
            progress(done, total)


def _run_pool(
    tasks: list[tuple[Callable[..., int], tuple[Any, ...]]],
    workers: int,
    done: int,
    total: int,
    progress: Callable[[int, int], None] | None,
    cancel: Callable[[], bool] | None,
) -> None:
    """Run the tasks with ``workers`` spawned processes (single-threaded BLAS each)."""
    saved = {
        key: os.environ.get(key) for key in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")
    }
    os.environ.update(dict.fromkeys(saved, "1"))
    try:
        with ProcessPoolExecutor(max_workers=workers, mp_context=get_context("spawn")) as pool:
            pending: set[Future[int]] = {pool.submit(function, *args) for function, args in tasks}
            while pending:
                finished, pending = wait(pending, timeout=0.5, return_when=FIRST_COMPLETED)
                for future in finished:
                    done += future.result()
                    if progress is not None:
                        progress(done, total)
                if cancel is not None and cancel():
                    for future in pending:
                        future.cancel()
                    raise JobCancelledError(
                        "Synthetic gallery generation was cancelled; run it again to resume."
                    )
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
