"""The frame criterion: what makes a result's frame green or red, chosen by the user (no Qt here).

* ``nearest`` — among the query image's true k nearest poses (k = number of results) under the first
  ground-truth metric the gallery has; for a posebit query, every asked posebit satisfied (the default).
* ``threshold`` — the ground-truth distance to the query image is at most a threshold (for a posebit
  query under Hamming: the share of asked posebits the result does not hold).
* ``posebits`` — the result holds every asked posebit.

On a photo folder whose poses were estimated from the photos, the meaning ends with "(by the estimated
poses)".
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from posebrowser.core.query import ImageTerm
from posebrowser.data.image_folder import annotations_estimated
from posebrowser.gui.state import ResultsState

CRITERIA = (
    ("nearest", "true k nearest"),
    ("threshold", "distance ≤ threshold"),
    ("posebits", "asked posebits hold"),
)
#: Thresholds near each metric's 50th-nearest distance on the built-in gallery.
DEFAULT_THRESHOLDS = {"2d": 10.0, "3d": 0.2, "procrustes": 0.25, "hamming": 0.2}
UNITS = {"2d": "px", "3d": "m", "procrustes": "× pose size", "hamming": "of the bits"}
LABELS = {"2d": "2D distance", "3d": "3D distance", "procrustes": "Procrustes distance", "hamming": "Hamming"}
#: Said wherever a verdict or an annotation of a photo folder comes from the pose estimator.
ESTIMATED_WORDS = "by the estimated poses"


@dataclass(frozen=True)
class FrameCriterion:
    """``kind`` one of :data:`CRITERIA`; ``metric`` and ``threshold`` are used by ``threshold``."""

    kind: str = "nearest"
    metric: str = "3d"
    threshold: float = DEFAULT_THRESHOLDS["3d"]

    def describe_threshold(self) -> str:
        return f"{LABELS[self.metric]} to the query ≤ {self.threshold:g} {UNITS[self.metric]}"


@dataclass(frozen=True)
class Frames:
    """``correct`` (k,) bool or None (no frames); ``meaning`` what green means, or why there are none."""

    correct: np.ndarray | None
    meaning: str

    def legend(self) -> str:
        if self.correct is None:
            return f"no frames: {self.meaning}"
        return f"green frame: {self.meaning}; red: not"


def anchor_index(query: Any) -> int | None:
    """The gallery item of the query's first image term (the one ground-truth distances are taken to)."""
    for term in getattr(query, "terms", ()):
        if isinstance(term, ImageTerm) and term.gallery_index is not None:
            return int(term.gallery_index)
    return None


def asked_shortfall(state: ResultsState) -> np.ndarray:
    """(k,) float32 share of the asked posebits each result does not hold (unknown counts as not)."""
    return np.asarray((state.chip_agree != 1).mean(axis=1), dtype=np.float32)


def ground_truth_to_query(gallery: Any, state: ResultsState, metric: str) -> np.ndarray | None:
    """(k,) float32 ground-truth ``metric`` distances of the results to the query image, or None when
    the query has no gallery image or the gallery lacks the annotation."""
    stored = getattr(state.result, "gt_distances", None) or {}
    if metric in stored:
        return np.asarray(stored[metric], dtype=np.float32)
    anchor = anchor_index(state.query)
    if anchor is None or gallery is None or len(state.indices) == 0:
        return None
    from posebrowser.pose.similarity import metric_by_name, pairwise_distances

    if getattr(gallery, metric_by_name(metric).needs, None) is None:
        return None
    return np.asarray(pairwise_distances(metric, gallery, [anchor], state.indices)[0], dtype=np.float32)


def frames_for(gallery: Any, state: ResultsState, criterion: FrameCriterion) -> Frames:
    """Green/red verdicts of every result of ``state`` under ``criterion``; on a gallery whose poses were
    estimated from the photos the meaning says so (the verdicts read estimates, not annotations)."""
    frames = _plain_frames(gallery, state, criterion)
    if frames.correct is not None and annotations_estimated(gallery):
        return Frames(frames.correct, f"{frames.meaning} ({ESTIMATED_WORDS})")
    return frames


def _plain_frames(gallery: Any, state: ResultsState, criterion: FrameCriterion) -> Frames:
    if criterion.kind == "posebits":
        if not state.chip_names:
            return Frames(None, "the query asks no posebits")
        return Frames(np.all(state.chip_agree == 1, axis=1), "holds every asked posebit")
    if criterion.kind == "threshold":
        distances = ground_truth_to_query(gallery, state, criterion.metric)
        if distances is None and criterion.metric == "hamming" and state.chip_names:
            return Frames(
                asked_shortfall(state) <= criterion.threshold,
                f"misses at most {criterion.threshold:g} of the asked posebits",
            )
        if distances is None:
            return Frames(
                None, f"the {LABELS[criterion.metric]} needs a query with an annotated gallery image"
            )
        return Frames(
            np.nan_to_num(distances, nan=np.inf) <= criterion.threshold, criterion.describe_threshold()
        )
    if state.correct is None:
        return Frames(None, "the query has no ground truth to compare with")
    return Frames(np.asarray(state.correct, dtype=bool), state.correct_meaning)
