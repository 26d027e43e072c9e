"""tools/val_screen.py: the grey copy of a gallery and the val-only embedding."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image
from script_loader import load_script


@pytest.fixture(scope="module")
def gallery(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from posebrowser.synth.generate import generate_gallery

    root = tmp_path_factory.mktemp("val-screen") / "gallery"
    generate_gallery(root, count=40, seed=5, size=48, workers=1)
    return root


def test_the_grey_copy_is_grey_under_a_hash_of_its_own(gallery: Path, tmp_path: Path) -> None:
    from posebrowser.data.loading import open_gallery

    tool = load_script("tools/val_screen.py")
    tool.grey_copy(gallery, tmp_path / "grey")
    source, grey = open_gallery(gallery), open_gallery(tmp_path / "grey")
    assert grey.content_hash != source.content_hash
    assert grey.files == source.files and np.array_equal(grey.joints_3d, source.joints_3d)
    for index in range(3):
        pixels = np.asarray(grey.load_image(index).convert("RGB")).astype(int)
        assert (np.ptp(pixels, axis=2) <= 1).all()
    original = json.loads((gallery / "manifest.json").read_text())
    assert original["content_hash"] == source.content_hash  # the source is left alone
    assert np.ptp(np.asarray(Image.open(source.image_path(0))), axis=2).max() > 1


def test_only_the_val_rows_are_embedded(
    gallery: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import posebrowser.core.image_models as image_models
    from posebrowser.data.loading import open_gallery

    tool = load_script("tools/val_screen.py")
    asked: list[int] = []

    class Recorder:
        def embed_images(self, _gallery: Any, indices: Any) -> np.ndarray:
            asked.extend(int(i) for i in indices)
            return np.ones((len(indices), 4), np.float32) / 2

    monkeypatch.setattr(image_models, "image_embedder_from_checkpoint", lambda *_: Recorder())
    models = tmp_path / "models"
    _, table = tool.val_rows_embedded(models, gallery, tmp_path / "out", "small")
    val = np.asarray(open_gallery(gallery).split_indices("val"))
    assert len(val) > 0 and sorted(asked) == sorted(val.tolist())
    assert (table[val] == 0.5).all() and (np.delete(table, val, axis=0) == 0).all()
    asked.clear()
    tool.val_rows_embedded(models, gallery, tmp_path / "out", "small")  # stored: nothing embedded again
    assert asked == []
