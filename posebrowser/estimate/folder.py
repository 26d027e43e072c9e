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

Each image's outcome is typed: ``manifest["estimated"]["not_estimated"]`` lists every image without an
estimated pose with its ``status`` (``no-person``, ``image-too-small`` or ``unreadable``) and a
message, ``manifest["estimated"]["several_people"]`` the images where the largest of several people
was described. :func:`annotate_if_needed` is the step a retrieval engine runs while it opens a gallery
(an estimator that cannot run leaves the folder unannotated with one message); :func:`estimation_notes`
words the outcome once for the status bar / stderr.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

from posebrowser.data.gallery import Gallery
from posebrowser.data.image_folder import ESTIMATED, annotations_estimated
from posebrowser.errors import EstimatorError
from posebrowser.estimate.cache import EstimateCache, FileEstimate, default_estimate_cache_dir, estimate_files
from posebrowser.estimate.estimator import PoseEstimator
from posebrowser.estimate.result import NoPersonFound, PoseEstimate
from posebrowser.pose.skeleton import NUM_JOINTS

__all__ = [
    "ESTIMATED",
    "NOT_ESTIMATED",
    "annotate_gallery",
    "annotate_if_needed",
    "annotations_estimated",
    "estimate_cache_root",
    "estimation_notes",
    "needs_estimation",
]

NOT_ESTIMATED = "not-estimated"
#: Names listed in one note before "and N more" (``posebrowser estimate DIR`` lists every image).
LISTED_NAMES = 10


def needs_estimation(gallery: Gallery) -> bool:
    """True for an image folder with neither posebits nor joints (no metadata.csv bits, no COCO file)."""
    return gallery.kind == "folder" and gallery.posebits is None and gallery.joints_2d is None


def _without_pose(file: str, item: FileEstimate) -> dict[str, str]:
    """The typed record of an image without an estimated pose: file, status and message."""
    if isinstance(item.outcome, NoPersonFound):
        return {"file": file, "status": item.outcome.reason, "message": item.outcome.message}
    return {"file": file, "status": "unreadable", "message": str(item.error or "the image cannot be read")}


def _summary(files: tuple[str, ...], results: list[FileEstimate], version: str) -> dict[str, Any]:
    people = [r.outcome for r in results if isinstance(r.outcome, PoseEstimate)]
    unreadable = sum(1 for r in results if r.outcome is None)
    return {
        "estimator": version,
        "person": len(people),
        "no_person": len(results) - len(people) - unreadable,
        "unreadable": unreadable,
        "low_confidence": sum(1 for p in people if p.low_confidence),
        "several_people": [
            f
            for f, r in zip(files, results, strict=True)
            if isinstance(r.outcome, PoseEstimate) and r.outcome.several_people
        ],
        "not_estimated": [
            _without_pose(f, r)
            for f, r in zip(files, results, strict=True)
            if not isinstance(r.outcome, PoseEstimate)
        ],
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
    manifest = {
        **gallery.manifest,
        "posebits_from": ESTIMATED,
        ESTIMATED: _summary(gallery.files, results, estimator.version),
    }
    return replace(
        gallery,
        joints_2d=joints_2d,
        joints_3d=joints_3d,
        visibility=visibility,
        posebits=posebits,
        posebit_names=vocabulary.names,
        source=tuple(source),
        manifest=manifest,
    )


def estimate_cache_root(cache_dir: str | Path | None) -> Path:
    """Where an engine keeps pose estimates: ``<cache_dir>/estimates`` beside the embeddings when a cache
    folder is given, else the user's estimate cache (``~/.cache/posebrowser/estimates``)."""
    return Path(cache_dir) / "estimates" if cache_dir is not None else default_estimate_cache_dir()


def annotate_if_needed(
    gallery: Gallery,
    cache_root: Path | None,
    progress: Callable[[int, int], None] | None = None,
    cancel: Callable[[], bool] | None = None,
    estimator: PoseEstimator | None = None,
) -> tuple[Gallery, list[str]]:
    """``(gallery, problems)``: an image folder without annotations comes back annotated by
    :func:`annotate_gallery` (estimates cached under ``cache_root``, None = not cached); any other
    gallery comes back unchanged. When the estimator cannot run (mediapipe missing, model bundle
    damaged) the folder stays unannotated and ``problems`` says why; JobCancelledError passes through."""
    if not needs_estimation(gallery):
        return gallery, []
    owned = estimator is None
    active = PoseEstimator() if estimator is None else estimator
    try:
        cache = _open_cache(cache_root, active)
        return annotate_gallery(gallery, active, cache, progress, cancel), []
    except EstimatorError as error:
        return gallery, [
            f"Poses of this folder's images were not estimated, so posebit filters, marks "
            f"and evaluation have nothing to read: {error}"
        ]
    finally:
        if owned:
            active.close()


def _open_cache(root: Path | None, estimator: PoseEstimator) -> EstimateCache | None:
    if root is None:
        return None
    try:
        return EstimateCache(root, estimator.version)
    except OSError:  # an unwritable cache folder: estimate anyway, just not cached
        return None


def _listed(names: list[str]) -> str:
    more = (
        f" and {len(names) - LISTED_NAMES} more (`posebrowser estimate FOLDER` lists every image)"
        if len(names) > LISTED_NAMES
        else ""
    )
    return ", ".join(names[:LISTED_NAMES]) + more


def estimation_notes(gallery: Any) -> list[str]:
    """What an estimated gallery should tell once (status bar messages, stderr): that its annotations are
    estimated, which images have no pose (status and reason) and which show several people. Only images
    still in ``gallery`` are named (unreadable ones an engine already left out are not named twice)."""
    if not annotations_estimated(gallery):
        return []
    summary = gallery.manifest.get(ESTIMATED, {})
    present = set(gallery.files)
    with_pose = sum(1 for s in (gallery.source or ()) if s == ESTIMATED)
    notes = [
        f"Joints and posebits of this folder are estimated from the photos by the pose estimator "
        f"(BlazePose), not annotated: {with_pose} of {len(gallery)} images have an estimated pose; "
        "posebit counts, filters, green/red marks and evaluation use these estimates."
    ]
    missing = [r for r in summary.get("not_estimated", []) if r["file"] in present]
    if missing:
        named = [f"{r['file']} ({r['status'].replace('-', ' ')})" for r in missing]
        notes.append(
            f"{len(missing)} image(s) have no estimated pose, so their posebits are unknown and "
            f"they have no joints: {_listed(named)}."
        )
    several = [f for f in summary.get("several_people", []) if f in present]
    if several:
        notes.append(
            f"{len(several)} image(s) show several people; the largest person was described: "
            f"{_listed(several)}."
        )
    return notes
