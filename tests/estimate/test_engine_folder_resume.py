"""The pose estimation an engine build runs on a photo folder without annotations is resumable: a
``posebrowser query`` on the folder killed (SIGKILL) half-way through the estimation leaves complete
cache files only, and the next engine build estimates just the images that were not done."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from posebrowser.core.engine import RetrievalEngine, default_models_dir
from posebrowser.data.gallery import Gallery
from posebrowser.data.image_folder import annotations_estimated
from posebrowser.estimate.cache import EstimateCache
from posebrowser.estimate.estimator import PoseEstimator
from posebrowser.estimate.folder import ESTIMATED, estimate_cache_root

from .conftest import kill_once_cached
from .photo_folders import build_photo_folder

pytestmark = pytest.mark.skipif(
    not (default_models_dir() / "image_net.safetensors").is_file(), reason="the shipped models are missing"
)


def test_an_engine_build_killed_while_estimating_resumes_where_it_stopped(
    estimator: PoseEstimator, gallery: Gallery, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    photos = build_photo_folder(tmp_path / "photos", gallery, renders=60)
    cache_dir = tmp_path / "cache"
    estimates = EstimateCache(estimate_cache_root(cache_dir), estimator.version)
    command = [
        sys.executable,
        "-m",
        "posebrowser",
        "query",
        "--gallery",
        str(photos),
        "--cache-dir",
        str(cache_dir),
        "--device",
        "cpu",
        "--id",
        "0",
    ]
    assert kill_once_cached(command, estimates), "the estimation finished before it could be killed"
    written = len(estimates)
    images = len(list(photos.iterdir()))
    assert 0 < written < images
    for entry in estimates.directory.glob("*.json"):
        json.loads(entry.read_text())  # complete files only
    calls: list[object] = []
    original = PoseEstimator.estimate
    monkeypatch.setattr(
        PoseEstimator, "estimate", lambda self, image: calls.append(image) or original(self, image)
    )
    engine = RetrievalEngine.open(photos, device="cpu", cache_dir=cache_dir)
    assert len(calls) == images - written, "only the images without a cached estimate are estimated"
    assert annotations_estimated(engine.gallery) and len(estimates) == images
    assert sum(source == ESTIMATED for source in engine.gallery.source) >= 0.8 * images  # 93 % on renders
