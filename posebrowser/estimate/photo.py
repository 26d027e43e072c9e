"""A photo made ready for querying: its pose estimate, the gallery-framed crop and the confident posebits.

:func:`analyse_photo` is what the app runs (off the GUI thread) when a photo is opened, dropped or
pasted: the estimate (through the per-image cache), the crop around the person written next to the
cached estimate (:mod:`posebrowser.estimate.crop`), a shrunk upright copy of the photo to show, and the
posebits the estimator is confident about as ``(name, value)`` conditions — the unknown ones (−1) are
left out, i.e. don't care.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
from numpy.typing import NDArray
from PIL import Image

from posebrowser.errors import CorruptFileError
from posebrowser.estimate.cache import EstimateCache, content_key, read_image_bytes
from posebrowser.estimate.crop import GALLERY_FILL, CropBox, write_person_crop
from posebrowser.estimate.estimator import PoseEstimator, rgb_array
from posebrowser.estimate.result import EstimateOutcome, PoseEstimate, outcome_from_json

#: Longest side (pixels) of the copy of the photo kept for display.
PREVIEW_SIDE = 1024

Conditions = tuple[tuple[str, int], ...]


@dataclass(frozen=True, eq=False)
class PhotoAnalysis:
    """One analysed photo.

    Attributes:
        path: the photo file.
        outcome: the estimate, or the typed "no person found".
        preview: ``(h, w, 3)`` uint8, the upright photo shrunk to at most :data:`PREVIEW_SIDE` pixels
            (the estimate's pixel coordinates refer to ``outcome.image_size``, not to this copy).
        crop_path: the stored crop around the person (None without a person).
        crop: the crop's square in the photo's pixels (None without a person).
        conditions: the confident posebits, ``(name, 0 | 1)`` in vocabulary order.
    """

    path: Path
    outcome: EstimateOutcome
    preview: NDArray[np.uint8]
    crop_path: Path | None = None
    crop: CropBox | None = None
    conditions: Conditions = ()

    @property
    def estimate(self) -> PoseEstimate | None:
        return self.outcome if isinstance(self.outcome, PoseEstimate) else None


def estimated_conditions(posebits: NDArray[np.int8], names: tuple[str, ...] | list[str]) -> Conditions:
    """``(name, value)`` for every known bit (0 or 1) of ``posebits`` over the vocabulary ``names``."""
    if len(posebits) != len(names):
        raise ValueError(f"{len(posebits)} posebits for a vocabulary of {len(names)}.")
    return tuple((str(name), int(value)) for name, value in zip(names, posebits, strict=True) if value >= 0)


def _preview(rgb: NDArray[np.uint8]) -> NDArray[np.uint8]:
    height, width = rgb.shape[:2]
    if max(height, width) <= PREVIEW_SIDE:
        return rgb
    picture = Image.fromarray(rgb)
    picture.thumbnail((PREVIEW_SIDE, PREVIEW_SIDE), Image.Resampling.BILINEAR)
    return np.ascontiguousarray(np.asarray(picture, dtype=np.uint8))


def analyse_photo(
    path: str | Path,
    estimator: PoseEstimator,
    cache: EstimateCache | None,
    crop_dir: Path | None = None,
    fill: float = GALLERY_FILL,
) -> PhotoAnalysis:
    """Estimate, crop and read the confident posebits of the photo at ``path``.

    The crop goes to ``crop_dir`` (default: the cache's folder, next to the estimate). A missing file
    raises DataError, an unreadable one CorruptFileError (both naming ``path``); the estimator's own
    errors (EstimatorError) pass through.
    """
    path = Path(path)
    folder = crop_dir if crop_dir is not None else (cache.directory if cache is not None else None)
    if folder is None:
        raise ValueError("analyse_photo needs a cache or a crop folder to store the crop in.")
    data = read_image_bytes(path)
    key = content_key(data)
    try:
        rgb = rgb_array(data)  # decoded once, for the estimator, the crop and the preview
    except CorruptFileError as error:
        raise CorruptFileError(str(error), path=path) from error
    outcome = cache.get(key) if cache is not None else None
    if outcome is None:
        # as stored (coordinates rounded): a photo seen again gets exactly the same box, hence crop
        outcome = outcome_from_json(estimator.estimate(rgb).to_json_dict())
        if cache is not None:
            cache.put(key, outcome)  # under the file's content key, as ``posebrowser estimate`` stores it
    if not isinstance(outcome, PoseEstimate):
        return PhotoAnalysis(path, outcome, _preview(rgb))
    crop_path, square = write_person_crop(rgb, outcome.box, folder, key, fill)
    conditions = estimated_conditions(outcome.posebits, estimator.vocabulary.names)
    return PhotoAnalysis(path, outcome, _preview(rgb), crop_path, square, conditions)
