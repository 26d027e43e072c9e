"""The query image's true nearest poses in the whole gallery, fast enough for every click (no Qt here).

The green/red frames ("among the true k nearest poses") and the inspector ("the 7th nearest pose") need the
ground-truth distance from the query's gallery image (the *anchor*) to every gallery item. Computed as
:func:`posebrowser.pose.similarity.pairwise_distances` does it — realign every pose in float64, then
compare — that costs about a quarter of a second per click at 100k items. Here, for the joint metrics
(``2d`` and ``3d``):

* every gallery pose is aligned once (centroid, and facing for 3-D) and kept as float32 coordinate planes
  ``(D, N, J)``, per annotation array (prepared on the first use, or ahead by :func:`prepare`);
* one anchor then costs a float32 pass over the planes (a few ms at 100k), kept for the last few anchors
  (the search's frames, the inspector and a changed criterion reuse it);
* float32 differs from the float64 reference by at most a tolerance ``tol``; only the items whose float32
  distance is within ``2·tol`` of the deciding value are recomputed with ``pairwise_distances``, so the
  answers are exactly those of the float64 reference with its stable ordering (ties by gallery index,
  NaN last).

Other metrics (``procrustes``, ``hamming``) are computed with ``pairwise_distances`` and kept the same way.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

import numpy as np

#: Ground-truth metrics in order of preference for the "true k nearest" rule.
NEAREST_METRICS = ("3d", "procrustes", "2d", "hamming")
#: Anchors whose distance vectors are kept (per metric and annotation array).
KEPT_ANCHORS = 4
_FAST_DIMS = {"2d": 2, "3d": 3}


@dataclass(frozen=True)
class _Planes:
    """Aligned poses of one annotation array: ``planes`` (D, N, J) float32, ``valid`` (N, J) finite
    joints (None when all are), ``tol`` the largest float32 error of a distance."""

    annotation: Any  # the gallery's array (kept: its identity is the cache key)
    planes: np.ndarray
    valid: np.ndarray | None
    tol: float


@dataclass(frozen=True)
class _Vector:
    """Distances from one anchor to every item: exact (float64 reference) or float32 within ``tol``."""

    annotation: Any
    values: np.ndarray
    tol: float


_lock = threading.Lock()
_planes: dict[str, _Planes] = {}
_vectors: OrderedDict[tuple[str, int], _Vector] = OrderedDict()


def clear() -> None:
    """Forget every prepared gallery and kept anchor."""
    with _lock:
        _planes.clear()
        _vectors.clear()


def nearest_metric(gallery: Any) -> str | None:
    """The first metric of :data:`NEAREST_METRICS` the gallery has the annotation for."""
    from posebrowser.pose.similarity import metric_by_name

    for name in NEAREST_METRICS:
        if getattr(gallery, metric_by_name(name).needs, None) is not None:
            return name
    return None


def _annotation(gallery: Any, metric: str) -> Any:
    from posebrowser.pose.similarity import metric_by_name

    return getattr(gallery, metric_by_name(metric).needs, None)


def _aligned(poses: np.ndarray, metric: str) -> np.ndarray:
    """Each pose centred on its finite joints' centroid (after facing alignment for 3-D), float64."""
    from posebrowser.pose.similarity import facing_aligned

    array = np.asarray(poses, dtype=np.float64)
    if metric == "3d":
        array = facing_aligned(array)
    finite = np.all(np.isfinite(array), axis=-1, keepdims=True)
    count = np.maximum(finite.sum(axis=1, keepdims=True), 1)
    centred: np.ndarray = array - np.where(finite, array, 0.0).sum(axis=1, keepdims=True) / count
    return centred


def _prepared(gallery: Any, metric: str) -> _Planes:
    annotation = _annotation(gallery, metric)
    with _lock:
        found = _planes.get(metric)
        if found is not None and found.annotation is annotation:
            return found
        aligned = _aligned(np.asarray(annotation), metric)
        finite = np.isfinite(aligned).all(axis=-1)
        scale = float(np.abs(np.where(np.isfinite(aligned), aligned, 0.0)).max(initial=0.0))
        prepared = _Planes(
            annotation=annotation,
            planes=np.ascontiguousarray(np.moveaxis(aligned, -1, 0), dtype=np.float32),
            valid=None if finite.all() else finite,
            # float32 rounding of the coordinates and of each step, with a wide margin
            tol=256.0 * float(np.finfo(np.float32).eps) * max(scale, 1e-30),
        )
        _planes[metric] = prepared
        return prepared


def is_prepared(gallery: Any, metric: str) -> bool:
    """Whether the gallery's current ``metric`` annotation is aligned and kept."""
    found = _planes.get(metric)
    return found is not None and found.annotation is _annotation(gallery, metric)


def prepare(gallery: Any) -> str | None:
    """Align the gallery's poses for its nearest metric now (on a worker, before the first click)."""
    metric = nearest_metric(gallery)
    if metric in _FAST_DIMS:
        _prepared(gallery, metric)
    return metric


def _float32_pass(prepared: _Planes, anchor: int) -> np.ndarray:
    """Mean per-joint distance from ``anchor`` to every item over the joints finite in both, float32."""
    planes = prepared.planes
    total: np.ndarray | None = None
    for plane in planes:
        difference = plane - plane[anchor]
        difference *= difference
        total = difference if total is None else np.add(total, difference, out=total)
    assert total is not None
    np.sqrt(total, out=total)
    if prepared.valid is None:
        return np.asarray(total.sum(axis=1) / np.float32(total.shape[1]), dtype=np.float32)
    valid = prepared.valid & prepared.valid[anchor]
    count = valid.sum(axis=1)
    summed = np.where(valid, total, np.float32(0.0)).sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(count > 0, summed / np.maximum(count, 1), np.nan).astype(np.float32)


def _vector(gallery: Any, anchor: int, metric: str) -> _Vector:
    from posebrowser.pose.similarity import pairwise_distances

    annotation = _annotation(gallery, metric)
    key = (metric, int(anchor))
    with _lock:
        found = _vectors.get(key)
        if found is not None and found.annotation is annotation:
            _vectors.move_to_end(key)
            return found
    if metric in _FAST_DIMS:
        prepared = _prepared(gallery, metric)
        vector = _Vector(annotation, _float32_pass(prepared, int(anchor)), prepared.tol)
    else:
        exact = pairwise_distances(metric, gallery, [int(anchor)], np.arange(len(gallery)))[0]
        vector = _Vector(annotation, np.asarray(exact, dtype=np.float32), 0.0)
    with _lock:
        _vectors[key] = vector
        _vectors.move_to_end(key)
        while len(_vectors) > KEPT_ANCHORS:
            _vectors.popitem(last=False)
    return vector


def _exact(gallery: Any, metric: str, anchor: int, items: np.ndarray) -> np.ndarray:
    from posebrowser.pose.similarity import pairwise_distances

    if len(items) == 0:
        return np.zeros(0, dtype=np.float32)
    return np.asarray(pairwise_distances(metric, gallery, [int(anchor)], items)[0], dtype=np.float32)


def true_nearest(
    gallery: Any, anchor: int, k: int, metric: str, among: np.ndarray | None = None
) -> np.ndarray:
    """Gallery indices (ascending) of the ``k`` items nearest to ``anchor`` under ``metric``: the first
    ``k`` of the float64 reference's stable ascending order (ties by index, NaN last). ``among`` (a (N,)
    bool mask, e.g. the searched split) limits the candidates: the truth a search of those items can reach."""
    vector = _vector(gallery, anchor, metric)
    items = np.arange(len(vector.values)) if among is None else np.flatnonzero(among)
    values = vector.values if among is None else vector.values[items]
    k = max(0, min(int(k), len(values)))
    if k == 0:
        return np.zeros(0, dtype=np.int64)
    deciding = np.partition(values, k - 1)[k - 1]  # NaN sorts last
    if np.isnan(deciding):  # fewer than k comparable items: all of them, then the first incomparable
        missing = np.isnan(values)
        chosen = np.concatenate([items[~missing], items[missing][: k - int((~missing).sum())]])
        return np.sort(chosen).astype(np.int64)
    # float32 order statistics are within tol of the float64 ones: far enough below the deciding value an
    # item is surely among the k, far enough above surely not; only the band between is recomputed
    band = 2 * vector.tol
    surely = items[values < deciding - band]
    in_band = (values >= deciding - band) & (values <= deciding + band)
    unsure = items[in_band]
    exact = _exact(gallery, metric, anchor, unsure) if vector.tol > 0 else values[in_band]
    order = np.lexsort((unsure, exact))[: k - len(surely)]  # by value, then by index; NaN last
    return np.sort(np.concatenate([surely, unsure[order]])).astype(np.int64)


def nearest_rank(gallery: Any, anchor: int, index: int, metric: str, among: np.ndarray | None = None) -> int:
    """0-based position of item ``index`` in the float64 reference's stable ascending order of the
    distances to ``anchor`` under ``metric`` (ties by index, NaN last), counting only the items of
    ``among`` (a (N,) bool mask; None = all) before it."""
    vector = _vector(gallery, anchor, metric)
    values, tol, index = vector.values, vector.tol, int(index)
    counted = np.ones(len(values), dtype=bool) if among is None else np.asarray(among, dtype=bool)
    own = float(_exact(gallery, metric, anchor, np.array([index]))[0]) if tol > 0 else float(values[index])
    comparable = ~np.isnan(values) & counted
    if np.isnan(own):
        return int(comparable.sum() + (np.isnan(values[:index]) & counted[:index]).sum())
    before = int(((values < own - tol) & counted).sum())  # surely nearer (float32 error at most tol)
    unsure = np.flatnonzero(comparable & (values >= own - tol) & (values <= own + tol))
    exact = _exact(gallery, metric, anchor, unsure) if tol > 0 else values[unsure]
    return before + int(((exact < own) | ((exact == own) & (unsure < index))).sum())
