"""Split leakage: the near-duplicate oracle, and the synthetic split has no near-duplicate across splits."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from posebrowser.errors import DataError
from posebrowser.evaluation.leakage import near_duplicate_share
from posebrowser.pose.similarity import distances_procrustes
from posebrowser.synth.poses import sample_poses


def _random_poses(rng: np.random.Generator, n: int) -> np.ndarray:
    return rng.normal(size=(n, 16, 3)).astype(np.float32)


def test_nearest_distance_equals_the_brute_force_minimum() -> None:
    rng = np.random.default_rng(0)
    queries, references = _random_poses(rng, 7), _random_poses(rng, 300)
    result = near_duplicate_share(queries, references, threshold=0.5)
    expected = distances_procrustes(queries, references).min(axis=1)
    np.testing.assert_allclose(result.nearest, expected, rtol=1e-5)
    assert result.near_duplicates == int((expected <= 0.5).sum())


def test_a_moved_rotated_scaled_copy_is_a_near_duplicate() -> None:
    rng = np.random.default_rng(1)
    references = _random_poses(rng, 50)
    angle = 0.7
    turn = np.array([[np.cos(angle), -np.sin(angle), 0], [np.sin(angle), np.cos(angle), 0], [0, 0, 1]])
    copy = (references[:3] @ turn.T) * 1.7 + 5.0 + rng.normal(scale=1e-3, size=(3, 16, 3))
    fresh = _random_poses(rng, 4)
    result = near_duplicate_share(np.concatenate([copy, fresh]), references)
    assert result.near_duplicates == 3 and result.queries == 7
    assert result.share == pytest.approx(3 / 7)


def test_missing_joints_are_left_out_and_bad_input_is_refused() -> None:
    rng = np.random.default_rng(2)
    queries = _random_poses(rng, 3)
    queries[1, 4] = np.nan
    result = near_duplicate_share(queries, _random_poses(rng, 20))
    assert result.queries == 2 and np.isnan(result.nearest[1])
    with pytest.raises(DataError):
        near_duplicate_share(queries, np.full((2, 16, 3), np.nan))
    with pytest.raises(DataError):
        near_duplicate_share(queries, _random_poses(rng, 2), threshold=-1.0)


def test_synthetic_split_has_no_near_duplicates_across_splits() -> None:
    batch = sample_poses(400, seed=11)
    train = batch.joints_3d[batch.split == 0]
    held_out = batch.joints_3d[batch.split != 0]
    assert len(train) > 150 and len(held_out) > 40
    result = near_duplicate_share(held_out, train)
    assert result.share <= 0.01, result.to_dict()
    # the oracle does see near-duplicates where they exist: within the train split's own clip families
    within = near_duplicate_share(train[: len(train) // 2], train[len(train) // 2 :])
    assert within.near_duplicates > 0


def test_leakage_cli_reports_each_held_out_split(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from posebrowser.cli import main
    from posebrowser.synth.generate import generate_gallery

    generate_gallery(tmp_path / "g", count=60, seed=3, workers=1)
    assert main(["leakage", "--gallery", str(tmp_path / "g"), "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert {row["split"] for row in rows} <= {"val", "test"} and rows
    assert all(row["against"] == "own train split" and 0 <= row["share"] <= 1 for row in rows)
