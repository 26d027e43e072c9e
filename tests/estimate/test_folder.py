"""An image folder without annotations gets estimated joints and posebits (marked as estimated), posebit
conditions work on them, and an annotation run killed half-way resumes from the cache."""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from posebrowser.core.engine import RetrievalEngine
from posebrowser.data.gallery import Gallery
from posebrowser.data.loading import open_gallery
from posebrowser.errors import JobCancelledError
from posebrowser.estimate.cache import EstimateCache
from posebrowser.estimate.estimator import PoseEstimator
from posebrowser.estimate.folder import ESTIMATED, NOT_ESTIMATED, annotate_gallery, needs_estimation

from .conftest import kill_once_cached, skimage_photo


def _photo_folder(folder: Path, gallery: Gallery, renders: int) -> Path:
    folder.mkdir()
    skimage_photo("camera").save(folder / "camera.png")
    Image.new("RGB", (160, 120), (70, 80, 90)).save(folder / "empty_room.png")
    (folder / "broken.jpg").write_bytes(b"\xff\xd8 broken")
    for row in gallery.split_indices("test")[:renders]:
        shutil.copy(gallery.image_path(int(row)), folder / f"render_{int(row):06d}.jpg")
    return folder


def test_a_folder_is_annotated_and_marked_as_estimated(
        estimator: PoseEstimator, gallery: Gallery, tmp_path: Path) -> None:
    folder = open_gallery(_photo_folder(tmp_path / "photos", gallery, 6))
    assert needs_estimation(folder)
    annotated = annotate_gallery(folder, estimator, EstimateCache(tmp_path / "cache", estimator.version))
    assert not needs_estimation(annotated) and annotated.files == folder.files
    assert annotated.posebit_names == estimator.vocabulary.names
    assert annotated.manifest["posebits_from"] == ESTIMATED
    row = {name: i for i, name in enumerate(annotated.files)}
    assert annotated.source[row["camera.png"]] == ESTIMATED
    for name in ("empty_room.png", "broken.jpg"):
        assert annotated.source[row[name]] == NOT_ESTIMATED
        assert np.all(annotated.posebits[row[name]] == -1) and np.isnan(annotated.joints_3d[row[name]]).all()
    summary = annotated.manifest[ESTIMATED]
    assert summary["unreadable"] == 1 and summary["no_person"] >= 1 and summary["person"] >= 4
    assert summary["estimator"] == estimator.version


def test_posebit_conditions_read_the_estimated_bits(
        estimator: PoseEstimator, gallery: Gallery, tmp_path: Path) -> None:
    folder = open_gallery(_photo_folder(tmp_path / "photos", gallery, 6))
    annotated = annotate_gallery(folder, estimator)
    embeddings = np.random.default_rng(0).normal(size=(len(annotated), 8)).astype(np.float32)
    engine = RetrievalEngine.from_arrays(annotated, embeddings / np.linalg.norm(embeddings, axis=1)[:, None])
    column = int(np.argmax((annotated.posebits >= 0).sum(axis=0)))
    name = annotated.posebit_names[column]
    for value in (0, 1):
        assert engine.count_matching({name: value}) == int(np.sum(annotated.posebits[:, column] == value))
    assert engine.count_matching({name: 0}) + engine.count_matching({name: 1}) >= 4


def test_cancelling_keeps_what_is_done(estimator: PoseEstimator, gallery: Gallery, tmp_path: Path) -> None:
    folder = open_gallery(_photo_folder(tmp_path / "photos", gallery, 6))
    cache = EstimateCache(tmp_path / "cache", estimator.version)
    seen: list[int] = []
    with pytest.raises(JobCancelledError):
        annotate_gallery(folder, estimator, cache, progress=lambda done, _total: seen.append(done),
                         cancel=lambda: len(seen) >= 3)
    # sorted order: broken.jpg (an error: never cached), camera.png, empty_room.png ("no person" is cached)
    assert len(cache) == 2
    annotated = annotate_gallery(folder, estimator, cache)
    assert annotated.manifest[ESTIMATED]["unreadable"] == 1


_ANNOTATE = """
import sys
from posebrowser.data.loading import open_gallery
from posebrowser.estimate.cache import EstimateCache
from posebrowser.estimate.estimator import PoseEstimator
from posebrowser.estimate.folder import annotate_gallery
with PoseEstimator() as estimator:
    annotate_gallery(open_gallery(sys.argv[1]), estimator, EstimateCache(sys.argv[2], estimator.version))
"""


def test_an_annotation_run_killed_half_way_resumes(
        estimator: PoseEstimator, gallery: Gallery, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    photos = _photo_folder(tmp_path / "photos", gallery, 80)
    cache = EstimateCache(tmp_path / "cache", estimator.version)
    running = kill_once_cached([sys.executable, "-c", _ANNOTATE, str(photos), str(tmp_path / "cache")], cache)
    assert running, "the annotation finished before it could be killed"
    written = len(cache)
    for entry in cache.directory.glob("*.json"):
        json.loads(entry.read_text())  # complete files only
    calls: list[object] = []
    original = estimator.estimate
    monkeypatch.setattr(estimator, "estimate", lambda image: calls.append(image) or original(image))
    folder = open_gallery(photos)
    annotated = annotate_gallery(folder, estimator, cache)
    readable = len(folder) - 1  # the broken file is never cached and is tried again
    assert len(calls) == readable - written + 1
    fresh = annotate_gallery(folder, estimator, None)
    assert np.array_equal(annotated.posebits, fresh.posebits)
    assert np.allclose(annotated.joints_2d, fresh.joints_2d, atol=0.01, equal_nan=True)
