"""Which rows an evaluation uses on an estimated photo folder: images without an estimated pose are left
out, a folder with one split is cut into two disjoint seeded halves, and pairs without any ground truth
count as the farthest; galleries with their own splits are evaluated as before."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np

from posebrowser.data.gallery import Gallery
from posebrowser.data.gallery_format import SPLITS
from posebrowser.data.image_folder import ESTIMATED
from posebrowser.estimate.folder import NOT_ESTIMATED
from posebrowser.evaluation.rows import evaluation_rows, incomparable_as_farthest


def _folder(count: int, posed: np.ndarray, split: np.ndarray | None = None) -> Gallery:
    gallery = Gallery(
        root=Path("/photos"),
        name="photos",
        kind="folder",
        files=tuple(f"{i}.jpg" for i in range(count)),
        split=split if split is not None else np.full(count, SPLITS.index("test"), np.uint8),
    )
    source = tuple(ESTIMATED if p else NOT_ESTIMATED for p in posed)
    return replace(gallery, source=source, manifest={"posebits_from": ESTIMATED})


def test_one_split_is_cut_into_disjoint_halves_of_the_posed_images(rng: np.random.Generator) -> None:
    for count in (2, 3, 17, 40):
        posed = rng.random(count) < 0.8
        posed[:2] = True
        rows = evaluation_rows(_folder(count, posed), "test", "val", seed=int(rng.integers(100)))
        both = np.concatenate([rows.queries, rows.database])
        assert set(both.tolist()) == set(np.flatnonzero(posed).tolist()) and len(both) == posed.sum()
        assert abs(len(rows.queries) - len(rows.database)) <= 1 and len(rows.queries) >= 1
        assert np.all(np.diff(rows.queries) > 0) and np.all(np.diff(rows.database) > 0)
        assert any("estimated" in note for note in rows.notes) and any(
            "random half" in note for note in rows.notes
        )
        assert (rows.query_split, rows.database_split) == ("test (half 1)", "test (half 2)")


def test_the_halves_depend_on_the_seed_only() -> None:
    gallery = _folder(30, np.ones(30, bool))
    first, again, other = (evaluation_rows(gallery, "test", "val", seed) for seed in (1, 1, 2))
    np.testing.assert_array_equal(first.queries, again.queries)
    assert not np.array_equal(first.queries, other.queries)


def test_a_gallery_with_its_own_splits_keeps_them() -> None:
    split = np.array([SPLITS.index(s) for s in ["val", "test"] * 6], dtype=np.uint8)
    posed = np.array([True] * 10 + [False] * 2)
    rows = evaluation_rows(_folder(12, posed, split), "test", "val")
    np.testing.assert_array_equal(rows.queries, [0, 2, 4, 6, 8])
    np.testing.assert_array_equal(rows.database, [1, 3, 5, 7, 9])
    assert (rows.query_split, rows.database_split) == ("val", "test")
    assert len(rows.notes) == 1 and "2 image(s) without an estimated pose are left out" in rows.notes[0]
    annotated = replace(_folder(12, posed, split), manifest={})
    plain = evaluation_rows(annotated, "test", "val")
    np.testing.assert_array_equal(plain.database, np.flatnonzero(split == SPLITS.index("test")))
    assert plain.notes == []


def test_pairs_without_ground_truth_count_as_the_farthest(rng: np.random.Generator) -> None:
    table = rng.random((6, 9)).astype(np.float32)
    holes = rng.random(table.shape) < 0.3
    filled = np.where(holes, np.nan, table).astype(np.float32)
    tables = {"hamming": filled, "3d": table.copy()}
    notes = incomparable_as_farthest(tables)
    expected = np.where(holes, table[~holes].max(), table)
    np.testing.assert_array_equal(tables["hamming"], expected)
    np.testing.assert_array_equal(tables["3d"], table)
    assert notes == [
        f"{int(holes.sum())} of 54 query–database pairs have no hamming ground truth "
        "(nothing known on both sides) and count as the farthest pair."
    ]
