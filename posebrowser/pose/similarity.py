"""Ground-truth pose distances between two sets of poses (the thesis' Hamming and spatial metrics).

Every function takes two batches ``a`` (N poses) and ``b`` (M poses) and returns an ``(N, M)`` float32
matrix. Work is split into blocks of pose pairs so that the temporary arrays stay around
``_PAIR_BUDGET`` elements whatever N and M are.

* :func:`distances_2d` — both poses centred on their centroid, then the mean per-joint Euclidean
  distance in pixels. Joints that are NaN in either pose are left out (of the centroid and the mean).
* :func:`distances_3d` — the same in 3D, in the unit of the joints (metres for posebrowser galleries), after
  turning each pose about the vertical (Z) axis so its hips face the same way (:func:`facing_aligned`):
  the world direction a person faces is arbitrary in a gallery whose cameras orbit the person, so it is
  not part of the pose (lean, tilt and lying orientation are kept).
* :func:`distances_procrustes` — both poses centred and scaled to unit RMS size
  (``sqrt(mean_j |x_j|²) = 1``), the second rotated onto the first by the optimal proper rotation
  (Kabsch: SVD of the 3×3 cross-covariance with the det = +1 correction), then the mean per-joint
  distance. The result is in units of the RMS pose size: it is dimensionless, symmetric, and invariant to
  translation, rotation and uniform scale of either pose. Poses with a NaN joint give NaN.
* :func:`distances_hamming` — fraction of differing bits among the bits known (0 or 1) on both sides;
  any other value (−1 by convention) is unknown. NaN when no bit is known on both sides.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from posebrowser.errors import DataError, QueryError

FloatArray = NDArray[np.float64]
_PAIR_BUDGET = 4_000_000  # elements of the largest temporary array per block

__all__ = [
    "METRICS", "GroundTruthMetric", "distances_2d", "distances_3d", "distances_hamming",
    "distances_procrustes", "facing_aligned", "metric_by_name", "pairwise_distances",
]


def _blocks(n: int, m: int, per_pair: int) -> Iterator[tuple[slice, slice]]:
    """Row/column blocks covering an ``(n, m)`` matrix with at most ``_PAIR_BUDGET / per_pair`` pairs each."""
    pairs = max(1, _PAIR_BUDGET // max(1, per_pair))
    cols = max(1, min(m, pairs))
    rows = max(1, pairs // cols)
    for row in range(0, n, rows):
        for col in range(0, m, cols):
            yield slice(row, min(n, row + rows)), slice(col, min(m, col + cols))


def _as_poses(poses: ArrayLike, dims: int, what: str) -> FloatArray:
    array = np.asarray(poses, dtype=np.float64)
    if array.ndim != 3 or array.shape[2] != dims:
        raise ValueError(f"Expected {what} of shape (N, J, {dims}), got {array.shape}.")
    return array


def _centred(poses: FloatArray) -> FloatArray:
    """Subtract each pose's centroid over its finite joints (``(N, J, D)`` → same shape)."""
    finite = np.all(np.isfinite(poses), axis=-1, keepdims=True)
    count = np.maximum(finite.sum(axis=1, keepdims=True), 1)
    centroid = np.where(finite, poses, 0.0).sum(axis=1, keepdims=True) / count
    centred: FloatArray = poses - centroid
    return centred


def _aligned_mean_distance(a: FloatArray, b: FloatArray, dims: int, what: str) -> NDArray[np.float32]:
    first, second = _centred(_as_poses(a, dims, what)), _centred(_as_poses(b, dims, what))
    if first.shape[1] != second.shape[1]:
        raise ValueError(f"Both pose sets need the same joints, got {first.shape[1]} and {second.shape[1]}.")
    joints = first.shape[1]
    out = np.empty((first.shape[0], second.shape[0]), dtype=np.float32)
    for rows, cols in _blocks(first.shape[0], second.shape[0], joints * dims):
        per_joint = np.linalg.norm(first[rows, None] - second[None, cols], axis=-1)  # (n, m, J)
        valid = np.isfinite(per_joint)
        count = valid.sum(axis=-1)
        total = np.where(valid, per_joint, 0.0).sum(axis=-1)
        with np.errstate(invalid="ignore", divide="ignore"):
            out[rows, cols] = np.where(count > 0, total / np.maximum(count, 1), np.nan)
    return out


def distances_2d(a: ArrayLike, b: ArrayLike) -> NDArray[np.float32]:
    """Centroid-aligned mean per-joint distance ``(N, M)`` float32 in pixels between ``(N, J, 2)`` and
    ``(M, J, 2)`` image joints."""
    return _aligned_mean_distance(np.asarray(a), np.asarray(b), 2, "2D joints")


def facing_aligned(poses: ArrayLike) -> FloatArray:
    """Z-up 3D poses ``(N, 16, 3)`` turned about the vertical axis so that each one's hip line (right →
    left hip, else the shoulder line) points along +x: the direction a person faces in the world is not
    part of their pose. Poses with another joint count, or whose hip and shoulder lines are both vertical,
    are returned unturned."""
    array = np.array(poses, dtype=np.float64)
    if array.ndim != 3 or array.shape[1:] != (16, 3):
        return array
    across = array[:, 3] - array[:, 2]  # left hip − right hip (skeleton order)
    shoulders = array[:, 13] - array[:, 12]
    flat = np.hypot(across[:, 0], across[:, 1])
    use_shoulders = ~(flat > 1e-6)
    across[use_shoulders] = shoulders[use_shoulders]
    flat = np.hypot(across[:, 0], across[:, 1])
    angle = np.where(flat > 1e-6, -np.arctan2(across[:, 1], across[:, 0]), 0.0)
    angle = np.where(np.isfinite(angle), angle, 0.0)
    c, s = np.cos(angle)[:, None], np.sin(angle)[:, None]
    x, y = array[..., 0].copy(), array[..., 1].copy()
    array[..., 0] = c * x - s * y
    array[..., 1] = s * x + c * y
    return array


def distances_3d(a: ArrayLike, b: ArrayLike) -> NDArray[np.float32]:
    """Centroid- and facing-aligned mean per-joint distance ``(N, M)`` float32, in the joints' unit,
    between ``(N, J, 3)`` and ``(M, J, 3)`` Z-up 3D joints (see :func:`facing_aligned`)."""
    return _aligned_mean_distance(facing_aligned(a), facing_aligned(b), 3, "3D joints")


def _unit_rms(poses: FloatArray) -> FloatArray:
    """Centre each pose on its centroid and scale it to unit RMS joint distance from the centroid."""
    centred = poses - poses.mean(axis=1, keepdims=True)
    size = np.sqrt(np.mean(np.sum(centred**2, axis=-1), axis=1))
    with np.errstate(invalid="ignore", divide="ignore"):
        scaled: FloatArray = centred / np.where(size > 1e-12, size, np.nan)[:, None, None]
    return scaled


def distances_procrustes(a: ArrayLike, b: ArrayLike) -> NDArray[np.float32]:
    """Mean per-joint distance ``(N, M)`` float32 after similarity alignment (see module docstring).

    ``a`` is ``(N, J, 3)``, ``b`` is ``(M, J, 3)``; the unit is the RMS pose size (dimensionless).
    """
    first = _unit_rms(_as_poses(a, 3, "3D joints"))
    second = _unit_rms(_as_poses(b, 3, "3D joints"))
    if first.shape[1] != second.shape[1]:
        raise ValueError(f"Both pose sets need the same joints, got {first.shape[1]} and {second.shape[1]}.")
    out = np.empty((first.shape[0], second.shape[0]), dtype=np.float32)
    usable_first = np.all(np.isfinite(first), axis=(1, 2))
    usable_second = np.all(np.isfinite(second), axis=(1, 2))
    first = np.where(usable_first[:, None, None], first, 0.0)
    second = np.where(usable_second[:, None, None], second, 0.0)
    for rows, cols in _blocks(first.shape[0], second.shape[0], first.shape[1] * 3):
        target, source = first[rows], second[cols]
        # Cross-covariance H = Σ_j b_j a_jᵀ for every pair; optimal R = V diag(1, 1, d) Uᵀ with H = U S Vᵀ.
        cross = np.einsum("mjd,nje->nmde", source, target)
        u, _, vt = np.linalg.svd(cross)
        det = np.linalg.det(np.einsum("nmji,nmkj->nmik", vt, u))
        vt[..., 2, :] *= np.sign(np.where(det == 0, 1.0, det))[..., None]
        rotation = np.einsum("nmji,nmkj->nmik", vt, u)
        rotated = np.einsum("nmde,mje->nmjd", rotation, source)
        out[rows, cols] = np.linalg.norm(target[:, None] - rotated, axis=-1).mean(axis=-1)
    out[~usable_first, :] = np.nan
    out[:, ~usable_second] = np.nan
    return out


def distances_hamming(a: ArrayLike, b: ArrayLike) -> NDArray[np.float32]:
    """Fraction of differing bits ``(N, M)`` float32 between posebits ``(N, B)`` and ``(M, B)``.

    Only bits that are 0 or 1 on both sides count (other values, −1 by convention, are unknown);
    NaN where no bit is known on both sides.
    """
    first, second = np.asarray(a), np.asarray(b)
    if first.ndim != 2 or second.ndim != 2 or first.shape[1] != second.shape[1]:
        raise ValueError(
            f"Expected posebits of shapes (N, B) and (M, B), got {first.shape} and {second.shape}.")
    ones_a, zeros_a = (first == 1).astype(np.float32), (first == 0).astype(np.float32)
    ones_b, zeros_b = (second == 1).astype(np.float32), (second == 0).astype(np.float32)
    known_a, known_b = ones_a + zeros_a, ones_b + zeros_b
    out = np.empty((first.shape[0], second.shape[0]), dtype=np.float32)
    for rows, cols in _blocks(first.shape[0], second.shape[0], 1):
        differ = ones_a[rows] @ zeros_b[cols].T + zeros_a[rows] @ ones_b[cols].T
        known = known_a[rows] @ known_b[cols].T
        with np.errstate(invalid="ignore", divide="ignore"):
            out[rows, cols] = np.where(known > 0, differ / np.maximum(known, 1), np.nan)
    return out


@dataclass(frozen=True)
class GroundTruthMetric:
    """A ground-truth pose distance: ``name`` (id), ``label`` (for people), ``unit`` and the gallery
    annotation it ``needs`` ("joints_2d", "joints_3d" or "posebits")."""

    name: str
    label: str
    unit: str
    needs: str


METRICS: tuple[GroundTruthMetric, ...] = (
    GroundTruthMetric("2d", "2D joint distance", "px", "joints_2d"),
    GroundTruthMetric("3d", "3D joint distance (facing aligned)", "m", "joints_3d"),
    GroundTruthMetric(
        "procrustes", "Procrustes distance (rotation and scale removed)", "× pose size", "joints_3d"),
    GroundTruthMetric("hamming", "Posebit Hamming distance", "fraction of bits", "posebits"),
)

_FUNCTIONS: dict[str, Callable[[Any, Any], NDArray[np.float32]]] = {
    "2d": distances_2d, "3d": distances_3d, "procrustes": distances_procrustes, "hamming": distances_hamming,
}
_ANNOTATION_WORDS = {"joints_2d": "2D joints", "joints_3d": "3D joints", "posebits": "posebits"}


def metric_by_name(name: str) -> GroundTruthMetric:
    """The metric called ``name`` (case-insensitive); raises :class:`QueryError` listing the known ones."""
    for metric in METRICS:
        if metric.name == name.strip().lower():
            return metric
    known = ", ".join(metric.name for metric in METRICS)
    raise QueryError(f'"{name}" is not a ground-truth distance; choose one of {known}.')


def pairwise_distances(
    metric_name: str, gallery: Any, rows: ArrayLike, cols: ArrayLike
) -> NDArray[np.float32]:
    """Distances ``(len(rows), len(cols))`` float32 between gallery items ``rows`` and ``cols``.

    ``gallery`` is any object with attributes ``joints_2d``, ``joints_3d`` and ``posebits`` (arrays or
    None). Raises :class:`DataError` when the annotation the metric needs is missing.
    """
    metric = metric_by_name(metric_name)
    annotation = getattr(gallery, metric.needs, None)
    if annotation is None:
        root = getattr(gallery, "root", None)
        raise DataError(
            f"This gallery has no {_ANNOTATION_WORDS[metric.needs]}, "
            f"so the {metric.label} cannot be computed.",
            path=root)
    values = np.asarray(annotation)
    row_index = np.asarray(rows, dtype=np.intp).reshape(-1)
    col_index = np.asarray(cols, dtype=np.intp).reshape(-1)
    return _FUNCTIONS[metric.name](values[row_index], values[col_index])
