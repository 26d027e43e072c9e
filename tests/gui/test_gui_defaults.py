"""Defaults that do not mislead: the search database leaves out the training images a model has seen."""

from __future__ import annotations

from typing import Any

import numpy as np

from posebrowser.data.gallery_format import SPLITS


def test_with_a_model_the_test_split_is_searched_by_default(make_window: Any, fake_engine: Any) -> None:
    fake_engine.image_embedder = object()  # an image model, trained on the gallery's train split
    window = make_window(fake_engine)
    session = window.session
    assert session.settings.split == "test"
    assert window.gallery_view.split_combo.currentData() == "test"
    session.request_image_query(int(np.flatnonzero(fake_engine.gallery.split == SPLITS.index("test"))[0]))
    assert np.all(fake_engine.gallery.split[session.results.indices] == SPLITS.index("test"))
    window.gallery_view.split_combo.setCurrentIndex(window.gallery_view.split_combo.findData(None))
    assert session.settings.split is None, "All splits stays one click away"


def test_without_a_model_or_test_items_everything_is_searched(make_window: Any, fake_engine: Any) -> None:
    assert make_window(fake_engine).session.settings.split is None  # embeddings only: nothing was trained
    fake_engine.image_embedder = object()
    fake_engine.gallery.split[:] = SPLITS.index("train")
    assert make_window(fake_engine).session.settings.split is None
