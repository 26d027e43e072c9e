"""Which gallery rows an evaluation queries with and searches: the query and database splits, adjusted for
galleries whose annotations were estimated from the photos and for folders that have one split only.

* Estimated annotations (a photo folder annotated by the pose estimator): images without an estimated
  pose have no ground truth at all (NaN joints, unknown posebits), so they are left out of both sides.
* One split only (a plain image folder puts every image in "test"): when the query split is empty and
  every row lies in the database split, that split is cut into two seeded random halves, the first
  querying the second, so no query ever finds itself.

Every adjustment is said in :attr:`EvaluationRows.notes` (kept in the report's ``meta["notes"]``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray

from posebrowser.data.image_folder import ESTIMATED, annotations_estimated


@dataclass(frozen=True)
class EvaluationRows:
    """``database`` and ``queries``: ascending gallery rows; ``database_split`` / ``query_split``: what
    they are called in reports (a split name, or e.g. "test (half 1)"); ``notes``: what was adjusted."""

    database: NDArray[np.int64]
    queries: NDArray[np.int64]
    database_split: str
    query_split: str
    notes: list[str] = field(default_factory=list)


def _with_pose(gallery: Any, rows: NDArray[np.int64]) -> NDArray[np.int64]:
    posed = np.asarray([source == ESTIMATED for source in gallery.source], dtype=bool)
    return np.asarray(rows[posed[rows]], dtype=np.int64)


def _one_split(gallery: Any) -> bool:
    splits = getattr(gallery, "split", None)
    return splits is not None and len(np.unique(np.asarray(splits))) == 1


def evaluation_rows(gallery: Any, split: str, query_split: str, seed: int = 0) -> EvaluationRows:
    """The rows of ``query_split`` that query the rows of ``split`` (see the module docstring)."""
    database = np.asarray(gallery.split_indices(split), dtype=np.int64)
    queries = np.asarray(gallery.split_indices(query_split), dtype=np.int64)
    notes: list[str] = []
    labels = (split, query_split)
    if annotations_estimated(gallery):
        kept_database, kept_queries = _with_pose(gallery, database), _with_pose(gallery, queries)
        dropped = len(database) + len(queries) - len(kept_database) - len(kept_queries)
        database, queries = kept_database, kept_queries
        notes.append(
            "The annotations are estimated from the photos by the pose estimator (BlazePose), not annotated: "
            "the ground truth of every number below is the estimates"
            + (f"; {dropped} image(s) without an estimated pose are left out." if dropped else ".")
        )
    if len(queries) == 0 and len(database) > 1 and _one_split(gallery):
        shuffled = np.random.default_rng(seed).permutation(database)
        half = len(shuffled) // 2
        queries, database = np.sort(shuffled[:half]), np.sort(shuffled[half:])
        labels = (f"{split} (half 2)", f"{split} (half 1)")
        notes.append(
            f"The gallery has no '{query_split}' split: a random half of its '{split}' split "
            f"({len(queries)} images, seed {seed}) queries the other half ({len(database)} images)."
        )
    return EvaluationRows(database, queries, *labels, notes=notes)


def incomparable_as_farthest(gt_tables: dict[str, NDArray[np.float32]]) -> list[str]:
    """Give query–database pairs without a ground-truth distance (NaN: e.g. two estimated posebytes with
    no known bit in common, or a pose with no known joint) the largest distance of their table, in place,
    so they rank last instead of turning every mean into NaN; one note per metric that had any."""
    notes: list[str] = []
    for metric, table in gt_tables.items():
        missing = ~np.isfinite(table)
        if not missing.any():
            continue
        known = table[~missing]
        table[missing] = float(known.max()) if known.size else 0.0
        notes.append(
            f"{int(missing.sum())} of {table.size} query–database pairs have no {metric} ground truth "
            "(nothing known on both sides) and count as the farthest pair."
        )
    return notes
