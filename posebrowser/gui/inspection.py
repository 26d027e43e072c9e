"""What the inspector shows about one gallery item against the query that listed it (no Qt here; run on
a worker): its annotations, the four ground-truth distances to the query, its posebits agreeing or
clashing with the query's, and why its frame is green or red under the chosen criterion."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from posebrowser.data.image_folder import annotations_estimated
from posebrowser.gui import ground_truth
from posebrowser.gui.frames import LABELS, UNITS, FrameCriterion, anchor_index, frames_for
from posebrowser.gui.state import ResultsState

#: Metrics in the order the inspector lists them.
METRIC_ORDER = ("2d", "3d", "procrustes", "hamming")


@dataclass(frozen=True)
class BitRow:
    """One posebit of the item: its value (1/0/-1), the query's (1/0, or None when the query says
    nothing about it) and whether they agree (None when either is unknown or absent)."""

    name: str
    label: str
    value: int
    query_value: int | None

    @property
    def agrees(self) -> bool | None:
        if self.query_value is None or self.value < 0:
            return None
        return self.value == self.query_value


@dataclass(frozen=True)
class Inspection:
    """Everything the inspector draws for gallery item ``index``."""

    index: int
    path: str
    joints_2d: np.ndarray | None
    joints_3d: np.ndarray | None
    rank: int | None  # 0-based position in the results, None when not among them
    query_text: str
    distances: dict[str, float]  # metric → distance to the query image (only those computable)
    bits: tuple[BitRow, ...]
    verdict: bool | None  # green / red / no frame
    reason: str
    estimated: bool = False  # joints and posebits come from the pose estimator, not annotation files

    def clashes(self) -> int:
        return sum(1 for bit in self.bits if bit.agrees is False)

    def agreements(self) -> int:
        return sum(1 for bit in self.bits if bit.agrees is True)


def _row(array: Any, index: int) -> np.ndarray | None:
    return None if array is None else np.asarray(array[index], dtype=np.float32)


def distances_to(gallery: Any, anchor: int, index: int) -> dict[str, float]:
    """The ground-truth distances between items ``anchor`` and ``index`` for every metric the
    gallery has the annotations for."""
    from posebrowser.pose.similarity import metric_by_name, pairwise_distances

    found: dict[str, float] = {}
    for name in METRIC_ORDER:
        if getattr(gallery, metric_by_name(name).needs, None) is not None:
            found[name] = float(pairwise_distances(name, gallery, [anchor], [index])[0, 0])
    return found


def bit_rows(
    gallery: Any, index: int, query_bits: dict[str, int], labels: dict[str, str]
) -> tuple[BitRow, ...]:
    """Every posebit of item ``index``, clashes first, then agreements, then the rest."""
    bits = getattr(gallery, "posebits", None)
    if bits is None:
        return ()
    rows = [
        BitRow(
            str(name), labels.get(str(name), str(name)), int(bits[index, column]), query_bits.get(str(name))
        )
        for column, name in enumerate(gallery.posebit_names)
    ]
    order = {False: 0, True: 1, None: 2}
    return tuple(sorted(rows, key=lambda row: order[row.agrees]))


def query_posebits(gallery: Any, state: ResultsState | None) -> dict[str, int]:
    """The query's posebits: the asked conditions, else all known bits of the query image."""
    if state is None:
        return {}
    if state.chip_names:
        return dict(zip(state.chip_names, state.chip_values, strict=True))
    anchor = anchor_index(state.query)
    if anchor is None or getattr(gallery, "posebits", None) is None:
        return {}
    values = np.asarray(gallery.posebits[anchor])
    return {str(name): int(v) for name, v in zip(gallery.posebit_names, values, strict=True) if v >= 0}


def nearest_rank(
    gallery: Any, anchor: int, index: int, searched: np.ndarray | None = None
) -> tuple[int, str] | None:
    """(0-based rank of ``index`` among the ``searched`` gallery poses (None = all) by distance to
    ``anchor``, metric name) under the first metric the "true k nearest" rule uses; None without
    annotations. The search that listed the results has usually left the anchor's distances in
    :mod:`posebrowser.gui.ground_truth`'s cache."""
    metric = ground_truth.nearest_metric(gallery)
    if metric is None:
        return None
    return ground_truth.nearest_rank(gallery, anchor, index, metric, searched), metric


def would_be_green(
    gallery: Any,
    state: ResultsState,
    index: int,
    criterion: FrameCriterion,
    distances: dict[str, float],
    bits: tuple[BitRow, ...],
) -> bool | None:
    """The verdict for an item that is not among the results, as if it were."""
    if criterion.kind == "nearest" and state.chip_names and state.bits_needed is not None:
        return sum(1 for bit in bits if bit.query_value is not None and bit.agrees) >= state.bits_needed
    if criterion.kind == "posebits" or (criterion.kind == "nearest" and state.chip_names):
        return all(bit.agrees for bit in bits if bit.query_value is not None)
    if criterion.kind == "threshold":
        value = distances.get(criterion.metric)
        return None if value is None else bool(value <= criterion.threshold)
    anchor = anchor_index(state.query)
    found = None if anchor is None else nearest_rank(gallery, anchor, index, state.searched)
    return None if found is None else found[0] < len(state.indices)


def _ordinal(number: int) -> str:
    suffix = "th" if 10 <= number % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(number % 10, "th")
    return f"{number}{suffix}"


def explain(
    gallery: Any,
    state: ResultsState | None,
    index: int,
    rank: int | None,
    verdict: bool | None,
    meaning: str,
    criterion: FrameCriterion,
    distances: dict[str, float],
    bits: tuple[BitRow, ...],
) -> str:
    """Why the frame of item ``index`` is green or red (or absent), in one or two sentences."""
    if state is None:
        return "No query yet: nothing to compare with."
    colour = "no frame" if verdict is None else "green" if verdict else "red"
    if verdict is None:
        return f"{colour}: {meaning}."
    asked = [bit for bit in bits if bit.query_value is not None] if state.chip_names else []
    if criterion.kind == "posebits" or (criterion.kind == "nearest" and state.chip_names):
        held = sum(1 for bit in asked if bit.agrees)
        clashes = ", ".join(bit.label for bit in asked if bit.agrees is False) or "none"
        needed = state.bits_needed if criterion.kind == "nearest" else None
        green_from = "" if needed is None or needed >= len(asked) else f"; green from {needed}"
        return f"{colour}: holds {held} of the {len(asked)} asked posebits{green_from} (clashes: {clashes})."
    if criterion.kind == "threshold" and criterion.metric in distances:
        value = distances[criterion.metric]
        relation = "≤" if verdict else ">"
        unit = UNITS[criterion.metric]
        limit = f"{criterion.threshold:g} {unit}"
        return f"{colour}: {LABELS[criterion.metric]} {value:.3g} {unit} {relation} {limit}."
    anchor = anchor_index(state.query)
    if criterion.kind == "nearest" and anchor is not None:
        found = nearest_rank(gallery, anchor, index, state.searched)
        if found is not None:
            position, metric = found
            k = len(state.indices)
            side = "within" if position < k else "outside"
            pool = (
                f"all {len(gallery):,} gallery items"
                if state.searched is None
                else f"the {int(np.count_nonzero(state.searched)):,} searched items"
            )
            return (
                f"{colour}: it is the {_ordinal(position + 1)} nearest pose to the query by {LABELS[metric]} "
                f"among {pool}, {side} the true {k}."
            )
    return f"{colour}: {meaning}."


def inspect_item(
    gallery: Any,
    index: int,
    state: ResultsState | None,
    criterion: FrameCriterion,
    labels: dict[str, str],
    query_text: str = "",
) -> Inspection:
    """The :class:`Inspection` of gallery item ``index`` against the query of ``state`` (None = none)."""
    rows = [] if state is None else np.flatnonzero(state.indices == index).tolist()
    rank = int(rows[0]) if rows else None
    anchor = None if state is None else anchor_index(state.query)
    distances = {} if anchor is None else distances_to(gallery, anchor, index)
    bits = bit_rows(gallery, index, query_posebits(gallery, state), labels)
    verdict, meaning = None, ""
    if state is not None:
        frames = frames_for(gallery, state, criterion)
        meaning = frames.meaning
        if frames.correct is not None and rank is not None:
            verdict = bool(frames.correct[rank])
        elif frames.correct is not None:
            verdict = would_be_green(gallery, state, index, criterion, distances, bits)
    reason = explain(gallery, state, index, rank, verdict, meaning, criterion, distances, bits)
    if state is not None and rank is None:
        reason = f"Not among the results; it would be {reason}"
    return Inspection(
        index=int(index),
        path=str(gallery.image_path(int(index))),
        joints_2d=_row(getattr(gallery, "joints_2d", None), index),
        joints_3d=_row(getattr(gallery, "joints_3d", None), index),
        rank=rank,
        query_text=query_text,
        distances=distances,
        bits=bits,
        verdict=verdict,
        reason=reason,
        estimated=annotations_estimated(gallery),
    )
