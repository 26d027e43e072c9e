"""Numpy helpers the session runs on worker threads to prepare what views draw (no Qt here)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from posebrowser.core.masks import posebit_agreement
from posebrowser.data.gallery_format import SPLITS
from posebrowser.data.image_folder import annotations_estimated
from posebrowser.errors import PosebrowserError, QueryError
from posebrowser.gui.frames import anchor_index
from posebrowser.gui.state import DISTANCE_METRICS, ColourState, ResultsState

Conditions = Sequence[tuple[str, int]]


def posebit_column(gallery: Any, name: str) -> np.ndarray | None:
    """Column ``name`` of ``gallery.posebits`` as (N,) int8 (1 / 0 / -1 unknown), None if absent."""
    if gallery.posebits is None:
        return None
    names = list(gallery.posebit_names)
    if name not in names:
        return None
    return np.asarray(gallery.posebits[:, names.index(name)], dtype=np.int8)


def bit_label(vocabulary: Any, name: str) -> str:
    try:
        return str(vocabulary.bits[vocabulary.index(name)].label)
    except Exception:  # an unknown name is shown as itself
        return name


def searched_items(gallery: Any, split: str | None) -> np.ndarray | None:
    """(N,) bool: the items a search of ``split`` can return; None when it searches the whole gallery."""
    if split is None or getattr(gallery, "split", None) is None:
        return None
    return np.asarray(np.asarray(gallery.split) == SPLITS.index(split), dtype=bool)


def results_state(engine: Any, query: Any, result: Any, split: str | None = None) -> ResultsState:
    """Pair a SearchResult (of a search limited to ``split``) with thumbnail paths and agree/clash chips
    for the asked posebits; an image query's frames compare with the true nearest among the searched
    items, the truth that search could reach."""
    gallery = engine.gallery
    indices = np.asarray(result.indices, dtype=np.int64)
    conditions = query.asked_conditions()  # the engine's rule: a subtracted posebit term is not asked
    agree = _agreement(gallery, indices, conditions)
    correct = getattr(result, "correct", None)
    correct_meaning = "satisfies every asked posebit"
    anchor = anchor_index(query)
    searched = searched_items(gallery, split)
    bits_needed = None
    if correct is None and anchor is not None and len(indices):
        found = true_nearest_correctness(gallery, anchor, indices, searched)
        if found is not None:
            correct, correct_meaning = found
    elif conditions and gallery.posebits is not None and len(indices):
        bits_needed = posebits_needed(gallery, conditions, len(indices), searched)
        correct = np.sum(agree == 1, axis=1) >= bits_needed
        correct_meaning = posebits_meaning(bits_needed, len(conditions), len(indices), searched, gallery)
    return ResultsState(
        result=result,
        query=query,
        paths=tuple(str(gallery.image_path(int(i))) for i in indices),
        chip_names=tuple(name for name, _ in conditions),
        chip_labels=tuple(bit_label(engine.vocabulary, name) for name, _ in conditions),
        chip_values=tuple(value for _, value in conditions),
        chip_agree=agree,
        correct=None if correct is None else np.asarray(correct, dtype=bool),
        correct_meaning=correct_meaning,
        searched=searched,
        bits_needed=bits_needed,
    )


def posebits_needed(gallery: Any, conditions: Conditions, k: int, searched: np.ndarray | None) -> int:
    """How many of the asked posebits the k-th best searched item holds: a posebit query's "true k
    nearest" (all asked bits when k items hold them all; fewer for a photo's 80 estimated bits, which no
    item holds at once). At least one."""
    pool = np.arange(len(gallery)) if searched is None else np.flatnonzero(searched)
    held = np.sum(_agreement(gallery, pool, conditions) == 1, axis=1)
    if len(held) == 0:
        return len(conditions)
    kth = int(np.partition(held, len(held) - min(k, len(held)))[len(held) - min(k, len(held))])
    return max(1, kth)


def posebits_meaning(needed: int, asked: int, k: int, searched: np.ndarray | None, gallery: Any) -> str:
    if needed >= asked:
        return "satisfies every asked posebit"
    pool = len(gallery) if searched is None else int(np.count_nonzero(searched))
    return (
        f"holds at least {needed} of the {asked} asked posebits, as many as the {k}th best of the "
        f"{pool:,} searched"
    )


def _agreement(gallery: Any, indices: np.ndarray, conditions: Conditions) -> np.ndarray:
    """(k, C) int8 chips: 1 agrees, 0 clashes, -1 unknown (the engine's ``posebit_agreement``)."""
    if gallery.posebits is None:
        return np.full((len(indices), len(conditions)), -1, dtype=np.int8)
    columns = {name: j for j, name in enumerate(gallery.posebit_names)}
    asked = [(columns.get(name), value) for name, value in conditions]
    return posebit_agreement(np.asarray(gallery.posebits)[indices], asked)


#: Ground-truth metrics in order of preference for marking image-query results correct.
CORRECTNESS_METRICS = ("3d", "procrustes", "2d", "hamming")


def true_nearest_correctness(
    gallery: Any, anchor: int, indices: np.ndarray, searched: np.ndarray | None = None
) -> tuple[np.ndarray, str] | None:
    """For an image query: is each result among the true k nearest poses of gallery item ``anchor``
    (k = len(indices)) among the ``searched`` items (None = all) under the first ground-truth metric the
    gallery has? (k,) bool + a caption."""
    from posebrowser.gui.ground_truth import true_nearest  # the float64 stable order, fast at 100k
    from posebrowser.pose.similarity import metric_by_name

    for name in CORRECTNESS_METRICS:
        metric = metric_by_name(name)
        if getattr(gallery, metric.needs, None) is None:
            continue
        try:
            truth = true_nearest(gallery, anchor, len(indices), name, searched)
        except PosebrowserError:
            continue
        pool = "" if searched is None else f" of the {int(np.count_nonzero(searched)):,} searched"
        caption = f"among the true {len(indices)} nearest poses{pool} ({metric.label})"
        return np.isin(indices, truth), caption
    return None


def visible_indices(gallery: Any, split: str | None, conditions: Conditions) -> np.ndarray:
    """Gallery rows in ``split`` (None = all) whose posebits satisfy every condition: (M,) int64."""
    keep = np.ones(len(gallery), dtype=bool)
    if split is not None and getattr(gallery, "split", None) is not None:
        keep &= np.asarray(gallery.split) == SPLITS.index(split)
    for name, value in conditions:
        values = posebit_column(gallery, name)
        if values is not None:
            keep &= values == value
    return np.flatnonzero(keep).astype(np.int64)


def hamming_to(gallery: Any, anchor: int) -> np.ndarray:
    """Fraction of known posebits that differ from gallery item ``anchor``: (N,) float32, NaN = none known."""
    bits = np.asarray(gallery.posebits, dtype=np.int8)
    reference = bits[anchor]
    known = (bits >= 0) & (reference >= 0)
    differing = ((bits != reference) & known).sum(axis=1).astype(np.float32)
    counts = known.sum(axis=1).astype(np.float32)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(counts > 0, differing / counts, np.nan).astype(np.float32)


def colour_state(engine: Any, spec: str, query: Any, conditions: Conditions) -> ColourState:
    """Per-point colour values for ``spec`` = "posebit:<name>" or "distance:<metric>"."""
    gallery = engine.gallery
    kind, _, name = spec.partition(":")
    if kind == "posebit":
        values = posebit_column(gallery, name)
        if values is None:
            raise QueryError(f"The gallery has no annotation for the posebit {name!r}.")
        colours = np.where(values < 0, np.nan, values).astype(np.float32)
        estimated = " (estimated)" if annotations_estimated(gallery) else ""
        label = bit_label(engine.vocabulary, name) + estimated
        return ColourState(spec, label, colours, categorical=True)
    if kind != "distance" or name not in dict(DISTANCE_METRICS):
        raise QueryError(f"Unknown colouring {spec!r}.")
    anchor = anchor_index(query)
    if anchor is None and name == "hamming" and conditions and gallery.posebits is not None:
        asked = [(posebit_column(gallery, n), v) for n, v in conditions]
        distance = np.mean([(column != value) for column, value in asked if column is not None], axis=0)
        return ColourState(spec, "Hamming distance to the asked posebits", distance.astype(np.float32))
    if anchor is None:
        raise QueryError("Colouring by ground-truth distance needs a query with a gallery image.")
    if name == "hamming":
        if gallery.posebits is None:
            raise QueryError("The gallery has no posebit annotations for the Hamming distance.")
        distance = hamming_to(gallery, anchor)
    else:
        from posebrowser.pose.similarity import pairwise_distances

        distance = np.asarray(
            pairwise_distances(name, gallery, np.array([anchor]), np.arange(len(gallery))), dtype=np.float32
        )[0]
    top = float(np.nanmax(distance)) if np.isfinite(distance).any() else 1.0
    normalised = distance / top if top > 0 else distance
    return ColourState(
        spec, f"{dict(DISTANCE_METRICS)[name]} distance to the query", normalised.astype(np.float32)
    )
