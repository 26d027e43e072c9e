"""Annotate a folder of photos that has no annotations: estimated joints and posebits for every image.

:func:`annotate_gallery` runs the estimator over every image of an unannotated image-folder gallery
(through the per-image cache, so an interrupted run resumes where it stopped and a second opening is
instant) and returns a copy of the gallery with

* ``joints_2d`` (pixels) and ``joints_3d`` (metres, Z up, level camera assumed) — NaN where no person;
* ``visibility`` = joint confidence ≥ the estimator's threshold;
* ``posebits`` over the shipped vocabulary, −1 where unknown (no person, low confidence, hysteresis);
* ``source`` per row: :data:`ESTIMATED` for rows with an estimated pose, :data:`NOT_ESTIMATED` otherwise;
* ``manifest["posebits_from"] = "estimated"`` and ``manifest["estimated"]`` with the estimator version and
  counts (people found, no person, unreadable, low confidence),

so posebit filters, green/red marks and posebit evaluation read the estimates like annotations, and
every place that shows them can say they are estimated. Plain Python with ``progress`` and ``cancel``
callbacks: meant to run off any GUI thread.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Any

import numpy as np

from posebrowser.data.gallery import Gallery
from posebrowser.estimate.cache import EstimateCache, FileEstimate, estimate_files
from posebrowser.estimate.estimator import PoseEstimator
from posebrowser.estimate.result import PoseEstimate
from posebrowser.pose.skeleton import NUM_JOINTS

ESTIMATED = "estimated"
NOT_ESTIMATED = "not-estimated"


def needs_estimation(gallery: Gallery) -> bool:
    """True for an image folder with neither posebits nor joints (no metadata.csv bits, no COCO file)."""
    return gallery.kind == "folder" and gallery.posebits is None and gallery.joints_2d is None


def _summary(results: list[FileEstimate], version: str) -> dict[str, Any]:
    people = [r.outcome for r in results if isinstance(r.outcome, PoseEstimate)]
    unreadable = sum(1 for r in results if r.outcome is None)
    return {
        "estimator": version,
        "person": len(people),
        "no_person": len(results) - len(people) - unreadable,
        "unreadable": unreadable,
        "low_confidence": sum(1 for p in people if p.low_confidence),
        "several_people": sum(1 for p in people if p.several_people),
    }


def annotate_gallery(
    gallery: Gallery,
    estimator: PoseEstimator,
    cache: EstimateCache | None = None,
    progress: Callable[[int, int], None] | None = None,
    cancel: Callable[[], bool] | None = None,
) -> Gallery:
    """A copy of ``gallery`` with estimated annotations (see the module docstring); raises
    JobCancelledError when ``cancel()`` turns True (estimates made so far stay in ``cache``)."""
    count = len(gallery)
    paths = [gallery.image_path(i) for i in range(count)]
    results = estimate_files(paths, estimator, cache, progress, cancel)
    vocabulary = estimator.vocabulary
    joints_2d = np.full((count, NUM_JOINTS, 2), np.nan, dtype=np.float32)
    joints_3d = np.full((count, NUM_JOINTS, 3), np.nan, dtype=np.float32)
    visibility = np.zeros((count, NUM_JOINTS), dtype=bool)
    posebits = np.full((count, len(vocabulary)), -1, dtype=np.int8)
    source = [NOT_ESTIMATED] * count
    for row, item in enumerate(results):
        if not isinstance(item.outcome, PoseEstimate):
            continue
        estimate = item.outcome
        joints_2d[row], joints_3d[row] = estimate.joints_2d, estimate.joints_3d
        visibility[row] = estimate.confidence >= estimator.min_joint_confidence
        posebits[row] = estimate.posebits
        source[row] = ESTIMATED
    manifest = {**gallery.manifest, "posebits_from": ESTIMATED,
                ESTIMATED: _summary(results, estimator.version)}
    return replace(gallery, joints_2d=joints_2d, joints_3d=joints_3d, visibility=visibility,
                   posebits=posebits, posebit_names=vocabulary.names, source=tuple(source), manifest=manifest)
