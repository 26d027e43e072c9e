"""Per-image estimate cache and batch estimation: one JSON file per (image content, estimator version).

Layout: ``<root>/<folder of the estimator version>/<sha256 of the image bytes>.json`` holding
:meth:`PoseEstimate.to_json_dict` / :meth:`NoPersonFound.to_json_dict`. Each file is written atomically
(:func:`posebrowser.fileio.atomic_write_bytes`), so a kill at any moment leaves complete files only and
the next run estimates just the images without one (resumable); a damaged or foreign file is a miss
and is rewritten. A new model bundle, joint mapping or posebit vocabulary changes the version, hence the
folder, so stale estimates are never served.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from numpy.typing import NDArray
from PIL import Image

from posebrowser.errors import CorruptFileError, DataError, JobCancelledError
from posebrowser.estimate.estimator import ImageInput, PoseEstimator
from posebrowser.estimate.result import EstimateOutcome, outcome_from_json
from posebrowser.fileio import atomic_write_bytes, remove_stale_temporaries

#: Temporaries older than this (seconds) belong to a killed writer and are removed when a cache opens.
STALE_TEMPORARY_S = 3600.0


def default_estimate_cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "posebrowser" / "estimates"


def content_key(data: bytes | Image.Image | NDArray[np.uint8]) -> str:
    """SHA-256 of encoded image bytes, or of a PIL image's / an array's mode or shape and pixels."""
    if isinstance(data, np.ndarray):
        digest = hashlib.sha256(f"{data.dtype}|{data.shape}|".encode())
        digest.update(np.ascontiguousarray(data).tobytes())
        return digest.hexdigest()
    if isinstance(data, Image.Image):
        digest = hashlib.sha256(f"{data.mode}|{data.size}|".encode())
        digest.update(data.tobytes())
        return digest.hexdigest()
    return hashlib.sha256(data).hexdigest()


class EstimateCache:
    """Estimates of one estimator version, one JSON file per image content hash."""

    def __init__(self, root: str | Path, estimator_version: str) -> None:
        self.estimator_version = estimator_version
        #: The cache's root: one folder per estimator version below it.
        self.root = Path(root)
        folder = hashlib.sha256(estimator_version.encode()).hexdigest()[:20]
        self.directory = self.root / folder
        remove_stale_temporaries(self.directory, older_than_s=STALE_TEMPORARY_S)

    def path_for(self, key: str) -> Path:
        return self.directory / f"{key}.json"

    def get(self, key: str) -> EstimateOutcome | None:
        """The stored outcome, or None when absent, damaged or made by another estimator version."""
        try:
            payload = json.loads(self.path_for(key).read_text(encoding="utf-8"))
            outcome = outcome_from_json(payload)
        except (OSError, ValueError, KeyError, TypeError):
            return None
        return outcome if outcome.estimator == self.estimator_version else None

    def put(self, key: str, outcome: EstimateOutcome) -> None:
        atomic_write_bytes(self.path_for(key), json.dumps(outcome.to_json_dict()).encode("utf-8"))

    def __len__(self) -> int:
        return sum(1 for _ in self.directory.glob("*.json")) if self.directory.is_dir() else 0


def read_image_bytes(path: Path) -> bytes:
    """The bytes of an image file; DataError (naming the file) when it is missing or unreadable."""
    if not path.is_file():
        raise DataError("The image file does not exist.", path=path)
    try:
        return path.read_bytes()
    except OSError as error:
        raise DataError(f"The image file cannot be read ({error.strerror or error}).", path=path) from error


def estimate_cached(
    estimator: PoseEstimator, image: ImageInput, cache: EstimateCache | None
) -> tuple[EstimateOutcome, bool]:
    """``(outcome, came_from_cache)`` for one image; errors as :meth:`PoseEstimator.estimate`."""
    path = Path(image) if isinstance(image, str | Path) else None
    data = read_image_bytes(path) if path is not None else image
    assert not isinstance(data, str | Path)
    key = content_key(data) if cache is not None else ""
    if cache is not None:
        found = cache.get(key)
        if found is not None:
            return found, True
    try:
        outcome = estimator.estimate(data)
    except CorruptFileError as error:
        if path is None or error.path is not None:
            raise
        raise CorruptFileError(str(error), path=path) from error
    if cache is not None:
        cache.put(key, outcome)
    # what the cache stores (joints to 0.1 mm, …), so an image gets the same answer computed or read back:
    # a fused embedding or a fitted map then does not depend on which images were already cached
    return outcome_from_json(outcome.to_json_dict()), False


@dataclass(frozen=True)
class FileEstimate:
    """One file of a batch: its outcome, or the message saying why it could not be read."""

    path: Path
    outcome: EstimateOutcome | None
    error: str | None = None
    cached: bool = False


def estimate_files(
    paths: Sequence[Path] | Iterable[Path],
    estimator: PoseEstimator,
    cache: EstimateCache | None = None,
    progress: Callable[[int, int], None] | None = None,
    cancel: Callable[[], bool] | None = None,
) -> list[FileEstimate]:
    """Estimate every file (cached ones are read back); unreadable files become ``error`` entries.

    ``progress(done, total)`` after each file; ``cancel()`` returning True raises JobCancelledError
    (finished files stay cached for next time).
    """
    files = [Path(p) for p in paths]
    results: list[FileEstimate] = []
    for done, path in enumerate(files):
        if cancel is not None and cancel():
            raise JobCancelledError(
                f"Pose estimation was cancelled after {done} of {len(files)} images; "
                "finished ones are kept for next time.")
        try:
            outcome, cached = estimate_cached(estimator, path, cache)
            results.append(FileEstimate(path, outcome, cached=cached))
        except DataError as error:
            results.append(FileEstimate(path, None, error=str(error)))
        if progress is not None:
            progress(done + 1, len(files))
    return results
