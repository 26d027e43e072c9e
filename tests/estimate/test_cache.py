"""The per-image estimate cache: hits, version separation, damaged entries, and a kill in the middle of a
folder (SIGKILL) that the next run resumes."""

from __future__ import annotations

import json
import os
import shutil
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from posebrowser.data.gallery import Gallery
from posebrowser.estimate.cache import EstimateCache, content_key, estimate_cached, estimate_files
from posebrowser.estimate.estimator import PoseEstimator
from posebrowser.estimate.result import PoseEstimate, outcome_from_json

from .conftest import kill_once_cached, skimage_photo


@pytest.fixture
def photo_file(tmp_path: Path) -> Path:
    path = tmp_path / "camera.png"
    skimage_photo("camera").save(path)
    return path


def test_second_call_is_read_from_the_cache(
        estimator: PoseEstimator, photo_file: Path, tmp_path: Path) -> None:
    cache = EstimateCache(tmp_path / "cache", estimator.version)
    first, cached_first = estimate_cached(estimator, photo_file, cache)
    second, cached_second = estimate_cached(estimator, photo_file, cache)
    assert (cached_first, cached_second) == (False, True)
    assert isinstance(first, PoseEstimate) and isinstance(second, PoseEstimate)
    assert np.allclose(first.joints_3d, second.joints_3d, atol=1e-4)
    assert np.array_equal(first.posebits, second.posebits)
    assert len(cache) == 1
    assert cache.path_for(content_key(photo_file.read_bytes())).is_file()


def test_a_renamed_copy_hits_the_same_entry(
        estimator: PoseEstimator, photo_file: Path, tmp_path: Path) -> None:
    cache = EstimateCache(tmp_path / "cache", estimator.version)
    estimate_cached(estimator, photo_file, cache)
    copy = shutil.copy(photo_file, tmp_path / "renamed.png")
    assert estimate_cached(estimator, Path(copy), cache)[1] is True


def test_another_estimator_version_does_not_see_old_entries(
        estimator: PoseEstimator, photo_file: Path, tmp_path: Path) -> None:
    EstimateCache(tmp_path / "cache", estimator.version).put(
        content_key(photo_file.read_bytes()), estimate_cached(estimator, photo_file, None)[0])
    other = EstimateCache(tmp_path / "cache", estimator.version + "-other")
    assert other.get(content_key(photo_file.read_bytes())) is None


def test_a_damaged_entry_is_recomputed(estimator: PoseEstimator, photo_file: Path, tmp_path: Path) -> None:
    cache = EstimateCache(tmp_path / "cache", estimator.version)
    estimate_cached(estimator, photo_file, cache)
    entry = cache.path_for(content_key(photo_file.read_bytes()))
    entry.write_text('{"status": "person", "joints_2d": [1, 2')
    outcome, cached = estimate_cached(estimator, photo_file, cache)
    assert not cached and isinstance(outcome, PoseEstimate)
    assert outcome_from_json(json.loads(entry.read_text())).estimator == estimator.version


def test_stale_temporaries_of_a_killed_writer_are_removed(estimator: PoseEstimator, tmp_path: Path) -> None:
    cache = EstimateCache(tmp_path / "cache", estimator.version)
    cache.directory.mkdir(parents=True)
    stale = cache.directory / ".abc.json.x1y2.tmp"
    stale.write_text("{")
    os.utime(stale, (time.time() - 7200, time.time() - 7200))
    EstimateCache(tmp_path / "cache", estimator.version)
    assert not stale.exists()


def test_unreadable_files_in_a_batch_are_reported_not_raised(
        estimator: PoseEstimator, photo_file: Path, tmp_path: Path) -> None:
    bad = tmp_path / "bad.jpg"
    bad.write_bytes(b"\xff\xd8 nope")
    results = estimate_files([photo_file, bad], estimator, EstimateCache(tmp_path / "c", estimator.version))
    assert isinstance(results[0].outcome, PoseEstimate) and results[0].error is None
    assert results[1].outcome is None and "bad.jpg" in str(results[1].error)


def _render_folder(gallery: Gallery, folder: Path, count: int) -> list[Path]:
    folder.mkdir()
    rows = gallery.split_indices("test")[:count]
    return [Path(shutil.copy(gallery.image_path(int(r)), folder / f"{int(r):06d}.jpg")) for r in rows]


def test_a_killed_folder_run_resumes_where_it_stopped(
        estimator: PoseEstimator, gallery: Gallery, tmp_path: Path) -> None:
    files = _render_folder(gallery, tmp_path / "photos", 80)
    cache_root = tmp_path / "cache"
    cache = EstimateCache(cache_root, estimator.version)
    command = [sys.executable, "-m", "posebrowser", "estimate", str(tmp_path / "photos"),
               "--cache-dir", str(cache_root)]
    still_running = kill_once_cached(command, cache)
    assert still_running, "the run finished before it could be killed"
    written = len(cache)
    assert 5 <= written < len(files)
    for entry in cache.directory.glob("*.json"):  # every file left behind is complete
        outcome_from_json(json.loads(entry.read_text()))
    results = estimate_files(files, estimator, cache)
    assert sum(r.cached for r in results) == written
    assert all(r.outcome is not None for r in results)
    assert len(cache) == len({content_key(f.read_bytes()) for f in files})


def test_a_computed_estimate_equals_its_cached_read_back_exactly(tmp_path: Path) -> None:
    """The cache stores joints to 0.1 mm; a miss used to return the unrounded estimate, so the fused image
    model's rows (and its fitted map) moved by ~1e-4 with which images happened to be cached already."""
    from pose_fakes import FakeEstimator, picture, random_poses

    estimator = FakeEstimator(random_poses(np.random.default_rng(0), 4))
    cache = EstimateCache(tmp_path / "cache", estimator.version)
    computed, was_cached = estimate_cached(estimator, picture(2), cache)  # type: ignore[arg-type]
    read_back, now_cached = estimate_cached(estimator, picture(2), cache)  # type: ignore[arg-type]
    uncached, _ = estimate_cached(estimator, picture(2), None)  # type: ignore[arg-type]
    assert (was_cached, now_cached) == (False, True)
    for outcome in (computed, uncached):
        assert isinstance(outcome, PoseEstimate) and isinstance(read_back, PoseEstimate)
        assert np.array_equal(outcome.joints_3d, read_back.joints_3d)
        assert np.array_equal(outcome.confidence, read_back.confidence)
