"""Split leakage: how many held-out poses have a near-duplicate among the training poses.

A val or test image whose 3-D pose is (almost) the pose of a training image lets a net score by
memorising training poses instead of understanding pose. :func:`near_duplicate_share` counts, for every
query pose, the nearest reference pose under the Procrustes distance (translation, rotation and scale
removed; in units of the RMS pose size) and reports the share within ``threshold`` (default 0.05; for
scale, the median nearest-neighbour distance between unrelated poses of the built-in gallery is about 0.15).

``posebrowser leakage`` prints it for a gallery's held-out splits against its own train split and,
optionally, against the train split of another gallery (the training set).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from posebrowser.errors import DataError
from posebrowser.pose.similarity import distances_procrustes

NEAR_DUPLICATE_PROCRUSTES = 0.05
_CHUNK = 256


@dataclass(frozen=True)
class LeakageResult:
    """``nearest`` (Q,) float32: each query pose's Procrustes distance to its nearest reference pose
    (NaN when the query pose has a missing joint); ``threshold``: the near-duplicate radius."""

    nearest: NDArray[np.float32]
    threshold: float

    @property
    def queries(self) -> int:
        return int(np.isfinite(self.nearest).sum())

    @property
    def near_duplicates(self) -> int:
        return int((self.nearest[np.isfinite(self.nearest)] <= self.threshold).sum())

    @property
    def share(self) -> float:
        return self.near_duplicates / self.queries if self.queries else float("nan")

    def to_dict(self) -> dict[str, float | int]:
        finite = self.nearest[np.isfinite(self.nearest)]
        return {
            "queries": self.queries,
            "near_duplicates": self.near_duplicates,
            "share": round(self.share, 6),
            "threshold": self.threshold,
            "median_nearest": round(float(np.median(finite)), 6) if len(finite) else float("nan"),
        }


def nearest_reference_distance(
    queries: NDArray[np.floating], references: NDArray[np.floating]
) -> NDArray[np.float32]:
    """(Q,) Procrustes distance from each query pose (Q, J, 3) to its nearest reference pose (R, J, 3);
    reference poses with a missing joint are ignored."""
    queries = np.asarray(queries, dtype=np.float64)
    references = np.asarray(references, dtype=np.float64)
    references = references[np.isfinite(references).all(axis=(1, 2))]
    if len(references) == 0:
        raise DataError("There are no complete reference poses to compare with.")
    nearest = np.full(len(queries), np.inf, dtype=np.float64)
    for start in range(0, len(references), _CHUNK):
        block = distances_procrustes(queries, references[start : start + _CHUNK])
        nearest = np.fmin(nearest, np.nanmin(np.where(np.isnan(block), np.inf, block), axis=1))
    nearest[~np.isfinite(queries).all(axis=(1, 2))] = np.nan
    return nearest.astype(np.float32)


def near_duplicate_share(
    queries: NDArray[np.floating],
    references: NDArray[np.floating],
    threshold: float = NEAR_DUPLICATE_PROCRUSTES,
) -> LeakageResult:
    """The near-duplicate count of ``queries`` against ``references`` (both (N, J, 3) joints)."""
    if threshold < 0:
        raise DataError(f"The near-duplicate threshold must be ≥ 0, not {threshold}.")
    return LeakageResult(nearest_reference_distance(queries, references), float(threshold))
